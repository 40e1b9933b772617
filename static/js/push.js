// Push notifications on the settings page: asks the browser's permission, subscribes through
// the push service worker's PushManager with the site's VAPID key, and hands the subscription
// to the server. Progressive enhancement: without this file the page says that turning push on
// needs JavaScript, and the list of browsers with its remove buttons works as it is.
(function () {
  var box = document.querySelector("[data-push]");
  if (!box) return;
  var status = box.querySelector("[data-push-status]");
  var button = box.querySelector("[data-push-subscribe]");
  var token = document.querySelector('meta[name="csrf-token"]');

  function say(text) {
    status.textContent = text;
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("This browser cannot get push notifications.");
    return;
  }

  function applicationServerKey(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  // PushManager.subscribe needs an active worker; the page is outside the worker's scope, so
  // `navigator.serviceWorker.ready` would never settle here.
  function activeRegistration() {
    return navigator.serviceWorker
      .register(box.dataset.worker, { scope: box.dataset.scope })
      .then(function (registration) {
        var worker = registration.installing || registration.waiting;
        if (registration.active || !worker) return registration;
        return new Promise(function (resolve) {
          worker.addEventListener("statechange", function () {
            if (worker.state === "activated") resolve(registration);
          });
        });
      });
  }

  function subscribe(registration) {
    var options = { userVisibleOnly: true, applicationServerKey: applicationServerKey(box.dataset.key) };
    return registration.pushManager.subscribe(options).catch(function () {
      // Subscribed before with another key (the site's key changed): start afresh.
      return registration.pushManager.getSubscription().then(function (old) {
        return (old ? old.unsubscribe() : Promise.resolve()).then(function () {
          return registration.pushManager.subscribe(options);
        });
      });
    });
  }

  function send(subscription) {
    return fetch(box.dataset.subscribe, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.content : "" },
      body: JSON.stringify(subscription.toJSON()),
    }).then(function (response) {
      if (response.ok) return;
      return response.json().catch(function () { return {}; }).then(function (answer) {
        throw new Error(answer.error || "The site could not save this browser.");
      });
    });
  }

  function turnOn() {
    button.disabled = true;
    say("Asking this browser…");
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw new Error("Notifications are not allowed for this site in this browser.");
        return activeRegistration();
      })
      .then(subscribe)
      .then(send)
      .then(function () {
        location.reload();
      })
      .catch(function (error) {
        say(error.message || "This browser could not be subscribed.");
        button.disabled = false;
      });
  }

  function listed(endpoint) {
    var items = document.querySelectorAll(".push-browsers li[data-endpoint]");
    for (var i = 0; i < items.length; i++) {
      if (items[i].dataset.endpoint === endpoint) return items[i];
    }
    return null;
  }

  button.addEventListener("click", turnOn);
  if (Notification.permission === "denied") {
    say("Notifications are blocked for this site in this browser's settings.");
    return;
  }
  navigator.serviceWorker.getRegistration(box.dataset.scope).then(function (registration) {
    return registration ? registration.pushManager.getSubscription() : null;
  }).then(function (subscription) {
    var item = subscription && Notification.permission === "granted" && listed(subscription.endpoint);
    if (item) {
      item.querySelector(".push-this").hidden = false;
      say("This browser gets push notifications.");
      return;
    }
    say("This browser does not get push notifications yet.");
    button.hidden = false;
  }).catch(function () {
    say("This browser cannot get push notifications.");
  });
})();
