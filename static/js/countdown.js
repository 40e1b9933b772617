// Hold countdown: the server renders the time left; this only makes it tick.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".countdown[data-seconds]").forEach(function (clock) {
    var endsAt = Date.now() + Number(clock.dataset.seconds) * 1000;
    var timer = setInterval(function () {
      var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      clock.textContent = Math.floor(left / 60) + " min " + String(left % 60).padStart(2, "0") + " s";
      if (left === 0) {
        clearInterval(timer);
        window.location.reload();
      }
    }, 1000);
  });
});
