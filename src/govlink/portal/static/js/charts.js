// Draws every element with data-chart="ID": the chart's ECharts option is the JSON in <script id="ID">.
// Kept in a file (not inline) so the pages' Content-Security-Policy can forbid inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var source = document.getElementById(element.dataset.chart);
    if (!source || typeof echarts === "undefined") { return; }
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption(JSON.parse(source.textContent));
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
