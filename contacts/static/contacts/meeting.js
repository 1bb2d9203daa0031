/* The 见面码 screen: [data-lq-reload="N"] reloads the page every N seconds so the QR code shown
   is always a fresh one (codes change every minute and are accepted for one more minute).
   Not while the page is hidden, and not while a form on it is being submitted. */
(function () {
  "use strict";
  var el = document.querySelector("[data-lq-reload]");
  if (!el) { return; }
  var seconds = Math.max(5, parseInt(el.getAttribute("data-lq-reload"), 10) || 20);
  var submitting = false;
  document.addEventListener("submit", function () { submitting = true; });
  window.setInterval(function () {
    if (!submitting && document.visibilityState === "visible") {
      window.location.replace(window.location.pathname);
    }
  }, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !submitting) {
      window.location.replace(window.location.pathname);
    }
  });
})();
