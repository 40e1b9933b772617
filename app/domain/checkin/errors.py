"""Refusals of the check-in services (a red scan answer is not one: it is an answer)."""

from __future__ import annotations

from app.domain.base import DomainError

MESSAGES = {
    "already_undone": "That check-in was already undone.",
    "scan_id_reused": "This scan id was already used for another ticket.",
    "invalid_scan": "Scan a code or choose a ticket.",
    "too_many_scans": "Too many scans in one sync: send them in smaller batches.",
}


class CheckInError(DomainError):
    code = "check_in"

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES[code], code=code)
