// A worker that finds a QR code in one camera frame, so decoding never holds up the page.
// Used where the browser has no BarcodeDetector (see checkin.js).
importScripts("../vendor/jsqr-1.4.0.min.js");

self.onmessage = function (event) {
  var frame = event.data;
  var found = jsQR(new Uint8ClampedArray(frame.pixels), frame.width, frame.height, {
    inversionAttempts: "dontInvert",
  });
  self.postMessage(found ? found.data : null);
};
