"""The HTTP status each domain error answers with.

The domain says what went wrong (an error's class and `code`) and nothing about HTTP; these
tables say how the web answers it. Along the error's class hierarchy, nearest first: a family
whose reasons answer differently (the ticketing family: sold out is a conflict, too many holds
a "wait") decides by the error's code, other classes have one status each; anything else is a
plain 400. Codes are looked up within their family, so two families may share a code.
"""

from __future__ import annotations

from app.domain.accounts.errors import (
    AccountError,
    AccountSuspended,
    InvalidToken,
    ReauthRequired,
    TooManyAttempts,
)
from app.domain.accounts.login import EmailNotVerified
from app.domain.api_tokens.errors import (
    ApiAuthError,
    InvalidRequest,
    PersonalTokenError,
    SecondFactorRequired,
)
from app.domain.api_tokens.idempotency import IdempotencyError
from app.domain.base import Busy, DomainError, Forbidden, NotFound
from app.domain.checkin.errors import CheckInError
from app.domain.events.errors import EventError, EventInvalid
from app.domain.invitations import (
    InvitationClosed,
    InvitationError,
    InvitationForAnotherAccount,
    InvitationNeedsVerifiedEmail,
    TooManyInvitations,
)
from app.domain.money import MoneyError
from app.domain.notifications.push import PushError
from app.domain.payments.errors import PaymentError
from app.domain.teams.membership import TeamError
from app.domain.ticketing.errors import BookingError, CouponError
from app.domain.ticketing.seat_layout import SeatLayoutError
from app.domain.ticketing.seatmap import SeatMapError, SeatsInUse
from app.domain.tickets.errors import EventAlreadyStarted, InvalidGuestName, TicketNotNameable
from app.domain.tickets.signing import InvalidTicketCode
from app.domain.webhooks.endpoints import WebhookError
from app.integrations.storage import ImageRejected
from app.web.public.stream_gate import TooManyStreams

CONFLICT = 409  # the state changed (or is changing) under the request: try again or choose anew
UNPROCESSABLE = 422  # the request is understood, but a rule refuses what it asks
TOO_MANY = 429  # wait before asking again

STATUS_BY_CODE: dict[type[DomainError], dict[str, int]] = {
    BookingError: {
        "sold_out": CONFLICT,
        "seats_taken": CONFLICT,
        "not_together": CONFLICT,
        "single_seats": CONFLICT,
        "hold_expired": CONFLICT,
        "booking_closed": CONFLICT,
        "already_waiting": CONFLICT,
        "tier_in_use": CONFLICT,
        "too_many_holds": TOO_MANY,
        "holds_expired": TOO_MANY,
        "too_many_guesses": TOO_MANY,
        "invalid_seats": UNPROCESSABLE,
        "limit_exceeded": UNPROCESSABLE,
        "sales_closed": UNPROCESSABLE,
        "hidden_tier": UNPROCESSABLE,
        "invalid_quantity": UNPROCESSABLE,
        "invalid_tier": UNPROCESSABLE,
        "event_not_on_sale": UNPROCESSABLE,
        "not_cancellable": UNPROCESSABLE,
        "not_sold_out": UNPROCESSABLE,
        "capacity_too_low": UNPROCESSABLE,
        "invalid_tier_settings": UNPROCESSABLE,
        "price_changed": CONFLICT,
        "coupon_used_up": CONFLICT,
    },
    # Coupons: a code used up (by others, meanwhile) is a conflict, guessing a wait; every
    # other refusal (unknown, expired, not for these tickets) is the class's 422.
    CouponError: {
        "used_up": CONFLICT,
        "code_taken": CONFLICT,
        "too_many_guesses": TOO_MANY,
    },
    IdempotencyError: {"idempotency_in_progress": CONFLICT, "bad_idempotency_key": 400},
    PaymentError: {
        "hold_expired": CONFLICT,
        "not_payable": CONFLICT,
        "not_refundable": CONFLICT,
        "provider_unavailable": 503,
        "unknown_payment": 404,
    },
    # Check-in: undoing twice, or a scan id sent again for another ticket, met another state.
    CheckInError: {
        "already_undone": CONFLICT,
        "scan_id_reused": CONFLICT,
    },
    # Teams: inviting someone who is in the team already met the state of the team.
    TeamError: {"already_member": CONFLICT},
    # Webhooks: sending again what is not failed, or to a disabled endpoint, met its state.
    WebhookError: {"not_failed": CONFLICT, "disabled": CONFLICT},
    # Live streams: the process is full (503), or the client's network has its share (429).
    TooManyStreams: {
        TooManyStreams.PROCESS_FULL: 503,
        TooManyStreams.NETWORK_FULL: TOO_MANY,
    },
}

STATUS_BY_CLASS: dict[type[DomainError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Busy: CONFLICT,
    AccountError: UNPROCESSABLE,
    TooManyAttempts: TOO_MANY,
    InvalidToken: 400,
    ReauthRequired: 403,
    EmailNotVerified: 403,
    AccountSuspended: 403,
    EventError: CONFLICT,
    EventInvalid: UNPROCESSABLE,
    MoneyError: UNPROCESSABLE,
    PushError: UNPROCESSABLE,
    PaymentError: UNPROCESSABLE,
    CouponError: UNPROCESSABLE,
    SeatLayoutError: UNPROCESSABLE,
    SeatMapError: UNPROCESSABLE,
    SeatsInUse: CONFLICT,
    ImageRejected: UNPROCESSABLE,
    InvalidTicketCode: UNPROCESSABLE,
    InvitationError: UNPROCESSABLE,  # door staff's and the team's
    InvitationForAnotherAccount: 403,
    InvitationNeedsVerifiedEmail: 403,
    InvitationClosed: 410,  # expired, revoked or used: the link is gone for good
    TooManyInvitations: TOO_MANY,
    WebhookError: UNPROCESSABLE,
    InvalidGuestName: UNPROCESSABLE,
    TicketNotNameable: CONFLICT,
    EventAlreadyStarted: UNPROCESSABLE,
    CheckInError: UNPROCESSABLE,
    ApiAuthError: 401,  # who is calling is unknown: a missing, bad, expired or revoked token
    SecondFactorRequired: 401,
    InvalidRequest: UNPROCESSABLE,
    IdempotencyError: UNPROCESSABLE,  # the key was used for another request
    PersonalTokenError: UNPROCESSABLE,
}


def http_status(error: DomainError) -> int:
    """The status a response refusing with `error` carries."""
    for cls in type(error).__mro__:
        by_code = STATUS_BY_CODE.get(cls, {})
        if error.code in by_code:
            return by_code[error.code]
        if cls in STATUS_BY_CLASS:
            return STATUS_BY_CLASS[cls]
    return 400
