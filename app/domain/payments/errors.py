"""The payments error family: one code per reason, each with a message safe to show a buyer."""

from __future__ import annotations

from app.domain.base import DomainError

MESSAGES: dict[str, str] = {
    "provider_not_accepted": "That way of paying is not available for this event.",
    "not_payable": "This booking has nothing left to pay.",
    "hold_expired": "Your hold has expired and the tickets went back on sale.",
    "nothing_to_pay": "These tickets are free: confirm them instead.",
    "unknown_payment": "We could not find that payment.",
    "provider_unavailable": "The payment provider could not be reached. Please try again.",
    "not_refundable": "Nothing of this booking can be refunded.",
    "refund_too_large": "That is more than what is left to refund.",
    "invalid_refund": "Choose the tickets to refund, or an amount.",
    "invalid_providers": "Choose at least one of the ways of paying on offer.",
}


class PaymentError(DomainError):
    """A payment or refund request that cannot be carried out; nothing was changed."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES[code], code=code)
