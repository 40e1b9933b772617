"""Which payment providers a buyer is offered for an event."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app

from app.domain.payments.checkout import accepted_providers
from app.integrations.payments import configured_providers
from app.integrations.payments.base import PaymentProvider


def providers_for(event_providers: list[str] | None) -> dict[str, PaymentProvider]:
    """The providers a buyer may pay the event with, by name, in the site's order."""
    providers = configured_providers(current_app.config)
    names = accepted_providers(event_providers, list(providers))
    return {name: providers[name] for name in names}


def checkout_origins(providers: Iterable[PaymentProvider]) -> list[str]:
    """Where the "Pay" form of these providers may lead (for the page's CSP)."""
    return sorted({origin for provider in providers for origin in provider.checkout_origins})
