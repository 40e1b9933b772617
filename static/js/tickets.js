// The ticket page, offline: a service worker keeps the ticket pages this device opened (and
// the stylesheet) and shows the kept copy when the network is gone. Progressive enhancement:
// without this file the page is the same, online only.
(function () {
  if (!("serviceWorker" in navigator) || !window.caches) return;
  function keep() {
    navigator.serviceWorker.ready.then(function (registration) {
      var sheets = Array.prototype.map.call(
        document.querySelectorAll('link[rel="stylesheet"]'),
        function (link) { return link.href; }
      );
      registration.active.postMessage({ keep: [location.pathname].concat(sheets) });
    });
  }
  navigator.serviceWorker
    .register("/account/bookings/tickets-sw.js", { scope: "/account/bookings/" })
    .then(keep)
    .catch(function () {}); // no offline copy, nothing else lost
  // A name changed in place: keep the page as it is now.
  document.addEventListener("htmx:afterSwap", keep);
})();
