// 统计时间 note (templates/assessment/partials/freshness.html): while a recomputation is pending
// or running, ask the server every few seconds and reload once the new numbers are stored.
// A static file, not inline, for the strict Content Security Policy.
(function () {
  "use strict";
  var POLL_MS = 5000;
  var MAX_POLLS = 60; // five minutes, then the note stays as it is

  function watch(note) {
    var url = note.getAttribute("data-url");
    var computed = note.getAttribute("data-computed") || "";
    var polls = 0;
    function tick() {
      polls += 1;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          var changed = (data.computed_at || "") !== computed;
          if (!data.pending && !data.running && changed) {
            window.location.reload();
          } else if (polls < MAX_POLLS) {
            window.setTimeout(tick, POLL_MS);
          }
        })
        .catch(function () { if (polls < MAX_POLLS) window.setTimeout(tick, POLL_MS); });
    }
    window.setTimeout(tick, POLL_MS);
  }

  document.querySelectorAll("[data-lq-freshness]").forEach(function (note) {
    if (note.getAttribute("data-changing") === "1") watch(note);
  });
  document.querySelectorAll("form[data-lq-recompute]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button");
      if (button) {
        button.textContent = button.getAttribute("data-busy-text");
        button.disabled = true;
      }
    });
  });
})();
