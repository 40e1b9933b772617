"""Payment providers: the ones the site has credentials for, by name.

A provider without its credentials is not offered. The demo provider is offered outside
production only (`PAYMENTS_DEMO`, on by default in development and tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.integrations.payments.base import PaymentProvider
from app.integrations.payments.demo import DemoProvider, secret_from


def configured_providers(config: Mapping[str, Any]) -> dict[str, PaymentProvider]:
    """Every provider set up in `config`, in the order the booking page offers them."""
    providers: dict[str, PaymentProvider] = {}
    if config.get("PAYMENTS_DEMO") and config.get("APP_ENV") != "production":
        secret = config.get("DEMO_PAY_SECRET") or secret_from(config["INSTANCE_DIR"])
        providers["demo"] = DemoProvider(secret=secret, base_url=config["BASE_URL"])
    return providers
