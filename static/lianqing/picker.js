/* The searchable picker (config/pickers.py): a text input that suggests youths, cadres,
   organisations or partners of the user's scope as one types, each with the details that tell
   namesakes apart. Without this script the input still works: the server resolves the typed
   name and offers the namesakes to choose from.

   <div class="lq-picker" data-picker="youth" data-picker-url="/pickers/youth/"
        data-picker-multiple="">           one choice: fills the hidden [data-picker-pk]
                                           several (="1"): adds a checked box per choice */
(function () {
  "use strict";

  function setup(root) {
    var input = root.querySelector("[data-picker-text]");
    var list = root.querySelector(".lq-picker-list");
    var hidden = root.querySelector("[data-picker-pk]");
    var chosen = root.querySelector(".lq-picker-chosen");
    var multiple = root.getAttribute("data-picker-multiple") === "1";
    var url = root.getAttribute("data-picker-url");
    var name = input.getAttribute("name");
    var timer = null;
    var active = -1;
    var seq = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
    }

    function choose(item) {
      var id = item.getAttribute("data-id");
      var label = item.getAttribute("data-label");
      if (multiple) {
        if (!chosen.querySelector('input[value="' + id + '"]')) {
          var chip = document.createElement("label");
          chip.className = "lq-picker-chip";
          var box = document.createElement("input");
          box.type = "checkbox";
          box.name = name + "__pk";
          box.value = id;
          box.checked = true;
          chip.appendChild(box);
          chip.appendChild(document.createTextNode(" " + label));
          chosen.appendChild(chip);
        }
        input.value = "";
      } else {
        input.value = label;
        hidden.value = id;
      }
      var candidates = root.querySelector("[data-picker-candidates]");
      if (candidates) {
        candidates.remove();
      }
      close();
      input.focus();
    }

    function highlight(index) {
      var items = list.querySelectorAll("li[data-id]");
      if (!items.length) {
        return;
      }
      active = (index + items.length) % items.length;
      items.forEach(function (li, i) {
        li.classList.toggle("active", i === active);
        li.setAttribute("aria-selected", i === active ? "true" : "false");
      });
    }

    function show(results) {
      list.textContent = "";
      active = -1;
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "list-group-item text-body-secondary small";
        none.textContent = root.getAttribute("data-picker-none") || "没有找到";
        list.appendChild(none);
      }
      results.forEach(function (row) {
        var li = document.createElement("li");
        li.className = "list-group-item list-group-item-action";
        li.setAttribute("role", "option");
        li.setAttribute("data-id", row.id);
        li.setAttribute("data-label", row.label);
        li.textContent = row.label;
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function search() {
      var q = input.value.trim();
      if (!q) {
        close();
        return;
      }
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (mine === seq) {
            show(data.results || []);
          }
        })
        .catch(close);
    }

    input.addEventListener("input", function () {
      if (hidden) {
        hidden.value = ""; // the text no longer names the chosen row
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) {
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        var item = list.querySelectorAll("li[data-id]")[active];
        if (item) {
          event.preventDefault();
          choose(item);
        }
      } else if (event.key === "Escape") {
        close();
      }
    });
    list.addEventListener("mousedown", function (event) {
      var item = event.target.closest("li[data-id]");
      if (item) {
        event.preventDefault(); // keep the focus in the input
        choose(item);
      }
    });
    input.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });
  }

  document.querySelectorAll(".lq-picker").forEach(setup);
})();
