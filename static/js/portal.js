// Starts nhsuk-frontend's components and the portal's own small behaviours. The script tag
// carries the bundle's URL in data-nhsuk-frontend, so it stays the hashed name collectstatic
// gives it in production.
const script = document.querySelector("script[data-nhsuk-frontend]");

import(script.dataset.nhsukFrontend).then(({ initAll }) => {
  initAll();
  // Components in content that htmx swaps in need starting too. initAll only looks below its
  // scope, so the scope is the new element's parent; components already running there raise
  // an InitError, which is expected and dropped. htmx also fires this once for the whole body
  // at start-up, which initAll() above has covered.
  document.addEventListener("htmx:load", (event) => {
    const scope = event.target.parentElement;
    if (event.target === document.body || !scope) return;
    initAll({
      scope,
      onError: (error) => {
        if (error.name !== "InitError") console.error(error);
      },
    });
  });
});

// A button with data-portal-print prints the page (the discharge summary's "Print" button):
// no inline onclick handler, which the Content-Security-Policy would refuse.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-portal-print]")) {
    window.print();
  }
});
