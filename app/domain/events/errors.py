"""Errors of the events area; every message is safe to show to the user."""

from __future__ import annotations

from app.domain.base import DomainError


class EventError(DomainError):
    """An event action that cannot happen in the event's current state."""

    code = "event_error"


class EventInvalid(DomainError):
    """Submitted event data breaks a rule; `errors` maps each field to its messages."""

    code = "invalid"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors.values()))[0] if errors else "Some of what you sent needs fixing."
        super().__init__(first)
        self.errors = errors


def invalid(field: str, message: str) -> EventInvalid:
    """An `EventInvalid` for one field."""
    return EventInvalid({field: [message]})
