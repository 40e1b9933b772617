// Service worker of the ticket pages (/account/bookings/<reference>/tickets), registered by
// tickets.js with the scope /account/bookings/. Network first: online, the page is always
// fresh (and kept); offline, the kept copy is shown. Nothing else is answered from the cache.
var CACHE = "eventhall-tickets-v1";
var TICKETS = /^\/account\/bookings\/[^/]+\/tickets$/;
var STYLES = /^\/static\/css\//;

function keepable(url) {
  return url.origin === self.location.origin && (TICKETS.test(url.pathname) || STYLES.test(url.pathname));
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

// The page asks to keep itself: it was shown before this worker controlled it.
self.addEventListener("message", function (event) {
  var urls = ((event.data && event.data.keep) || [])
    .map(function (href) { return new URL(href, self.location.origin); })
    .filter(keepable);
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        return fetch(url, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
          if (response.ok) return cache.put(url.href, response);
          return cache.delete(url.href); // signed out, or no longer this user's booking
        }).catch(function () {});
      }));
    })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || !keepable(url)) return;
  if (TICKETS.test(url.pathname) && request.mode !== "navigate") return; // htmx and the like
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && response.type === "basic") {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.href, copy); });
      } else if (TICKETS.test(url.pathname)) {
        caches.open(CACHE).then(function (cache) { cache.delete(url.href); });
      }
      return response;
    }).catch(function () {
      return caches.match(url.href, { ignoreVary: true }).then(function (kept) {
        return kept || Response.error();
      });
    })
  );
});
