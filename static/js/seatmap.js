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

// A gentle warning before holding seats that would leave a free seat alone in its row (the
// server gives the same warning to a plain form post): "hold anyway" sends `allow_single`.
(function () {
  var ZONE = /\bz\d+\b/;
  function isFree(label) {
    var input = label.querySelector("input");
    return label.classList.contains("free") && !label.classList.contains("wc") &&
      input && !input.disabled && !input.checked;
  }
  function nextTo(a, b) {
    // Seats sit together when no aisle is drawn between them and they share a price zone.
    return b && a && !b.style.getPropertyValue("--gap") &&
      (a.className.match(ZONE) || [""])[0] === (b.className.match(ZONE) || [""])[0];
  }
  function seatName(label) {
    var parts = label.querySelector("input").getAttribute("aria-label").split(", ");
    return parts.slice(0, -2).join(", ");  // without the zone and the price
  }
  function strandedBy(form) {
    var lone = [];
    form.querySelectorAll(".seat-row").forEach(function (row) {
      var seats = Array.prototype.slice.call(row.querySelectorAll("label.seat"));
      if (!row.querySelector("input:checked")) return;
      seats.forEach(function (seat, i) {
        if (!isFree(seat)) return;
        var left = seats[i - 1], right = seats[i + 1];
        var leftNear = nextTo(left, seat), rightNear = nextTo(seat, right);
        var hadNeighbour = (leftNear && (isFree(left) || left.querySelector("input:checked"))) ||
          (rightNear && (isFree(right) || right.querySelector("input:checked")));
        var hasNeighbour = (leftNear && isFree(left)) || (rightNear && isFree(right));
        if (hadNeighbour && !hasNeighbour) lone.push(seatName(seat));
      });
    });
    return lone;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("seat-pick")) return;
    if (form.querySelector('input[name="allow_single"]')) return;
    var lone = strandedBy(form);
    if (!lone.length) return;
    event.preventDefault();
    event.stopPropagation();
    var slot = document.getElementById(form.getAttribute("hx-target").slice(1));
    var box = document.createElement("div");
    box.className = "seat-answer";
    box.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = lone.join(" and ") + (lone.length === 1 ?
      " would be left on its own, which makes it hard to sell." :
      " would each be left on their own, which makes them hard to sell.") +
      " Could you move along by a seat?";
    var anyway = document.createElement("button");
    anyway.type = "button";
    anyway.textContent = "Hold my choice anyway";
    anyway.addEventListener("click", function () {
      var allow = document.createElement("input");
      allow.type = "hidden";
      allow.name = "allow_single";
      allow.value = "y";
      form.appendChild(allow);
      form.addEventListener("htmx:afterRequest", function () { allow.remove(); }, { once: true });
      slot.replaceChildren();
      form.requestSubmit();
    });
    box.append(text, anyway);
    slot.replaceChildren(box);
  }, true);
})();
