/* Quick log: find a youth of the cadre's organisation who is not yet in their list, pick them,
   and tick "add to my list". The search URL and the "nothing found" text come from data
   attributes of #other-results (the template knows the URL and the translation). */
(function () {
  "use strict";
  var results = document.getElementById("other-results");
  var query = document.getElementById("other-q");
  var link = document.getElementById("id_link");
  if (!results || !query) { return; }

  function row(y) {
    var label = document.createElement("label");
    label.className = "list-group-item d-flex gap-2 align-items-center";
    var input = document.createElement("input");
    input.type = "radio"; input.name = "youth"; input.value = y.id;
    input.className = "form-check-input flex-shrink-0";
    input.addEventListener("change", function () { link.checked = true; });
    var text = document.createElement("span");
    text.textContent = y.name + " · " + y.birth_year + " · " + (y.unit || "");
    label.appendChild(input); label.appendChild(text);
    return label;
  }

  function search() {
    var q = query.value.trim();
    if (!q) { return; }
    fetch(results.dataset.url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        results.textContent = "";
        if (!data.results.length) {
          var none = document.createElement("div");
          none.className = "list-group-item text-body-secondary";
          none.textContent = results.dataset.empty;
          results.appendChild(none);
        }
        data.results.forEach(function (y) { results.appendChild(row(y)); });
      });
  }

  document.getElementById("other-search").addEventListener("click", search);
  query.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); search(); }
  });
})();
