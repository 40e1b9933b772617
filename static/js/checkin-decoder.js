// A worker that finds a QR code in one camera frame, so decoding never holds up the page.
// Used where the browser has no BarcodeDetector (see checkin.js), which first sends the URL of
// the decoder library. It is served from /checkin/ so that the check-in service worker
// controls it, and the library comes from that worker's cache when the network is gone.
self.onmessage = function (event) {
  var message = event.data;
  if (message.library) {
    importScripts(message.library);
    return;
  }
  var found = jsQR(new Uint8ClampedArray(message.pixels), message.width, message.height, {
    inversionAttempts: "dontInvert",
  });
  self.postMessage(found ? found.data : null);
};
