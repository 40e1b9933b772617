// Check-in without a network: the event's ticket list and public key kept on the phone,
// ticket codes verified here, admissions queued and sent to the server when it answers again.
// The code's format is app/domain/tickets/signing.py's: base32 of
// version (1) | event id (4) | ticket id (8) | check code (4) | Ed25519 signature (64).
window.CheckinOffline = (function () {
  var CODE_BYTES = 81;
  var SIGNED_BYTES = 17;
  var BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  var SYNC_BATCH = 200;
  var opening = null;
  var keys = {};

  function database() {
    opening = opening || new Promise(function (resolve, reject) {
      var request = indexedDB.open("eventhall-checkin", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("bundles", { keyPath: "event_id" });
        request.result.createObjectStore("scans", { keyPath: "scan_id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return opening;
  }

  // One request in one transaction; resolves with its result once the transaction is done.
  function store(name, mode, act) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(name, mode);
        var request = act(transaction.objectStore(name));
        transaction.oncomplete = function () { resolve(request.result); };
        transaction.onerror = function () { reject(transaction.error); };
      });
    });
  }

  function bundle(eventId) {
    return store("bundles", "readonly", function (s) { return s.get(eventId); });
  }

  function queued(eventId) {
    return store("scans", "readonly", function (s) { return s.getAll(); }).then(function (all) {
      return all.filter(function (scan) { return scan.event_id === eventId; });
    });
  }

  function refresh(url, eventId) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("offline list: " + response.status);
        return response.json();
      })
      .then(function (data) {
        data.event_id = eventId;
        return store("bundles", "readwrite", function (s) { return s.put(data); })
          .then(function () { return data; });
      });
  }

  // A ticket the server has just admitted (or found admitted) is admitted here too, so that
  // going offline before the next refresh does not let it in twice.
  function remember(eventId, ticketId) {
    return bundle(eventId).then(function (data) {
      if (!data || data.checked_in.map(String).indexOf(ticketId) >= 0) return;
      data.checked_in.push(ticketId);
      return store("bundles", "readwrite", function (s) { return s.put(data); });
    });
  }

  function base32(text) {
    var clean = text.trim().toUpperCase();
    var bytes = new Uint8Array(Math.floor(clean.length * 5 / 8));
    var bits = 0, value = 0, n = 0;
    for (var i = 0; i < clean.length; i++) {
      var digit = BASE32.indexOf(clean[i]);
      if (digit < 0) return null;
      value = (value << 5) | digit;
      bits += 5;
      if (bits >= 8) {
        bytes[n++] = (value >>> (bits - 8)) & 255;
        bits -= 8;
      }
    }
    return bytes;
  }

  function publicKey(encoded) {
    if (!keys[encoded]) {
      var text = atob(encoded.replace(/-/g, "+").replace(/_/g, "/"));
      var raw = Uint8Array.from(text, function (c) { return c.charCodeAt(0); });
      keys[encoded] = crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    }
    return keys[encoded];
  }

  function timeOf(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  function refused(result, message) {
    return { result: result, message: message, ticket: null, check_in: null };
  }

  // The answer the server would give, from what this phone knows: same shape as its JSON.
  function check(scan, eventId) {
    var raw = base32(scan.code);
    if (!raw || raw.length !== CODE_BYTES || raw[0] !== 1) {
      return Promise.resolve(refused("not_a_ticket", "Not a ticket of this event."));
    }
    var view = new DataView(raw.buffer);
    if (view.getUint32(1) !== eventId) {
      return Promise.resolve(refused("other_event", "Not valid: this ticket is for another event."));
    }
    var ticketId = String(view.getBigUint64(5));
    return Promise.all([bundle(eventId), queued(eventId)]).then(function (found) {
      var data = found[0];
      if (!data) {
        return refused("not_checked", "No ticket list on this phone yet: connect once to download it.");
      }
      return publicKey(data.public_key).then(function (key) {
        return crypto.subtle.verify(
          { name: "Ed25519" }, key, raw.slice(SIGNED_BYTES), raw.slice(0, SIGNED_BYTES)
        );
      }).then(function (genuine) {
        if (!genuine) return refused("not_a_ticket", "Not a ticket of this event.");
        if (data.void.map(String).indexOf(ticketId) >= 0) {
          return refused("void", "Not valid: this ticket was voided.");
        }
        var ticket = Object.assign({ id: ticketId }, data.tickets[ticketId]);
        var earlier = found[1].filter(function (s) { return s.ticket_id === ticketId; })[0];
        if (earlier || data.checked_in.map(String).indexOf(ticketId) >= 0) {
          return {
            result: "already_checked_in",
            message: "Already checked in.",
            ticket: ticket,
            check_in: earlier ? { id: null, at: earlier.scanned_at, gate: earlier.gate, by: null } : null,
          };
        }
        return {
          result: "admitted",
          message: "Valid ticket, checked on this phone: the server hears of it when the network is back.",
          ticket: ticket,
          check_in: { id: null, at: scan.scanned_at, gate: scan.gate, by: null },
        };
      }, function () {
        // Ed25519 in WebCrypto: Chrome 137, Safari 17, Firefox 129 and later.
        return refused("not_checked", "This browser cannot verify tickets: check them when the network is back.");
      });
    });
  }

  function queue(scan, eventId, ticketId) {
    var entry = Object.assign({ event_id: eventId, ticket_id: ticketId }, scan);
    return store("scans", "readwrite", function (s) { return s.put(entry); });
  }

  // Sends the queued admissions, a batch at a time (the server takes 200 at most); resolves
  // with the server's answers, each with its scan.
  function sync(url, eventId, headers) {
    return queued(eventId).then(function (scans) {
      if (!scans.length) return [];
      var batch = scans.slice(0, SYNC_BATCH);
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, headers),
        body: JSON.stringify({ scans: batch.map(function (s) {
          return { scan_id: s.scan_id, code: s.code, gate: s.gate, scanned_at: s.scanned_at };
        }) }),
      }).then(function (response) {
        if (!response.ok) throw Object.assign(new Error("sync: " + response.status), { status: response.status });
        return response.json();
      }).then(function (data) {
        var byId = {};
        batch.forEach(function (s) { byId[s.scan_id] = s; });
        return Promise.all(data.results.map(function (answer) {
          return store("scans", "readwrite", function (s) { return s.delete(answer.scan_id); })
            .then(function () { return Object.assign({ scan: byId[answer.scan_id] }, answer); });
        }));
      }).then(function (answers) {
        if (scans.length <= SYNC_BATCH) return answers;
        return sync(url, eventId, headers).then(function (more) { return answers.concat(more); });
      });
    });
  }

  return {
    bundle: bundle, queued: queued, refresh: refresh, remember: remember,
    check: check, queue: queue, sync: sync, timeOf: timeOf,
  };
})();
