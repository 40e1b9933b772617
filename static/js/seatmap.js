// Live seat-map updates replace seat rows; keep what the buyer ticked (and the keyboard focus)
// across them, and say which chosen seats someone else took meanwhile.
(function () {
  var chosen = [];
  var focused = null;
  function seatInput(value) {
    return document.querySelector('.seat-grid input[name="seat"][value="' + value + '"]');
  }
  document.addEventListener("htmx:sseBeforeMessage", function () {
    var ticked = document.querySelectorAll('.seat-grid input[name="seat"]:checked');
    chosen = Array.prototype.map.call(ticked, function (input) { return input.value; });
    var active = document.activeElement;
    focused = active && active.name === "seat" ? active.value : null;
  });
  document.addEventListener("htmx:sseMessage", function () {
    var taken = [];
    chosen.forEach(function (value) {
      var input = seatInput(value);
      if (!input) return;
      if (input.disabled) taken.push(input.getAttribute("aria-label"));
      else input.checked = true;
    });
    var input = focused && seatInput(focused);
    if (input && document.activeElement !== input) input.focus({ preventScroll: true });
    var status = document.querySelector(".seat-status");
    if (status && taken.length) status.textContent = "Someone else just took: " + taken.join("; ") + ".";
    chosen = [];
    focused = null;
  });
})();
