// One line chart per outcome measure: each canvas has a json_script sibling "<id>-data".
(function () {
  if (typeof window.Chart === "undefined") return;
  document.querySelectorAll("canvas[id^='chart-']").forEach(function (canvas) {
    var source = document.getElementById(canvas.id + "-data");
    if (!source) return;
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{
          label: data.label,
          data: data.values,
          borderColor: "#005eb8",
          backgroundColor: "#005eb8",
          pointRadius: 4,
          tension: 0
        }]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: false } }
      }
    });
  });
})();
