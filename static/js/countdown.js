// Hold countdown: the server renders the time left; this only makes it tick. A fragment that
// htmx swaps in (the booking after a coupon code) brings its own clock, started on htmx:load.
(function () {
  function start(root) {
    root.querySelectorAll(".countdown[data-seconds]:not([data-ticking])").forEach(function (clock) {
      clock.dataset.ticking = "1";
      var endsAt = Date.now() + Number(clock.dataset.seconds) * 1000;
      var timer = setInterval(function () {
        if (!clock.isConnected) {
          clearInterval(timer); // swapped out: the new fragment has its own clock
          return;
        }
        var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
        clock.textContent = Math.floor(left / 60) + " min " + String(left % 60).padStart(2, "0") + " s";
        if (left === 0) {
          clearInterval(timer);
          window.location.reload();
        }
      }, 1000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { start(document); });
  document.addEventListener("htmx:load", function (event) { start(event.detail.elt); });
})();
