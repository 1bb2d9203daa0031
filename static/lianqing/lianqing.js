/* Page behaviours shared by every app, bound through data attributes: the Content Security
   Policy refuses inline <script> and on…= handler attributes, so pages declare what they need
   and this one static file (loaded by base.html) does it.

   data-lq-print                     a button that prints the page
   data-lq-confirm="question"        a form that asks before it is submitted
   data-lq-busy="#note"              a form whose submission is slow (uploads, imports): its submit
                                     buttons are disabled (no double submission) and #note shown
   data-lq-filter="#list"            a search box that hides the [data-name] items of #list whose
                                     name does not contain what is typed
   data-lq-count="selector"          an element that shows how many elements match `selector`
                                     (e.g. the checked boxes of a list), kept current on change
   data-lq-show-for-kind="value"     a form part shown only while the form's "kind" select has
                                     this value (a channel's "identity shown" box: youth homes) */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-lq-print]")) {
      window.print();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-lq-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    var busy = form.getAttribute("data-lq-busy");
    if (busy) {
      form.querySelectorAll("[type=submit]").forEach(function (button) { button.disabled = true; });
      document.querySelectorAll(busy).forEach(function (note) { note.classList.remove("d-none"); });
    }
  });

  document.querySelectorAll("[data-lq-filter]").forEach(function (input) {
    var items = document.querySelectorAll(input.getAttribute("data-lq-filter") + " [data-name]");
    input.addEventListener("input", function () {
      var q = input.value.trim();
      items.forEach(function (el) {
        el.classList.toggle("d-none", Boolean(q) && el.dataset.name.indexOf(q) === -1);
      });
    });
  });

  function updateCounts() {
    document.querySelectorAll("[data-lq-count]").forEach(function (el) {
      el.textContent = document.querySelectorAll(el.getAttribute("data-lq-count")).length;
    });
  }
  if (document.querySelector("[data-lq-count]")) {
    document.addEventListener("change", updateCounts);
  }

  document.querySelectorAll("[data-lq-show-for-kind]").forEach(function (part) {
    var form = part.closest("form");
    var select = form && form.querySelector("select[name=kind]");
    if (!select) { return; }
    var show = function () {
      part.classList.toggle("d-none", select.value !== part.getAttribute("data-lq-show-for-kind"));
    };
    select.addEventListener("change", show);
    show();
  });
})();
