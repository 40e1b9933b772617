"""Domain errors carry codes; the web layer maps them to HTTP statuses (app/web/error_status.py).

The expected statuses are the ones the views answered with while the statuses still lived on
the domain's error classes: moving them must not change a single response.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import app
from app.domain.accounts.audit_log import AuditFilterInvalid
from app.domain.accounts.errors import (
    AccountError,
    AccountSuspended,
    InvalidCredentials,
    InvalidToken,
    ReauthRequired,
    TooManyAttempts,
    WrongSecret,
)
from app.domain.accounts.login import EmailNotVerified
from app.domain.accounts.models import User
from app.domain.api_tokens.errors import (
    ApiAuthError,
    InsufficientScope,
    InvalidRequest,
    PersonalTokenError,
    RefreshReused,
    SecondFactorRequired,
)
from app.domain.api_tokens.idempotency import IdempotencyError
from app.domain.backoffice.admin_dashboard import BadDashboardRequest
from app.domain.backoffice.attendees import BadAttendeeFilter
from app.domain.backoffice.payment_search import BadPaymentSearch
from app.domain.base import Busy, DomainError, Forbidden, NotFound
from app.domain.checkin.errors import MESSAGES as CHECKIN_MESSAGES
from app.domain.checkin.errors import CheckInError
from app.domain.checkin.staff import StaffError
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.keyset import BadSearch, bad_cursor
from app.domain.invitations import (
    InvitationClosed,
    InvitationError,
    InvitationExpired,
    InvitationForAnotherAccount,
    InvitationNeedsVerifiedEmail,
    InvitationRevoked,
    InvitationUsed,
    TooManyInvitations,
)
from app.domain.money import MoneyError
from app.domain.notifications.push import PushError
from app.domain.payments.errors import MESSAGES as PAYMENT_MESSAGES
from app.domain.payments.errors import PaymentError
from app.domain.teams.access import TwoFactorRequired
from app.domain.teams.membership import TeamError
from app.domain.ticketing.errors import (
    COUPON_MESSAGES,
    MESSAGES,
    BookingError,
    CouponError,
    LeavesSingleSeats,
    OfferedSeat,
    SeatsNotTogether,
    SeatsTaken,
)
from app.domain.ticketing.seat_layout import SeatLayoutError
from app.domain.ticketing.seatmap import SeatMapError, SeatsInUse
from app.domain.tickets.errors import EventAlreadyStarted, InvalidGuestName, TicketNotNameable
from app.domain.tickets.signing import InvalidTicketCode
from app.domain.webhooks.endpoints import WebhookError
from app.integrations.storage import ImageRejected
from app.web.error_status import http_status
from app.web.public.stream_gate import TooManyStreams

BOOKING_STATUSES = {
    "sold_out": 409,
    "seats_taken": 409,
    "not_together": 409,
    "single_seats": 409,
    "invalid_seats": 422,
    "limit_exceeded": 422,
    "too_many_holds": 429,
    "holds_expired": 429,
    "too_many_guesses": 429,
    "sales_closed": 422,
    "hidden_tier": 422,
    "invalid_quantity": 422,
    "invalid_tier": 422,
    "event_not_on_sale": 422,
    "hold_expired": 409,
    "booking_closed": 409,
    "not_cancellable": 422,
    "not_sold_out": 422,
    "already_waiting": 409,
    "capacity_too_low": 422,
    "tier_in_use": 409,
    "invalid_tier_settings": 422,
    "price_changed": 409,
    "coupon_used_up": 409,
}

COUPON_STATUSES = {
    "unknown_code": 422,
    "not_yet_valid": 422,
    "expired": 422,
    "used_up": 409,
    "used_up_by_you": 422,
    "not_for_these_tickets": 422,
    "too_few_tickets": 422,
    "too_many_guesses": 429,
    "invalid_coupon": 422,
    "code_taken": 409,
}

PAYMENT_STATUSES = {
    "provider_not_accepted": 422,
    "not_payable": 409,
    "hold_expired": 409,
    "nothing_to_pay": 422,
    "unknown_payment": 404,
    "provider_unavailable": 503,
    "not_refundable": 409,
    "refund_too_large": 422,
    "invalid_refund": 422,
    "invalid_providers": 422,
}

CHECKIN_STATUSES = {
    "already_undone": 409,
    "scan_id_reused": 409,
    "invalid_scan": 422,
    "too_many_scans": 422,
}

SEAT = OfferedSeat(1, "Stalls, Row A seat 1")
ERRORS: list[tuple[DomainError, int]] = [
    (DomainError("Something is wrong."), 400),
    (NotFound("We could not find that event."), 404),
    (Forbidden("Not yours."), 403),
    (Busy("Many people are booking right now."), 409),
    (MoneyError("Enter an amount like 12.50."), 422),
    (PushError("The push endpoint must be an https address.", code="invalid_endpoint"), 422),
    (PushError("You have 10 browsers getting push notifications already.", code="too_many"), 422),
    (EventError("A draft event cannot be cancelled."), 409),
    (EventInvalid({"title": ["Enter a title."]}), 422),
    (AccountError("That email is taken.", code="email_taken"), 422),
    (AccountError("Enter your name.", code="name_missing", field="name"), 422),
    (WrongSecret("That password is not right.", code="password_wrong"), 422),
    (InvalidCredentials(), 422),
    (TooManyAttempts(60), 429),
    (InvalidToken("That link has expired."), 400),
    (ReauthRequired(), 403),
    (EmailNotVerified(User(email="someone@example.test")), 403),
    (AccountSuspended(), 403),
    (SeatLayoutError(["Line 1: no seats."]), 422),
    (SeatMapError("Choose at least one seat or row."), 422),
    (SeatsInUse("These seats are held or sold."), 409),
    (ImageRejected("The uploaded file is empty."), 422),
    (SeatsTaken([1, 2]), 409),
    (SeatsNotTogether("Stalls", 2, [SEAT]), 409),
    (LeavesSingleSeats([SEAT]), 409),
    (TooManyStreams("Live updates are busy.", code=TooManyStreams.PROCESS_FULL), 503),
    (InvalidTicketCode("bad signature"), 422),
    (InvalidGuestName("Use at most 120 characters for a name."), 422),
    (TicketNotNameable(), 409),
    (EventAlreadyStarted(), 422),
    (TooManyStreams("Too many live views.", code=TooManyStreams.NETWORK_FULL), 429),
    (StaffError("You can check in your own events already.", code="own_address"), 422),
    (InvitationForAnotherAccount("someone@example.test"), 403),
    (InvitationNeedsVerifiedEmail(), 403),
    (InvitationClosed("This invitation can no longer be used."), 410),
    (InvitationExpired(), 410),
    (InvitationRevoked(), 410),
    (InvitationUsed(), 410),
    (TooManyInvitations(), 429),
    (InvitationError("That is not an invitation.", code="other"), 422),
    (TeamError("This is your own team.", code="own_address"), 422),
    (TeamError("In your team already.", code="already_member"), 409),
    (WebhookError("Choose at least one event.", code="no_events"), 422),
    (WebhookError("Only a failed delivery can be sent again.", code="not_failed"), 409),
    (WebhookError("Enable the endpoint first.", code="disabled"), 409),
    (ApiAuthError(), 401),
    (RefreshReused(1, 1), 401),
    (SecondFactorRequired(), 401),
    (InsufficientScope("checkin"), 403),
    (TwoFactorRequired(), 403),
    (InvalidRequest("Send a JSON object."), 422),
    (IdempotencyError("Used for another request.", code="idempotency_key_reused"), 422),
    (IdempotencyError("Still running.", code="idempotency_in_progress"), 409),
    (IdempotencyError("Too long.", code="bad_idempotency_key"), 400),
    (PersonalTokenError("Choose at least one scope.", code="no_scope"), 422),
    (BadAttendeeFilter("Choose a booking status from the list."), 400),
    (AuditFilterInvalid("date_to", "The end date is before the start date."), 400),
    (BadPaymentSearch("Search for at most 255 characters."), 400),
    (BadDashboardRequest("Pick a range of at most 366 days."), 400),
    (BadSearch("Ignored an unknown sort order."), 400),
    (bad_cursor(), 400),
]


@pytest.mark.parametrize(
    ("error", "status"), ERRORS, ids=[f"{type(e).__name__}-{e.code}" for e, _ in ERRORS]
)
def test_each_error_answers_with_its_former_status(error: DomainError, status: int) -> None:
    assert http_status(error) == status


@pytest.mark.parametrize(("code", "status"), sorted(BOOKING_STATUSES.items()))
def test_each_booking_code_answers_with_its_former_status(code: str, status: int) -> None:
    assert http_status(BookingError(code)) == status


def test_every_booking_code_is_covered() -> None:
    assert set(BOOKING_STATUSES) == set(MESSAGES)


@pytest.mark.parametrize(("code", "status"), sorted(PAYMENT_STATUSES.items()))
def test_each_payment_code_answers_with_its_status(code: str, status: int) -> None:
    assert http_status(PaymentError(code)) == status


def test_every_payment_code_is_covered() -> None:
    assert set(PAYMENT_STATUSES) == set(PAYMENT_MESSAGES)


@pytest.mark.parametrize(("code", "status"), sorted(COUPON_STATUSES.items()))
def test_each_coupon_code_answers_with_its_status(code: str, status: int) -> None:
    assert http_status(CouponError(code)) == status


def test_every_coupon_code_is_covered() -> None:
    assert set(COUPON_STATUSES) == set(COUPON_MESSAGES)


@pytest.mark.parametrize(("code", "status"), sorted(CHECKIN_STATUSES.items()))
def test_each_checkin_code_answers_with_its_status(code: str, status: int) -> None:
    assert http_status(CheckInError(code)) == status


def test_every_checkin_code_is_covered() -> None:
    assert set(CHECKIN_STATUSES) == set(CHECKIN_MESSAGES)


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_domain_error_in_the_app_is_covered() -> None:
    """A new error class must be added above, with the status it should answer."""
    for module in pkgutil.walk_packages(app.__path__, "app."):
        importlib.import_module(module.name)
    covered = {type(error) for error, _ in ERRORS} | {
        BookingError,
        PaymentError,
        CouponError,
        CheckInError,
    }
    assert _subclasses(DomainError) - covered == set()


def test_the_domain_knows_no_http_statuses() -> None:
    for cls in {DomainError} | _subclasses(DomainError):
        assert "status" not in vars(cls), cls


def test_a_code_counts_within_its_own_family_only() -> None:
    assert http_status(AccountError("Not a booking.", code="sold_out")) == 422
    assert http_status(DomainError("Not a stream.", code=TooManyStreams.PROCESS_FULL)) == 400
