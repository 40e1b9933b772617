"""Which payment providers a buyer is offered for an event."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app

from app.domain.payments.checkout import accepted_providers
from app.integrations.payments import configured_providers


def providers_for(event_providers: list[str] | None) -> dict[str, str]:
    """name -> label of the providers a buyer may pay the event with, in the site's order."""
    providers = configured_providers(current_app.config)
    names = accepted_providers(event_providers, list(providers))
    return {name: providers[name].label for name in names}


def checkout_origins(names: Iterable[str]) -> list[str]:
    """Where the "Pay" form of these providers may lead (for the page's CSP)."""
    providers = configured_providers(current_app.config)
    return sorted({origin for name in names for origin in providers[name].checkout_origins})
