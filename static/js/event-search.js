// Live search on /events: keep the pushed URL short and shareable by leaving out empty
// filters (the server treats a missing and an empty parameter alike).
document.addEventListener("htmx:configRequest", function (event) {
  var form = document.getElementById("search-form");
  if (!form || !form.contains(event.detail.elt) || event.detail.verb !== "get") return;
  var params = event.detail.parameters;
  Object.keys(params).forEach(function (key) {
    if (params[key] === "") delete params[key];
  });
});
