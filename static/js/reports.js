// Leadline reports: draws the charts from the figures the page carries as JSON
// (json_script), so the Content-Security-Policy needs no inline script.
(function () {
  "use strict";

  var canvas = document.getElementById("lead-source-chart");
  var source = document.getElementById("lead-source-chart-data");
  if (!canvas || !source || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);

  function series(label, values, color) {
    return { label: label, data: values, backgroundColor: color, borderColor: color, borderWidth: 1 };
  }

  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        series("Created", data.created, "#0d6efd"),
        series("Qualified", data.qualified, "#198754"),
        series("Disqualified", data.disqualified, "#dc3545")
      ]
    },
    options: {
      responsive: true,
      aspectRatio: 2.8,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: "bottom" } }
    }
  });
})();
