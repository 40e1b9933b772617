"""Why a ticket's guest name cannot be changed: one class per refusal, messages safe to show."""

from __future__ import annotations

from app.domain.base import DomainError


class InvalidGuestName(DomainError):
    """The name typed is too long or holds characters a name cannot have."""

    code = "invalid_guest_name"


class TicketNotNameable(DomainError):
    """The ticket is void, or its booking is not (or no longer) confirmed."""

    code = "ticket_not_nameable"

    def __init__(self) -> None:
        super().__init__("This ticket is no longer valid, so its name cannot be changed.")


class EventAlreadyStarted(DomainError):
    """Names are fixed once the event has started (the door has the list by then)."""

    code = "event_started"

    def __init__(self) -> None:
        super().__init__("The event has started: names on tickets can no longer be changed.")
