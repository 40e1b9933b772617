"""Payment providers: the ones the site has credentials for, by name.

A provider without all its credentials is not offered (a key without its webhook secret could
take money but never hear that it did). The demo provider is offered outside production only
(`PAYMENTS_DEMO`, on by default in development and tests). Each provider's module (and its
SDK, a second or so of imports for all three) is loaded only when it is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.integrations.payments.base import PaymentProvider
from app.integrations.payments.demo import DemoProvider, secret_from


def _all_set(config: Mapping[str, Any], *names: str) -> bool:
    return all(config.get(name) for name in names)


def configured_providers(config: Mapping[str, Any]) -> dict[str, PaymentProvider]:
    """Every provider set up in `config`, in the order the booking page offers them."""
    providers: dict[str, PaymentProvider] = {}
    if _all_set(config, "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        from app.integrations.payments.stripe_provider import StripeProvider

        providers["stripe"] = StripeProvider(
            secret_key=config["STRIPE_SECRET_KEY"],
            webhook_secret=config["STRIPE_WEBHOOK_SECRET"],
            api_base=config.get("STRIPE_API_BASE") or "",
        )
    if _all_set(config, "RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET"):
        from app.integrations.payments.razorpay_provider import RazorpayProvider

        providers["razorpay"] = RazorpayProvider(
            key_id=config["RAZORPAY_KEY_ID"],
            key_secret=config["RAZORPAY_KEY_SECRET"],
            webhook_secret=config["RAZORPAY_WEBHOOK_SECRET"],
            site_name=config.get("SITE_NAME") or "Eventhall",
            api_base=config.get("RAZORPAY_API_BASE") or "",
        )
    if _all_set(config, "PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"):
        from app.integrations.payments.paypal_provider import PayPalProvider

        providers["paypal"] = PayPalProvider(
            client_id=config["PAYPAL_CLIENT_ID"],
            client_secret=config["PAYPAL_CLIENT_SECRET"],
            webhook_id=config["PAYPAL_WEBHOOK_ID"],
            api_base=config.get("PAYPAL_API_BASE") or "",
        )
    if config.get("PAYMENTS_DEMO") and config.get("APP_ENV") != "production":
        secret = config.get("DEMO_PAY_SECRET") or secret_from(config["INSTANCE_DIR"])
        providers["demo"] = DemoProvider(secret=secret, base_url=config["BASE_URL"])
    return providers
