// Print buttons (data-lq-print): no inline handlers, the coming CSP forbids them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-lq-print]");
  if (button) {
    window.print();
  }
});
