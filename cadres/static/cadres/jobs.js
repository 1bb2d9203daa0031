/* A background job's progress on its page (cadres/import_detail.html): the element with
   data-lq-job="<url>" polls the JSON at <url> every second, moves its [data-lq-job-bar] progress
   and [data-lq-job-done] count, and reloads the page once the status is no longer the one in
   data-lq-job-status (the page then shows the result). No inline script: the CSP is strict. */
(function () {
  "use strict";
  document.querySelectorAll("[data-lq-job]").forEach(function (box) {
    var url = box.getAttribute("data-lq-job");
    var running = box.getAttribute("data-lq-job-status");
    var bar = box.querySelector("[data-lq-job-bar]");
    var done = box.querySelector("[data-lq-job-done]");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) { setTimeout(poll, 3000); return; }
          if (job.status !== running) { window.location.reload(); return; }
          if (bar && job.total) { bar.max = job.total; bar.value = job.done; }
          if (done) { done.textContent = job.done; }
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    poll();
  });
})();
