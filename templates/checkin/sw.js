// The check-in pages' service worker: the door page opens and scans with no network.
// Door pages: network first (the latest counts and sign-in state), the last copy when offline.
// Static files and the decoder's worker: from the cache, which is named after their contents
// (see checkin_pwa.py).
// Anything else, and every POST, goes to the network untouched: answers are never cached.
var CACHE = {{ cache_name|tojson }};
var FILES = {{ files|tojson }};
var SCOPE = {{ scope|tojson }};
var STATIC = {{ static_prefix|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("checkin-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// The door page asks to be kept as soon as the worker is ready: its first visit came before
// the worker controlled it, and it must open offline from then on.
self.addEventListener("message", function (event) {
  if (!event.data || !event.data.keep) return;
  var url = new URL(event.data.keep, self.location.href);
  url.search = "";
  if (url.origin !== self.location.origin || url.pathname.indexOf(SCOPE) !== 0) return;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.add(url.href);
  }).then(function () {
    event.source.postMessage({ kept: event.data.keep });
  }));
});

// Pages with a query (a search, a gate chosen in the link) are not kept, or every search would
// be; offline they open as the page without it.
function doorPage(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected && !new URL(request.url).search) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, { ignoreVary: true, ignoreSearch: true }).then(function (cached) {
      return cached || Response.error();
    });
  });
}

function staticFile(request) {
  return caches.match(request).then(function (cached) {
    return cached || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.indexOf(SCOPE) === 0) {
    event.respondWith(doorPage(request));
  } else if (url.pathname.indexOf(STATIC) === 0 || FILES.indexOf(url.pathname) >= 0) {
    event.respondWith(staticFile(request));
  }
});
