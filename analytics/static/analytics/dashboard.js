// Draws the KPI charts from the figures the page embeds (json_script); Chart.js is served locally.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("kpi-data").textContent);
  const labels = data.names;
  new Chart(document.getElementById("kpi-volume"), {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { type: "line", label: labels.conversations, data: data.conversations, borderColor: "#417690" },
        { label: labels.bot_resolved, data: data.bot_resolved, backgroundColor: "#79aec8", stack: "s" },
        { label: labels.handed_over, data: data.handed_over, backgroundColor: "#f5a623", stack: "s" },
      ],
    },
    options: { responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  new Chart(document.getElementById("kpi-satisfaction"), {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [{ label: labels.satisfaction, data: data.satisfaction, borderColor: "#2e7d32", spanGaps: true }],
    },
    options: { responsive: true, scales: { y: { min: 0, max: 100 } } },
  });
})();
