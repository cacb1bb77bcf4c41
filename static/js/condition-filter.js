// Progressive enhancement: type to narrow a list of checkboxes (the conditions on the referral's
// clinical details step). The input names its list in data-filter-target; without JS the input
// stays hidden and every option is shown. Ticked options always stay visible.
document.querySelectorAll("input[data-filter-target]").forEach((input) => {
  const list = document.getElementById(input.dataset.filterTarget);
  if (!list) return;
  input.hidden = false;
  input.addEventListener("input", () => {
    const term = input.value.trim().toLowerCase();
    list.querySelectorAll(".nhsuk-checkboxes__item").forEach((item) => {
      const text = item.textContent.toLowerCase();
      const checked = item.querySelector("input").checked;
      item.hidden = term !== "" && !text.includes(term) && !checked;
    });
  });
});
