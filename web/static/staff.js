// Draws the overview's charts from the JSON the page carries (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var labels = JSON.parse(document.getElementById("chart-labels").textContent);
  Chart.defaults.font.family = "Vazirmatn, Tahoma, sans-serif";
  Chart.defaults.color = "#1b1f24";
  var faDigits = function (value) {
    return String(value).replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[d]; });
  };
  var common = {
    locale: "fa-IR",
    animation: false,
    maintainAspectRatio: false,
    plugins: { legend: { rtl: true, labels: { boxWidth: 14 } }, tooltip: { rtl: true } },
    scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: faDigits } } }
  };
  var daily = document.getElementById("chart-daily");
  if (daily) {
    new Chart(daily, {
      type: "line",
      data: {
        labels: data.daily.labels,
        datasets: [
          { label: labels.delivered, data: data.daily.delivered, borderColor: "#0b4f8a",
            backgroundColor: "#0b4f8a", borderWidth: 2, pointRadius: 2, tension: 0.2 },
          { label: labels.viewed, data: data.daily.viewed, borderColor: "#1d6b36", backgroundColor: "#1d6b36",
            borderWidth: 2, borderDash: [6, 4], pointRadius: 2, pointStyle: "rect", tension: 0.2 }
        ]
      },
      options: Object.assign({}, common, {
        scales: { x: { reverse: true, ticks: { maxRotation: 60, autoSkip: true, maxTicksLimit: 10 } },
                  y: common.scales.y }
      })
    });
  }
  var buckets = document.getElementById("chart-buckets");
  if (buckets) {
    new Chart(buckets, {
      type: "bar",
      data: {
        labels: data.buckets.keys.map(function (key) { return labels.buckets[key]; }),
        datasets: [{ label: labels.notices, data: data.buckets.values,
                     backgroundColor: ["#0b4f8a", "#2f6fa8", "#5a8fbf", "#86acd2", "#a3211a"] }]
      },
      options: Object.assign({}, common, {
        plugins: { legend: { display: false }, tooltip: { rtl: true } },
        scales: { x: { reverse: true }, y: common.scales.y }
      })
    });
  }
})();

// The proof page's print button.
(function () {
  "use strict";
  var button = document.getElementById("print-page");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
