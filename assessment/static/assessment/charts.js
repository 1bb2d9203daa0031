/* Dashboard charts (ECharts, vendored). Data comes from <script type="application/json"> blocks
   written by json_script; every chart has a table beside it with the same numbers. */
(function () {
  "use strict";
  var RED = ["#b3261e", "#e0812f", "#2f7fc1", "#3b9b5b", "#8e5bb5", "#c9a227", "#5a6270", "#d55a8a", "#1f9e9e"];
  // Tooltips are drawn inside the chart (richText): ECharts' HTML tooltips carry style=""
  // attributes, which the Content Security Policy refuses (style-src without 'unsafe-inline').
  function tip(trigger) { return { trigger: trigger, renderMode: "richText" }; }
  var charts = [];
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function bar(el, labels, values, name) {
    return {
      color: RED, grid: { left: 40, right: 12, top: 24, bottom: 40 }, tooltip: tip("axis"),
      xAxis: { type: "category", data: labels, axisLabel: { interval: 0, fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: name, data: values, label: { show: true, position: "top" } }]
    };
  }
  var builders = {
    pairs: function (d, el) {
      return bar(el, d.map(function (x) { return x[0]; }), d.map(function (x) { return x[1]; }), el.dataset.name || "");
    },
    weeks: function (d) {
      return {
        color: RED, tooltip: tip("axis"), legend: { top: 0, type: "scroll" },
        grid: { left: 40, right: 12, top: 36, bottom: 40 },
        xAxis: { type: "category", data: d.weeks.map(function (w) { return w[0].slice(5); }) },
        yAxis: { type: "value", minInterval: 1 },
        series: d.channels.map(function (c, i) {
          return { type: "bar", stack: "all", name: c[1], data: d.weeks.map(function (w) { return w[1][i]; }) };
        })
      };
    },
    pie: function (d) {
      return {
        color: RED, tooltip: tip("item"), legend: { bottom: 0, type: "scroll" },
        series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
          data: d.map(function (x) { return { name: x[0], value: x[1] }; }), label: { formatter: "{b}: {c}" } }]
      };
    }
  };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var d = data(el.dataset.source);
    if (!d || !window.echarts) { return; }
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(builders[el.dataset.chart](d, el));
    el.setAttribute("data-rendered", "1");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
