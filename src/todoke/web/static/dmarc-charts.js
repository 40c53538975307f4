/* DMARC pages: charts over the tables already on the page, copy buttons, drag and drop upload.
   Progressive enhancement only: every page reads and works without this file (CSP forbids
   inline scripts, so the data comes from <script type="application/json"> elements). */
(function () {
  "use strict";

  var PASS = "#1b6e2f";
  var FAIL = "#a4161a";

  function readJson(id) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    try { return JSON.parse(element.textContent); } catch (error) { return null; }
  }

  function drawStacked(canvas) {
    var data = readJson(canvas.dataset.source);
    if (!data || typeof window.Chart !== "function" || !data.labels.length) { return; }
    var box = canvas.parentElement;
    box.hidden = false;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: canvas.dataset.labelPass, data: data.pass, backgroundColor: PASS, stack: "dmarc" },
          { label: canvas.dataset.labelFail, data: data.fail, backgroundColor: FAIL, stack: "dmarc" }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
    // The table stays for screen readers and for exact figures; folded once the chart shows.
    var figure = canvas.closest("figure");
    var table = figure && figure.nextElementSibling;
    if (table && table.matches("details.chart-table")) { table.open = false; }
  }

  function copyText(button) {
    var target = document.getElementById(button.dataset.copy);
    if (!target) { return; }
    var text = target.textContent.trim();
    var done = function () {
      var original = button.textContent;
      button.textContent = button.dataset.copied;
      window.setTimeout(function () { button.textContent = original; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(target); });
    } else {
      selectText(target);
    }
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function showChosen(zone, input) {
    var list = zone.querySelector(".dropzone-files");
    if (!list) { return; }
    var names = Array.prototype.map.call(input.files, function (file) { return file.name; });
    list.textContent = names.length ? list.dataset.chosen + " " + names.join(", ") : "";
  }

  function enhanceDropzone(zone) {
    var input = zone.querySelector("input[type=file]");
    var hint = zone.querySelector(".dropzone-hint");
    if (!input) { return; }
    if (hint) { hint.hidden = false; }
    zone.classList.add("enhanced");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showChosen(zone, input);
      }
    });
    input.addEventListener("change", function () { showChosen(zone, input); });
  }

  function start() {
    document.querySelectorAll("canvas[data-chart=stacked]").forEach(drawStacked);
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copyText(button); });
    });
    document.querySelectorAll("[data-dropzone]").forEach(enhanceDropzone);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
