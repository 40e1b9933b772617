"""Which providers the site offers: those with all their credentials, in a fixed order."""

from __future__ import annotations

from pathlib import Path

from app.config import load_config
from app.integrations.payments import configured_providers
from app.integrations.payments.paypal_provider import PayPalProvider
from app.integrations.payments.razorpay_provider import RazorpayProvider
from app.integrations.payments.stripe_provider import StripeProvider

CREDENTIALS = {
    "STRIPE_SECRET_KEY": "sk_test_1",
    "STRIPE_WEBHOOK_SECRET": "whsec_1",
    "RAZORPAY_KEY_ID": "rzp_test_1",
    "RAZORPAY_KEY_SECRET": "rzp_secret_1",
    "RAZORPAY_WEBHOOK_SECRET": "rzp_whsec_1",
    "PAYPAL_CLIENT_ID": "paypal_1",
    "PAYPAL_CLIENT_SECRET": "paypal_secret_1",
    "PAYPAL_WEBHOOK_ID": "WH-1",
}


def config(tmp_path: Path, **env: str) -> dict[str, object]:
    return load_config({"APP_ENV": "test", "INSTANCE_DIR": str(tmp_path), **env})


def test_every_provider_with_credentials_in_order(tmp_path: Path) -> None:
    providers = configured_providers(config(tmp_path, **CREDENTIALS))

    assert list(providers) == ["stripe", "razorpay", "paypal", "demo"]
    assert all(name == provider.name for name, provider in providers.items())
    assert isinstance(providers["stripe"], StripeProvider)
    assert isinstance(providers["razorpay"], RazorpayProvider)
    assert isinstance(providers["paypal"], PayPalProvider)
    assert providers["paypal"].api_base == "https://api-m.sandbox.paypal.com"


def test_a_provider_missing_a_credential_is_not_offered(tmp_path: Path) -> None:
    for missing in CREDENTIALS:
        env = {name: value for name, value in CREDENTIALS.items() if name != missing}
        offered = configured_providers(config(tmp_path, **env))
        assert len(offered) == 3, missing


def test_only_the_demo_without_credentials_and_nothing_in_production(tmp_path: Path) -> None:
    assert list(configured_providers(config(tmp_path))) == ["demo"]
    production = {
        "APP_ENV": "production",
        "SECRET_KEY": "x" * 32,
        "BASE_URL": "https://tickets.example.com",
    }
    assert list(configured_providers(config(tmp_path, **production))) == []
    live = configured_providers(config(tmp_path, **production, **CREDENTIALS))
    assert list(live) == ["stripe", "razorpay", "paypal"]


def test_api_bases_come_from_the_settings(tmp_path: Path) -> None:
    providers = configured_providers(
        config(
            tmp_path,
            **CREDENTIALS,
            PAYPAL_API_BASE="https://api-m.paypal.com",
            RAZORPAY_API_BASE="http://127.0.0.1:9",
        )
    )

    assert providers["paypal"].api_base == "https://api-m.paypal.com"
    assert providers["razorpay"].client.base_url == "http://127.0.0.1:9"
