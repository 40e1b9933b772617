// Opens the provider's checkout on our page (Razorpay's checkout.js) with the options the
// server made, and hands what it returns to our server, which asks the provider before
// believing it.
(function () {
  "use strict";
  var button = document.getElementById("checkout-open");
  var form = document.getElementById("checkout-done");
  var source = document.getElementById("checkout-options");
  if (!button || !form || !source) return;
  var data = JSON.parse(source.textContent);
  function open() {
    if (typeof window.Razorpay !== "function") return;
    var checkout = new window.Razorpay({
      key: data.key_id,
      order_id: data.order_id,
      amount: data.amount,
      currency: data.currency,
      name: data.name,
      description: data.description,
      prefill: data.prefill || {},
      handler: function (answer) {
        ["razorpay_payment_id", "razorpay_order_id", "razorpay_signature"].forEach(function (name) {
          form.elements[name].value = answer[name] || "";
        });
        form.submit();
      }
    });
    checkout.open();
  }
  button.addEventListener("click", open);
  window.addEventListener("load", open);
})();
