// Service worker of push notifications, served from /account/notifications/push/sw.js and
// registered by push.js with that folder as its scope (no page lives there: it answers no
// requests). A push carries JSON {title, body, url}; a click on the notification focuses a tab
// already showing its page, or opens one. Only pages of this site are opened.
self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function onThisSite(href) {
  try {
    var url = new URL(href, self.location.origin);
    // The server's idea of its address (BASE_URL) may differ from the one in use here.
    return new URL(url.pathname + url.search + url.hash, self.location.origin).href;
  } catch (error) {
    return new URL("/account/notifications", self.location.origin).href;
  }
}

self.addEventListener("push", function (event) {
  var message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(message.title || "New notification", {
      body: message.body || "",
      data: { url: onThisSite(message.url || "/account/notifications") },
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || onThisSite("/");
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (tabs) {
      for (var i = 0; i < tabs.length; i++) {
        if (tabs[i].url === url && "focus" in tabs[i]) return tabs[i].focus();
      }
      return self.clients.openWindow(url);
    })
  );
});
