"""Cancelling an event is final: every hold and booking is cancelled with its reason, tickets
are voided, units released, waitlists closed, each person affected is told once, and nothing
is held, offered or confirmed for the event afterwards, on any path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.audit import AuditEntry
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.lifecycle import cancel_event
from app.domain.events.models import EventStatus
from app.domain.ticketing.allocation import hold_tier, hold_units
from app.domain.ticketing.best_seats import hold_best_available, hold_best_by_id
from app.domain.ticketing.bookings import cancel_booking, claim_free_booking, confirm_booking
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.holds import expire_due_holds
from app.domain.ticketing.models import (
    Booking,
    BookingStatus,
    CancellationReason,
    Ticket,
    TicketStatus,
    Unit,
    WaitlistEntry,
    WaitlistStatus,
)
from app.domain.ticketing.on_sale import EventOnSale
from app.domain.ticketing.seatmap import replace_layout
from app.domain.ticketing.waitlist import OfferSettings, join_waitlist, make_offers
from jobs.ticketing_tasks import advance_waitlists, expire_holds

OFFERS = OfferSettings()


def hold(db, now, tier, user, quantity=1):  # noqa: ANN001, ANN201
    return hold_units(
        db, user=user, event=tier.event, tier=tier, quantity=quantity, now=now, hold_minutes=10
    )


def count(db, model, *where) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(model).where(*where))


def mails(notification_mail, event) -> list[str]:  # noqa: ANN001
    return sorted(m["to"] for m in notification_mail(kind="event_cancelled"))


@pytest.fixture
def busy_event(db, now, make_event, make_tier, make_user):  # noqa: ANN001, ANN201
    """An event with a free and a paid tier: confirmed, held, expired and cancelled bookings,
    and a sold-out tier with a waitlist (one offer made, one person waiting, whose account was
    deleted since)."""
    event = make_event(title="Harbour Jazz Night")
    free = make_tier(event=event, capacity=20)
    paid = make_tier(event=event, capacity=20, price_minor=2500)
    scarce = make_tier(event=event, capacity=1)
    people = {name: make_user(name=name.title()) for name in ("ada", "bo", "cy", "di", "ed", "fi")}
    bookings = {
        "ada_free": hold(db, now, free, people["ada"], 2),
        "ada_paid": hold(db, now, paid, people["ada"]),
        "bo_held": hold(db, now, paid, people["bo"]),
        "cy_expired": hold(db, now - timedelta(hours=1), paid, people["cy"]),
    }
    expire_due_holds(db, now=now, offers=OFFERS)
    confirm_booking(db, bookings["ada_paid"], now=now)
    taken = hold(db, now, scarce, people["di"])
    join_waitlist(db, user=people["ed"], tier=scarce, quantity=1, now=now)
    join_waitlist(db, user=people["fi"], tier=scarce, quantity=1, now=now)
    cancel_booking(db, taken, actor_id=people["di"].id, now=now, offers=OFFERS)  # ed is offered
    people["fi"].deleted_at = now  # a deleted account is not mailed
    db.flush()
    return event, bookings, people


def test_cancel_cancels_every_live_booking_voids_tickets_and_closes_waitlists(
    db, app, now, busy_event, notification_mail
) -> None:  # noqa: ANN001
    event, bookings, people = busy_event
    offer = db.scalars(select(WaitlistEntry).where(WaitlistEntry.user_id == people["ed"].id)).one()
    assert offer.status == WaitlistStatus.OFFERED

    sales = cancel_event(
        db,
        event,
        actor=event.organizer,
        now=now,
        reason="  Storm warning  ",
    )

    db.expire_all()
    assert event.status == EventStatus.CANCELLED and event.cancellation_note == "Storm warning"
    live = [bookings[k].id for k in ("ada_free", "ada_paid", "bo_held")] + [offer.booking_id]
    for booking in db.scalars(select(Booking).where(Booking.id.in_(live))):
        assert booking.status == BookingStatus.CANCELLED
        assert booking.cancellation_reason == CancellationReason.EVENT_CANCELLED
        assert booking.cancelled_at == now and booking.hold_expires_at is None
    assert db.get(Booking, bookings["cy_expired"].id).status == BookingStatus.EXPIRED
    # Earlier cancellations keep their own reason.
    reasons = db.scalars(
        select(Booking.cancellation_reason).where(Booking.user_id == people["di"].id)
    ).all()
    assert reasons == [CancellationReason.BUYER]
    assert sales.bookings == 4 and sales.refund_due == [bookings["ada_paid"].id]
    assert count(db, Ticket, Ticket.status == TicketStatus.VALID) == 0
    assert count(db, Unit, Unit.booking_id.is_not(None)) == 0
    statuses = db.scalars(select(WaitlistEntry.status).order_by(WaitlistEntry.id)).all()
    assert statuses == [WaitlistStatus.CLOSED, WaitlistStatus.CLOSED]
    assert sales.waitlist_closed == 2

    # One mail per living person affected: Ada once for both bookings, Ed (offered), Bo.
    assert mails(notification_mail, event) == sorted(
        p.email for p in (people["ada"], people["bo"], people["ed"])
    )
    (ada,) = notification_mail(people["ada"].email, kind="event_cancelled")
    assert ada["subject"] == f"Cancelled: {event.title}"
    assert bookings["ada_free"].reference in ada["text"]
    assert bookings["ada_paid"].reference in ada["text"]
    assert "Storm warning" in ada["text"] and "refunded" in ada["text"]
    assert f"{app.config['BASE_URL']}/account/bookings" in ada["text"]
    (bo,) = notification_mail(people["bo"].email, kind="event_cancelled")
    assert "refunded" not in bo["text"]  # a hold took no money
    (ed,) = notification_mail(people["ed"].email, kind="event_cancelled")
    assert "waitlist is closed" in ed["text"]

    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "event.cancelled")).one()
    assert audit.data["refund_due"] == [bookings["ada_paid"].id] and audit.data["bookings"] == 4
    cancelled_entries = (AuditEntry.action == "booking.cancelled", AuditEntry.target_id.in_(live))
    assert count(db, AuditEntry, *cancelled_entries) == 4


def test_a_second_cancellation_changes_nothing_and_mails_nobody(
    db, now, busy_event, mailbox, notification_mail
) -> None:  # noqa: ANN001
    event = busy_event[0]
    cancel_event(db, event, actor=event.organizer, now=now)
    sent = (len(mailbox()), len(notification_mail()))
    with pytest.raises(EventError, match="cancelled event cannot be cancelled"):
        cancel_event(db, event, actor=event.organizer, now=now + timedelta(minutes=1))
    assert (len(mailbox()), len(notification_mail())) == sent


def test_bad_cancellations_change_nothing(db, now, make_event, make_tier, make_user) -> None:  # noqa: ANN001
    event = make_event()
    booking = hold(db, now, make_tier(event=event), make_user())
    with pytest.raises(EventInvalid, match="at most 2000"):
        cancel_event(db, event, actor=event.organizer, now=now, reason="x" * 2001)
    over = make_event(starts_at=now - timedelta(hours=3))
    with pytest.raises(EventError, match="over"):
        cancel_event(db, over, actor=over.organizer, now=now)
    db.expire_all()
    assert event.status == over.status == EventStatus.PUBLISHED
    assert db.get(Booking, booking.id).status == BookingStatus.CONFIRMED


@pytest.fixture
def cancelled(db, now, make_event, make_tier, make_user):  # noqa: ANN001, ANN201
    """A cancelled general-admission event, a seated one, and a buyer."""
    event = make_event()
    tier = make_tier(event=event, capacity=5)
    paid = make_tier(event=event, capacity=5, price_minor=1000)
    seated = make_event(is_seated=True)
    zone = make_tier(event=seated, name="Stalls", price_minor=0, capacity=0)
    replace_layout(db, event=seated, text="Row A: 1-6", new_seat_tier=zone, actor_id=None, now=now)
    buyer = make_user()
    for shut in (event, seated):
        cancel_event(db, shut, actor=shut.organizer, now=now)
    db.expire_all()
    seat_ids = db.scalars(select(Unit.id).where(Unit.event_id == seated.id).limit(2)).all()
    return {"tier": tier, "paid": paid, "zone": zone, "buyer": buyer, "seats": seat_ids}


def refused(call) -> str:  # noqa: ANN001
    with pytest.raises(BookingError) as error:
        call()
    return error.value.code


def test_nothing_is_held_after_a_cancellation_on_any_path(db, now, cancelled) -> None:  # noqa: ANN001
    tier, zone, buyer = cancelled["tier"], cancelled["zone"], cancelled["buyer"]
    common = {"user": buyer, "quantity": 2, "now": now, "hold_minutes": 10}
    calls = {
        "form": lambda: hold_tier(db, event_id=tier.event_id, tier_id=tier.id, **common),
        "general admission": lambda: hold_units(db, event=tier.event, tier=tier, **common),
        "chosen seats": lambda: hold_units(
            db, event=zone.event, tier=None, seat_ids=cancelled["seats"], **common
        ),
        "best available": lambda: hold_best_available(db, event=zone.event, tier=zone, **common),
        "best available form": lambda: hold_best_by_id(
            db, event_id=zone.event_id, tier_id=zone.id, **common
        ),
        "waitlist": lambda: join_waitlist(db, user=buyer, tier=tier, quantity=1, now=now),
    }
    for path, call in calls.items():
        assert refused(call) == "event_not_on_sale", path
    assert count(db, Booking) == 0


def test_the_claims_re_check_the_event_themselves(db, now, cancelled) -> None:  # noqa: ANN001
    """A hold that read the event before it was cancelled (as one that waited at the sale gate
    meanwhile did) is still refused, by the claim statement itself."""
    tier, zone, buyer = cancelled["tier"], cancelled["zone"], cancelled["buyer"]

    def as_read_before(event) -> EventOnSale:  # noqa: ANN001
        return EventOnSale(event.id, EventStatus.PUBLISHED.value, event.ends_at, event.is_seated)

    common = {"user": buyer, "quantity": 2, "now": now, "hold_minutes": 10, "gate_held": True}
    calls = {
        "general admission": lambda: hold_units(
            db, event=as_read_before(tier.event), tier=tier, **common
        ),
        "chosen seats": lambda: hold_units(
            db, event=as_read_before(zone.event), tier=None, seat_ids=cancelled["seats"], **common
        ),
        "best available": lambda: hold_best_available(
            db, event=as_read_before(zone.event), tier=zone, **common
        ),
    }
    for path, call in calls.items():
        assert refused(call) == "event_not_on_sale", path
    assert count(db, Booking) == 0


def test_nothing_is_confirmed_or_offered_after_a_cancellation(
    db, now, make_event, make_tier, make_user, notification_mail
) -> None:  # noqa: ANN001
    event = make_event()
    paid = make_tier(event=event, capacity=2, price_minor=1000)
    free = make_tier(event=event, capacity=1)
    buyer, waiting = make_user(), make_user()
    held = hold(db, now, paid, buyer)
    expired = hold(db, now - timedelta(hours=1), paid, make_user())
    expire_due_holds(db, now=now, offers=OFFERS)  # `expired` ran out: its unit is free
    taken = hold(db, now, free, make_user())
    join_waitlist(db, user=waiting, tier=free, quantity=1, now=now)
    cancel_event(db, event, actor=event.organizer, now=now)
    sent = len(notification_mail(kind="waitlist_offer"))

    with pytest.raises(BookingError) as error:
        confirm_booking(db, held, now=now)  # a payment arriving now
    assert error.value.code == "booking_closed"
    with pytest.raises(BookingError) as error:
        confirm_booking(db, expired, now=now)  # a late payment for a hold that ran out
    assert error.value.code == "event_not_on_sale"
    with pytest.raises(BookingError) as error:
        claim_free_booking(db, taken, now=now)
    assert error.value.code == "booking_closed"

    # Units are free again, and the queue is closed: no offer is made, by any sweep.
    entry = db.scalars(select(WaitlistEntry).where(WaitlistEntry.user_id == waiting.id)).one()
    entry.status = WaitlistStatus.WAITING  # even a place that somehow stayed in the queue
    db.flush()
    assert make_offers(db, free.id, now=now, settings=OFFERS) == 0
    assert advance_waitlists(db, now, offers=OFFERS) == 0
    assert entry.status == WaitlistStatus.WAITING
    assert len(notification_mail(kind="waitlist_offer")) == sent
    db.expire_all()
    assert db.get(Booking, expired.id).status == BookingStatus.EXPIRED
    live = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
    assert count(db, Booking, Booking.event_id == event.id, Booking.status.in_(live)) == 0


def test_sweeps_make_no_offers_for_events_that_are_over(
    db, now, make_event, make_tier, make_user, notification_mail
) -> None:  # noqa: ANN001
    """Holds of an event that is over still expire, but their units go to nobody."""
    event = make_event(starts_at=now + timedelta(minutes=5))
    tier = make_tier(event=event, capacity=1, price_minor=500)
    held = hold(db, now, tier, make_user())
    join_waitlist(db, user=make_user(), tier=tier, quantity=1, now=now)
    later = event.ends_at + timedelta(minutes=1)
    assert expire_holds(db, later, offers=OFFERS) == 1
    assert advance_waitlists(db, later, offers=OFFERS) == 0
    db.expire_all()
    assert db.get(Booking, held.id).status == BookingStatus.EXPIRED
    assert db.scalar(select(WaitlistEntry.status)) == WaitlistStatus.WAITING
    assert not notification_mail(kind="waitlist_offer")


def test_the_public_panel_of_a_cancelled_event_sells_nothing(db, now, cancelled) -> None:  # noqa: ANN001
    from app.domain.ticketing.catalog import ticket_panel

    panel = ticket_panel(db, cancelled["tier"].event, now=now)
    assert panel.closed_note == "This event was cancelled: no tickets are on sale."
