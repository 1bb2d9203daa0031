/* The scrutineers' share boxes: how many of the 64 symbols are in, as they type or paste
   (data-lq-share="64" on the textarea; the count goes into the element after it). The symbols
   counted are those the server reads (Crockford base32; dashes, spaces and line breaks are
   ignored, O/I/L read as 0/1/1), so "64 / 64" means the length is right, not that it is valid. */
(function () {
  "use strict";
  var symbols = /[0-9A-HJKMNP-TV-Z]/g;
  document.querySelectorAll("[data-lq-share]").forEach(function (box) {
    var want = parseInt(box.getAttribute("data-lq-share"), 10);
    var note = document.getElementById(box.id + "-count");
    if (!note) { return; }
    function update() {
      var text = box.value.toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
      var n = (text.match(symbols) || []).length;
      note.textContent = note.getAttribute("data-template").replace("%n", n).replace("%w", want);
      note.classList.toggle("text-success", n === want);
      note.classList.toggle("text-danger", n > want);
    }
    box.addEventListener("input", update);
    update();
  });
})();
