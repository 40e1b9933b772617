// The door page's scanner, over its plain form (#scan-form, which works without this file):
// the camera reads a ticket's QR code, the server answers, the whole screen turns green or red.
// Without a network the phone checks the code itself (checkin-offline.js) and queues the
// admission until the server answers again.
(function () {
  var script = document.currentScript;
  var mount = document.getElementById("scanner");
  var form = document.getElementById("scan-form");
  var panel = document.getElementById("scan-result");
  if (!mount || !form || !panel || !window.fetch || !window.CheckinOffline) return;
  var offline = window.CheckinOffline;
  var eventId = Number(mount.dataset.eventId);
  var token = document.querySelector('meta[name="csrf-token"]');
  var FRAME_MS = 200;  // five frames a second is quick enough and spares the phone's battery
  var SHOW_MS = { ok: 1500, bad: 3000 };  // staff read a refusal longer than an admission
  var REPEAT_MS = 2000;  // the camera keeps seeing the code just answered: not a new scan
  var ANSWER_WAIT_MS = 5000;  // then the phone decides alone, as when offline
  var REFRESH_MS = 60000;
  var VERDICTS = {
    admitted: "Valid",
    already_checked_in: "Already checked in",
    other_event: "Another event",
    void: "Not valid",
    not_a_ticket: "Not a ticket",
  };

  var video = null, stream = null, detect = null, audio = null;
  var paused = false, lastCode = null, ignoreUntil = 0, run = 0;
  var pageKept = false, signedOut = false;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  var startButton = element("button", "scanner-start", "Start camera");
  startButton.type = "button";
  var viewfinder = element("div", "scanner-view");
  viewfinder.hidden = true;
  var status = element("p", "scanner-status");
  status.setAttribute("role", "status");
  var problems = element("ul", "scanner-problems");
  var flash = element("div", "scan-flash");
  flash.hidden = true;
  flash.setAttribute("aria-hidden", "true");  // the answer is read out from #scan-result
  mount.classList.add("scanner");
  mount.append(startButton, viewfinder, status, problems, flash);

  function gate() {
    var field = form.elements.gate;
    return (field && field.value.trim()) || mount.dataset.gate || "Main";
  }

  function csrfHeaders() {
    return token ? { "X-CSRFToken": token.content } : {};
  }

  // --- the camera and the decoder ---

  function nativeDetector() {
    var detector = new BarcodeDetector({ formats: ["qr_code"] });
    return function () {
      return detector.detect(video).then(function (codes) {
        return codes.length ? codes[0].rawValue : null;
      }, function () { return null; });  // a frame it could not read: try the next one
    };
  }

  // The decoder is loaded with the page, not with the camera: the network may be gone by then.
  function workerDetector() {
    var worker = new Worker(script.dataset.decoder);
    worker.postMessage({ library: script.dataset.decoderLibrary });
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var pending = null, broken = false;
    worker.onmessage = function (event) {
      if (pending) pending.resolve(event.data);
      pending = null;
    };
    worker.onerror = function () {
      broken = true;
      if (pending) pending.reject(new Error("The QR decoder could not load"));
      pending = null;
    };
    return function () {
      if (broken) return Promise.reject(new Error("The QR decoder could not load"));
      var scale = Math.min(1, 640 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var frame = context.getImageData(0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve, reject) {
        pending = { resolve: resolve, reject: reject };
        worker.postMessage(
          { pixels: frame.data.buffer, width: frame.width, height: frame.height },
          [frame.data.buffer]
        );
      });
    };
  }

  function chooseDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(workerDetector());
    return BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? nativeDetector() : workerDetector();
    });
  }
  var detectorReady = chooseDetector();

  // One chain of frames per start of the camera (`run`): a stop ends it.
  function scanFrames(current) {
    if (current !== run) return;
    var next = function () { setTimeout(scanFrames, FRAME_MS, current); };
    if (paused || document.hidden || video.readyState < 2) return next();
    detect().then(function (text) {
      if (text && current === run) answerCode(text, false);  // not a frame read after a stop
      next();
    }, function (error) {
      stopCamera();
      status.textContent = error.message + ": type the code below instead.";
    });
  }

  function startCamera() {
    startButton.disabled = true;
    audio = audio || (window.AudioContext ? new AudioContext() : null);
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (media) {
        stream = media;
        video = video || element("video");
        video.muted = true;
        video.playsInline = true;
        video.setAttribute("aria-label", "Camera");
        video.srcObject = stream;
        viewfinder.replaceChildren(video);
        viewfinder.hidden = false;
        return Promise.all([video.play(), detectorReady]);
      })
      .then(function (ready) {
        detect = ready[1];
        startButton.textContent = "Stop camera";
        scanFrames(++run);
      })
      .catch(function (error) {
        stopCamera();
        status.textContent = "The camera could not start (" + error.name + "): type the code below instead.";
      })
      .then(function () { startButton.disabled = false; });
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    run++;
    viewfinder.hidden = true;
    startButton.textContent = "Start camera";
  }

  startButton.addEventListener("click", function () {
    if (stream) stopCamera(); else startCamera();
  });

  // --- asking the server, or the phone when the server cannot answer ---

  function post(scan) {
    var data = new FormData(form);
    data.set("code", scan.code);
    data.set("gate", scan.gate);
    data.set("scan_id", scan.scan_id);
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, ANSWER_WAIT_MS);
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: Object.assign({ Accept: "application/json" }, csrfHeaders()),
      signal: abort.signal,
    }).then(function (response) {
      clearTimeout(timer);
      if (response.status >= 500) throw new Error("server: " + response.status);
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!json) return { result: "error", message: "No answer from the server: reload the page (signed out?)." };
      return response.json().then(function (body) {
        return response.ok ? body : { result: "error", message: body.message || "Enter the code printed under the QR code." };
      });
    });
  }

  function checkHere(scan) {
    return offline.check(scan, eventId).then(function (answer) {
      answer.offline = true;
      if (answer.result !== "admitted") return answer;
      return offline.queue(scan, eventId, answer.ticket.id).then(function () {
        showQueue();
        return answer;
      });
    });
  }

  // A ticket the server has let in is in for this phone too, until the next ticket list.
  function rememberAdmitted(answer) {
    if (answer.ticket && (answer.result === "admitted" || answer.result === "already_checked_in")) {
      offline.remember(eventId, String(answer.ticket.id));
    }
  }

  function check(code) {
    var scan = {
      scan_id: crypto.randomUUID(), code: code, gate: gate(), scanned_at: new Date().toISOString(),
    };
    if (!navigator.onLine) return checkHere(scan);
    return post(scan).then(function (answer) {
      rememberAdmitted(answer);
      sync();
      return answer;
    }, function () { return checkHere(scan); });
  }

  // --- the answer ---

  // The answer in the markup of the server's own (templates/checkin/_result.html).
  function verdict(answer, withUndo) {
    var ok = answer.result === "admitted";
    var box = element("div", "verdict " + (ok ? "verdict-ok" : "verdict-bad"));
    box.dataset.result = answer.result;
    var head = element("p", "verdict-head", " " + (VERDICTS[answer.result] || "Not checked"));
    head.prepend(element("span", "", ok ? "\u2713" : "\u2717"));
    head.firstChild.setAttribute("aria-hidden", "true");
    box.append(head);
    var ticket = answer.ticket;
    if (ticket) {
      box.append(element("p", "verdict-name", ticket.name || "No name"));
      if (ticket.tier) {
        box.append(element("p", "verdict-detail", ticket.tier + (ticket.seat ? " \u00b7 " + ticket.seat : "")));
      }
    }
    var first = answer.check_in;
    if (answer.result === "already_checked_in" && first) {
      box.append(element("p", "verdict-reason", "First in at " + offline.timeOf(first.at) +
        (first.gate ? ", gate " + first.gate : "") + (first.by ? ", by " + first.by : "") +
        (answer.offline ? " (on this phone)" : "")));
    } else if (!ok || answer.offline) {
      box.append(element("p", "verdict-reason", answer.message));
    }
    if (ok && withUndo && answer.check_in && answer.check_in.id) box.append(undoForm(answer.check_in.id));
    return box;
  }

  function undoForm(checkInId) {
    var undo = element("form", "verdict-undo");
    undo.method = "post";
    undo.action = mount.dataset.undoUrl;
    undo.setAttribute("hx-post", mount.dataset.undoUrl);
    undo.setAttribute("hx-target", "#scan-result");
    undo.setAttribute("hx-swap", "innerHTML");
    [["csrf_token", token ? token.content : ""], ["check_in_id", checkInId]].forEach(function (field) {
      var input = element("input");
      input.type = "hidden";
      input.name = field[0];
      input.value = field[1];
      undo.append(input);
    });
    var button = element("button", "secondary small", "Undo check-in");
    button.type = "submit";
    undo.append(button);
    return undo;
  }

  function signal(ok) {
    if (navigator.vibrate) navigator.vibrate(ok ? 100 : [100, 80, 100]);
    if (!audio) return;
    var tone = audio.createOscillator();
    var volume = audio.createGain();
    tone.type = ok ? "sine" : "square";
    tone.frequency.value = ok ? 880 : 220;
    volume.gain.value = 0.1;
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + (ok ? 0.12 : 0.4));
  }

  // Shows the answer over the whole screen; resolves when it is gone (after a while, or a tap).
  function show(answer) {
    var ok = answer.result === "admitted";
    panel.replaceChildren(verdict(answer, true));
    if (window.htmx) htmx.process(panel);
    flash.replaceChildren(verdict(answer, false));
    flash.hidden = false;
    signal(ok);
    return new Promise(function (resolve) {
      var done = function () {
        clearTimeout(timer);
        flash.removeEventListener("click", done);
        flash.hidden = true;
        resolve();
      };
      var timer = setTimeout(done, SHOW_MS[ok ? "ok" : "bad"]);
      flash.addEventListener("click", done);
    });
  }

  var typedNext = null;  // a code typed while an answer is on screen: answered after it
  function answerCode(code, typed) {
    if (paused) {
      if (typed) typedNext = code;
      return;
    }
    if (!typed && code === lastCode && Date.now() < ignoreUntil) return;
    paused = true;
    check(code)
      .catch(function (error) { return { result: "error", message: "Could not check: " + error.message }; })
      .then(show)
      .then(function () {
        lastCode = code;
        ignoreUntil = Date.now() + REPEAT_MS;
        paused = false;
        var next = typedNext;
        typedNext = null;
        if (next) answerCode(next, true);
      });
  }

  // A code typed into the form goes the same way as a scanned one, online or not.
  document.addEventListener("submit", function (event) {
    if (event.target !== form) return;
    event.preventDefault();
    event.stopPropagation();
    audio = audio || (window.AudioContext ? new AudioContext() : null);
    var field = form.elements.code;
    if (!field.value.trim()) return;
    answerCode(field.value.trim(), true);
    field.value = "";
  }, true);

  // --- the queue and the ticket list ---

  function showQueue() {
    return offline.queued(eventId).then(function (scans) {
      var waiting = scans.length;
      if (waiting) {
        status.textContent = waiting + (waiting === 1 ? " scan" : " scans") + " waiting to sync" +
          (!navigator.onLine ? ": no network, checking tickets on this phone." :
            signedOut ? ": log in again to send them." : ".");
      } else if (!navigator.onLine) {
        status.textContent = "No network: checking tickets on this phone.";
      } else {
        return offline.bundle(eventId).then(function (data) {
          if (!data) status.textContent = "";
          else if (pageKept) status.textContent = "Ready offline (ticket list of " + offline.timeOf(data.generated_at) + ").";
          else status.textContent = "Ticket list of " + offline.timeOf(data.generated_at) + " on this phone.";
        });
      }
    });
  }

  // What the server said of an admission made offline that it did not confirm: a ticket
  // another gate had admitted too (the conflict), or one voided meanwhile.
  function report(answer) {
    var ticket = answer.ticket ? [answer.ticket.name, answer.ticket.seat].filter(Boolean).join(", ") : "";
    var text = answer.conflict ? answer.message :
      "admitted offline at " + offline.timeOf(answer.scan.scanned_at) + ", but: " + answer.message;
    problems.append(element("li", "scan-problem", (ticket || "A ticket") + ": " + text));
  }

  var syncing = null;
  function sync() {
    syncing = syncing || offline.sync(mount.dataset.syncUrl, eventId, csrfHeaders())
      .then(function (answers) {
        signedOut = false;
        answers.forEach(function (answer) {
          rememberAdmitted(answer);
          if (answer.conflict || answer.result !== "admitted") report(answer);
        });
      }, function (error) { signedOut = error.status === 401; })
      .then(function () {
        syncing = null;
        return showQueue();
      });
    return syncing;
  }

  function refresh() {
    if (!navigator.onLine) return showQueue();
    return offline.refresh(mount.dataset.offlineUrl, eventId).catch(function () {}).then(sync);
  }

  window.addEventListener("online", refresh);
  window.addEventListener("offline", showQueue);
  setInterval(refresh, REFRESH_MS);
  refresh();

  // Logging out clears the phone's storage for this site (Clear-Site-Data), waiting scans
  // included: send them first, and ask before losing those that could not be sent.
  var logout = document.querySelector('form[action="/logout"]');
  if (logout) {
    logout.addEventListener("submit", function (event) {
      event.preventDefault();
      (navigator.onLine ? sync() : Promise.resolve()).then(function () {
        return offline.queued(eventId);
      }).then(function (scans) {
        var lost = scans.length === 1 ? "1 scan has" : scans.length + " scans have";
        if (!scans.length || window.confirm(lost + " not been sent yet. Logging out deletes " +
            (scans.length === 1 ? "it" : "them") + " from this phone. Log out anyway?")) {
          logout.submit();
        }
      });
    });
  }

  // The page reopens without a network once the service worker keeps it: at once when it
  // came through that worker, else when the worker (new on this phone) says it has it.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(script.dataset.serviceWorker);  // its scope: /checkin/
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.kept === location.href) {
        pageKept = true;
        showQueue();
      }
    });
    if (navigator.serviceWorker.controller) {
      pageKept = true;
    } else {
      navigator.serviceWorker.ready.then(function (registration) {
        registration.active.postMessage({ keep: location.href });
      });
    }
  }
})();
