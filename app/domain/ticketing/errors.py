"""The ticketing error family: one code per reason, each with a message safe to show a buyer."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from app.domain.base import DomainError

# code -> the message a buyer reads (the web layer picks the HTTP status: app/web/error_status.py)
MESSAGES: dict[str, str] = {
    "sold_out": "Sorry, there are not enough tickets left for that.",
    "seats_taken": "These seats were just taken. Please pick others.",
    "not_together": "There are not that many seats together any more.",
    "single_seats": "Your choice would leave a single seat on its own.",
    "invalid_seats": "Some of those seats cannot be booked. Please pick others.",
    "limit_exceeded": "That is more tickets than one person may book for this event.",
    "too_many_holds": "You have started many bookings for this event. Please wait.",
    "holds_expired": "Your last holds for this event ran out. Please wait.",
    "too_many_guesses": "Too many wrong access codes. Please wait.",
    "sales_closed": "Tickets of this type are not on sale right now.",
    "hidden_tier": "That ticket type needs a valid access code.",
    "invalid_quantity": "Please choose a valid number of tickets.",
    "invalid_tier": "That ticket type is not available for this event.",
    "event_not_on_sale": "This event is not selling tickets.",
    "hold_expired": "Your hold has expired and the tickets went back on sale.",
    "booking_closed": "This booking can no longer be changed.",
    "not_cancellable": "This booking cannot be cancelled here.",
    "not_sold_out": "Tickets are still available: book them directly.",
    "already_waiting": "You are already on the waitlist for these tickets.",
    "capacity_too_low": "Capacity cannot go below what is sold or held.",
    "tier_in_use": "This ticket type has bookings and cannot be deleted.",
    "invalid_tier_settings": "Please check the ticket type's settings.",
    "price_changed": "The price of this booking changed before the payment arrived.",
    "coupon_used_up": "Your hold ran out and its code was used up meanwhile.",
}

# The coupon family: a code the buyer typed, or an organizer's coupon settings.
COUPON_MESSAGES: dict[str, str] = {
    "unknown_code": "That code is not valid for this event.",
    "not_yet_valid": "That code cannot be used yet.",
    "expired": "That code is no longer valid.",
    "used_up": "That code has been used up.",
    "used_up_by_you": "You have already used that code as often as it allows.",
    "not_for_these_tickets": "That code does not apply to these tickets.",
    "too_few_tickets": "That code needs more tickets in the booking.",
    "too_many_guesses": "Too many codes that did not work. Please wait.",
    "invalid_coupon": "Please check the coupon's settings.",
    "code_taken": "This event already has a coupon with that code.",
}


def wait_phrase(left: timedelta) -> str:
    """How long someone must wait, for a message: "40 seconds", "7 minutes"."""
    seconds = math.ceil(left.total_seconds())
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


class BookingError(DomainError):
    """A booking, tier or waitlist request that cannot be carried out; nothing was changed."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES[code], code=code)


class CouponError(DomainError):
    """A coupon code that cannot be applied, or coupon settings refused; nothing was changed."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or COUPON_MESSAGES[code], code=code)


@dataclass(frozen=True)
class OfferedSeat:
    """A seat suggested to a buyer, who may hold it (nothing is held yet)."""

    id: int
    label: str  # "Stalls, Row F seat 12"


class SeatsTaken(BookingError):
    """Some chosen seats were taken (or are being claimed) by someone else: `seat_ids`."""

    def __init__(self, seat_ids: Collection[int]) -> None:
        super().__init__("seats_taken")
        self.seat_ids = sorted(seat_ids)


class SeatsNotTogether(BookingError):
    """Enough seats are left, but not `quantity` together: `seats` is what we suggest instead."""

    def __init__(self, tier_name: str, quantity: int, seats: list[OfferedSeat]) -> None:
        shown = " and ".join(seat.label for seat in seats)
        super().__init__(
            "not_together",
            f"{tier_name}: no {quantity} seats together are left. "
            f"{quantity} seats, not together: {shown}.",
        )
        self.seats = seats


class LeavesSingleSeats(BookingError):
    """Holding the chosen seats would leave `seats` alone in their rows; the buyer may go on."""

    def __init__(self, seats: list[OfferedSeat]) -> None:
        shown = " and ".join(seat.label for seat in seats)
        verb = "would be left on its own" if len(seats) == 1 else "would each be left on their own"
        super().__init__(
            "single_seats",
            f"{shown} {verb}, which makes {'it' if len(seats) == 1 else 'them'} hard to sell. "
            "Could you move along by a seat?",
        )
        self.seats = seats
