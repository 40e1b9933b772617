// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) return;
  // Form errors come back as 422 with the re-rendered form, refusals as 409 or 429 (wait and
  // try again) with what happened: swap them in like a 200.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "409", swap: true },
    { code: "429", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];
  htmx.config.includeIndicatorStyles = false;
  htmx.config.allowEval = false;
  var token = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (token) event.detail.headers["X-CSRFToken"] = token.content;
  });
});
