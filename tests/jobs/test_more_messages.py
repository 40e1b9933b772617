"""The hold warning, event changes, the daily sales digest and the messages moved off the outbox
(waitlist offer, moderation decisions, staff invitations), sent through a real SMTP server
(aiosmtpd) by the worker's `deliver_due`, on a clock the tests set."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events import revisions
from app.domain.events.models import EventStatus
from app.domain.events.moderation import approve_revision, reject_event
from app.domain.notifications import digest, event_changes, holds, preferences
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.outbox import OutboxMessage
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking
from app.domain.ticketing.waitlist import OfferSettings
from jobs.notifications import deliver_due
from jobs.relay import deliver_pending
from tests.smtp_sink import SmtpSink

BERLIN = ZoneInfo("Europe/Berlin")


def _sessions(app: Flask):  # noqa: ANN202
    return app.extensions["db"].session


def _rows(db, **where) -> list[Notification]:  # noqa: ANN001, ANN003
    db.expire_all()
    return list(db.scalars(select(Notification).filter_by(**where).order_by(Notification.id)))


def _send(app: Flask, sink: SmtpSink, at: datetime) -> int:
    return deliver_due(_sessions(app), sink.config(app.config), now=at, limit=100)


def _bodies(message) -> tuple[str, str]:  # noqa: ANN001
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


# --- hold about to expire --------------------------------------------------------------------


def test_a_hold_warning_is_queued_once_by_the_sweep_and_sent_in_the_event_time_zone(
    app: Flask, db, now, make_user, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    buyer = make_user(email="hana@example.test", name="Hana")
    booking = make_seated_booking(buyer=buyer, price_minor=2500, title="Night Jazz")
    db.commit()
    ends = booking.hold_expires_at
    assert ends == now + timedelta(minutes=10)
    # The hold transaction itself queued nothing.
    assert _rows(db) == []

    assert holds.schedule_hold_warnings(db, now) == 0  # too far off yet
    at = now + timedelta(minutes=7)
    assert holds.schedule_hold_warnings(db, at) == 1
    assert holds.schedule_hold_warnings(db, at + timedelta(seconds=30)) == 0
    db.commit()
    mail, copy = _rows(db)
    assert mail.key == f"booking:{booking.id}:hold_expiring:email"
    assert copy.channel == Channel.IN_APP and mail.due_at == ends - holds.WARN_BEFORE

    assert _send(app, smtp_sink, at) == 0  # not due yet
    assert _send(app, smtp_sink, ends - holds.WARN_BEFORE) == 2
    (message,) = smtp_sink.messages
    until = ends.astimezone(BERLIN).strftime("%H:%M")
    assert message["Subject"] == f"Your tickets for Night Jazz are held until {until}"
    for body in _bodies(message):
        assert until in body and "Europe/Berlin" in body
        assert f"/account/bookings/{booking.reference}" in body
    assert [row.status for row in _rows(db)] == [NotificationStatus.SENT] * 2


def test_a_hold_warning_is_not_queued_on_rollback_nor_for_short_holds(
    db, now, make_seated_booking
) -> None:
    booking = make_seated_booking(price_minor=2500)
    db.commit()
    assert holds.schedule_hold_warnings(db, now + timedelta(minutes=7)) == 1
    db.rollback()
    assert _rows(db) == []
    short = make_seated_booking(price_minor=2500)
    short.hold_expires_at = short.created_at + timedelta(minutes=3)
    db.commit()
    assert holds.schedule_hold_warnings(db, now + timedelta(minutes=1)) == 0
    assert [row.payload["booking_id"] for row in _rows(db)] == []
    assert booking.id != short.id


def test_a_hold_warning_is_skipped_when_paid_extended_or_run_out(
    app: Flask, db, now, make_user, make_seated_booking, pay_booking, smtp_sink: SmtpSink
) -> None:
    paid, extended, late = (make_seated_booking(price_minor=2500) for _ in range(3))
    db.commit()
    at = now + timedelta(minutes=7)
    assert holds.schedule_hold_warnings(db, at) == 3
    db.commit()
    pay_booking(paid)
    db.get(Booking, extended.id).hold_expires_at += timedelta(minutes=15)
    db.commit()
    # `late` is taken when only 20 seconds of its hold are left.
    assert _send(app, smtp_sink, late.hold_expires_at - timedelta(seconds=20)) >= 6
    assert not [m for m in smtp_sink.messages if "held until" in m["Subject"]]
    reasons = {
        row.payload["booking_id"]: row.last_error
        for row in _rows(db, kind="hold_expiring", channel=Channel.EMAIL)
    }
    assert reasons[paid.id] == "the booking is confirmed"
    assert reasons[extended.id] == "the hold was extended"
    assert reasons[late.id] == "the hold has run out"


# --- event changed ---------------------------------------------------------------------------


def _holders(db, make_event, make_tier, make_user, now):  # noqa: ANN001, ANN202
    from app.domain.ticketing.allocation import hold_units

    start = datetime.combine((now + timedelta(days=40)).date(), time(18, 0), tzinfo=UTC)
    event = make_event(title="Harbour Concert", starts_at=start, ends_at=start + timedelta(hours=2))
    tier = make_tier(event=event, capacity=20)
    ada, bo, cy = (
        make_user(email=f"{n}@example.test", name=n.title()) for n in ("ada", "bo", "cy")
    )
    for person in (ada, ada, bo):  # Ada booked twice: one message for her
        hold_units(db, user=person, event=event, tier=tier, quantity=1, now=now, hold_minutes=10)
    held = hold_units(db, user=cy, event=event, tier=tier, quantity=1, now=now, hold_minutes=10)
    cancel_booking(db, held, actor_id=cy.id, now=now, offers=OfferSettings())
    return event, ada, bo


def _propose(db, event, now, **changes):  # noqa: ANN001, ANN003, ANN202
    values = {**revisions.material_of(event), **changes}
    return revisions.propose(db, event, values, author=event.organizer, now=now)


def test_a_changed_time_and_venue_reach_every_holder_once_from_a_worker_job(
    app: Flask, db, now, make_event, make_tier, make_user, smtp_sink: SmtpSink
) -> None:
    event, ada, bo = _holders(db, make_event, make_tier, make_user, now)
    admin = make_user(role=Role.ADMIN)
    new_start = event.starts_at + timedelta(minutes=90)
    revision = _propose(
        db,
        event,
        now,
        starts_at=new_start.isoformat(),
        ends_at=(new_start + timedelta(hours=2)).isoformat(),
        venue_name="Old Harbour Shed",
    )
    approve_revision(db, revision, admin=admin, now=now)
    db.commit()
    # The request only queued the job: nothing per holder yet.
    assert _rows(db, kind="event_changed") == []
    assert deliver_pending(db, app.config, now=utcnow()) == 1
    db.commit()
    rows = _rows(db, kind="event_changed")
    assert sorted(r.key for r in rows if r.channel == Channel.EMAIL) == sorted(
        f"event:{event.id}:change:{revision.id}:user:{u.id}:event_changed:email" for u in (ada, bo)
    )
    assert len(rows) == 4  # and an in-app copy each
    # The job running again (a retry) adds nothing.
    job = db.scalars(select(OutboxMessage).where(OutboxMessage.topic == event_changes.TOPIC)).one()
    assert event_changes.fan_out(db, job.payload) == 0

    _send(app, smtp_sink, now)  # the confirmations of the free bookings too
    changed = [m for m in smtp_sink.messages if m["Subject"] == "Harbour Concert has changed"]
    assert sorted(m["To"] for m in changed) == ["ada@example.test", "bo@example.test"]
    assert all(r.status == NotificationStatus.SENT for r in _rows(db, kind="event_changed"))
    text, html = _bodies(changed[0])
    day = event.starts_at.astimezone(BERLIN).strftime("%A %d %B %Y")
    for body in (text, html):
        # 18:00 UTC is 19:00 in Berlin in winter and 20:00 in summer: the event's own clock.
        old = (new_start - timedelta(minutes=90)).astimezone(BERLIN).strftime("%H:%M")
        new = new_start.astimezone(BERLIN).strftime("%H:%M")
        assert f"{day}, {old} to" in body and f"{day}, {new} to" in body
        assert "Town Hall, Main Street 1, Berlin" in body
        assert "Old Harbour Shed, Main Street 1, Berlin" in body
        assert "Join link" not in body


def test_changes_that_touch_no_time_venue_or_link_queue_nothing_and_rollback_queues_nothing(
    app: Flask, db, now, make_event, make_tier, make_user
) -> None:
    event, _, _ = _holders(db, make_event, make_tier, make_user, now)
    admin = make_user(role=Role.ADMIN)
    approve_revision(db, _propose(db, event, now, title="Harbour Concert II"), admin=admin, now=now)
    db.commit()
    assert db.scalar(select(func.count()).where(OutboxMessage.topic == event_changes.TOPIC)) == 0
    revision = _propose(db, event, now, online_url="https://meet.example/harbour")
    approve_revision(db, revision, admin=admin, now=now)
    db.rollback()
    assert db.scalar(select(func.count()).where(OutboxMessage.topic == event_changes.TOPIC)) == 0
    assert deliver_pending(db, app.config, now=utcnow()) == 0
    assert _rows(db) == [r for r in _rows(db) if r.kind != "event_changed"]


def test_an_event_change_is_skipped_for_someone_who_cancelled_meanwhile(
    app: Flask, db, now, make_event, make_tier, make_user, smtp_sink: SmtpSink
) -> None:
    event, ada, bo = _holders(db, make_event, make_tier, make_user, now)
    revision = _propose(db, event, now, online_url="https://meet.example/harbour")
    approve_revision(db, revision, admin=make_user(role=Role.ADMIN), now=now)
    db.commit()
    deliver_pending(db, app.config, now=utcnow())
    (bookings_of_bo,) = db.scalars(select(Booking).where(Booking.user_id == bo.id)).all()
    cancel_booking(db, bookings_of_bo, actor_id=bo.id, now=now, offers=OfferSettings())
    db.commit()
    _send(app, smtp_sink, now)
    (message,) = [m for m in smtp_sink.messages if m["Subject"] == "Harbour Concert has changed"]
    assert message["To"] == ada.email
    assert "Now: https://meet.example/harbour" in _bodies(message)[0]
    (skipped,) = _rows(db, kind="event_changed", channel=Channel.EMAIL, user_id=bo.id)
    assert skipped.status == NotificationStatus.SKIPPED


# --- the daily sales digest ------------------------------------------------------------------


def _berlin(day, hour: int) -> datetime:  # noqa: ANN001
    return datetime.combine(day, time(hour), tzinfo=BERLIN).astimezone(UTC)


def _organizer_with_sales(app, smtp_sink, db, now, make_event, make_tier, make_user):  # noqa: ANN001, ANN202
    """An organizer with three tickets sold yesterday in Berlin. The buyers' confirmations,
    due now, are sent here, so that a digest sent later today (when it is before 08:00 in
    Berlin) goes alone."""
    from app.domain.ticketing.allocation import hold_units

    organizer = make_user(role=Role.ORGANIZER, email="olga@example.test", name="Olga")
    event = make_event(organizer=organizer, title="Harbour Concert")
    tier = make_tier(event=event, capacity=20)
    today = now.astimezone(BERLIN).date()
    for hour, quantity in ((10, 2), (23, 1)):  # both yesterday in Berlin (22:xx UTC is not)
        booking = hold_units(
            db,
            user=make_user(),
            event=event,
            tier=tier,
            quantity=quantity,
            now=now,
            hold_minutes=10,
        )
        booking.confirmed_at = _berlin(today - timedelta(days=1), hour) - timedelta(minutes=30)
        booking.total_minor = 1500 * quantity
    db.commit()
    _send(app, smtp_sink, now)
    smtp_sink.messages.clear()
    return organizer, event, today


def test_the_digest_goes_once_a_day_after_the_local_hour_with_unsubscribe_headers(
    app: Flask, db, now, make_event, make_tier, make_user, smtp_sink: SmtpSink
) -> None:
    organizer, event, today = _organizer_with_sales(
        app, smtp_sink, db, now, make_event, make_tier, make_user
    )
    make_user(role=Role.ORGANIZER)  # nothing to report: no event, no sale
    assert digest.schedule_digests(db, _berlin(today, digest.HOUR - 1)) == 0
    at = _berlin(today, digest.HOUR)
    assert digest.schedule_digests(db, at) == 1
    assert digest.schedule_digests(db, at + timedelta(hours=3)) == 0
    db.commit()
    mail, copy = _rows(db, kind="sales_digest")
    assert mail.key == f"organizer:{organizer.id}:sales_digest:{today.isoformat()}:email"
    assert copy.channel == Channel.IN_APP

    assert _send(app, smtp_sink, at) == 2
    (message,) = smtp_sink.messages
    assert (
        message["List-Unsubscribe"].startswith("<http")
        and "/unsubscribe/" in message["List-Unsubscribe"]
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"].endswith(": 3 tickets")
    text, html = _bodies(message)
    when = event.starts_at.astimezone(BERLIN).strftime("%A %d %B %Y, %H:%M")
    for body in (text, html):
        assert "Harbour Concert" in body and when in body and "(Europe/Berlin)" in body
        assert "3 tickets" in body and "45.00" in body

    # The next day: one more (the upcoming event is still worth a line, sales or not).
    assert digest.schedule_digests(db, at + timedelta(days=1)) == 1
    assert digest.schedule_digests(db, at + timedelta(days=1, hours=5)) == 0


def test_a_digest_turned_off_is_written_skipped_and_never_sent(
    app: Flask, db, now, make_event, make_tier, make_user, smtp_sink: SmtpSink
) -> None:
    organizer, _, today = _organizer_with_sales(
        app, smtp_sink, db, now, make_event, make_tier, make_user
    )
    preferences.save_choices(
        db, organizer.id, {(preferences.DIGESTS, Channel.EMAIL): False}, now=now
    )
    at = _berlin(today, digest.HOUR + 1)
    digest.schedule_digests(db, at)
    db.commit()
    (mail,) = _rows(db, kind="sales_digest", channel=Channel.EMAIL)
    assert mail.status == NotificationStatus.SKIPPED
    assert digest.schedule_digests(db, at) == 0
    _send(app, smtp_sink, at)
    assert smtp_sink.messages == []


def test_a_digest_is_skipped_at_send_time_when_the_organizer_is_gone(
    app: Flask, db, now, make_event, make_tier, make_user, smtp_sink: SmtpSink
) -> None:
    organizer, _, today = _organizer_with_sales(
        app, smtp_sink, db, now, make_event, make_tier, make_user
    )
    at = _berlin(today, digest.HOUR)
    assert digest.schedule_digests(db, at) == 1
    db.commit()
    organizer.deleted_at = at
    db.commit()
    _send(app, smtp_sink, at)
    assert smtp_sink.messages == []
    (mail,) = _rows(db, kind="sales_digest", channel=Channel.EMAIL)
    assert mail.status == NotificationStatus.SKIPPED


# --- moved off the outbox --------------------------------------------------------------------


def test_a_rejection_reaches_the_organizer_with_its_reason_once_per_decision(
    app: Flask, db, now, make_event, make_user, smtp_sink: SmtpSink
) -> None:
    event = make_event(status=EventStatus.SUBMITTED, title="Harbour Concert")
    admin = make_user(role=Role.ADMIN)
    db.commit()
    reject_event(db, event, admin=admin, reason="Add the address.", version=event.version, now=now)
    db.rollback()
    assert _rows(db) == []
    reject_event(db, event, admin=admin, reason="Add the address.", version=event.version, now=now)
    db.commit()
    assert _send(app, smtp_sink, now) == 2  # the mail and its in-app copy
    (message,) = smtp_sink.messages
    assert message["Subject"] == "Changes needed: Harbour Concert"
    assert message["To"] == event.organizer.email
    for body in _bodies(message):
        assert "Reason: Add the address." in body and f"/organizer/events/{event.id}/edit" in body


def test_a_staff_invitation_goes_to_an_address_without_an_account_and_not_once_revoked(
    app: Flask, db, now, make_event, make_user, smtp_sink: SmtpSink
) -> None:
    from app.domain.checkin import staff

    organizer = make_user(role=Role.ORGANIZER, name="Olga")
    event = make_event(organizer=organizer, title="Harbour Concert")

    def invite(email: str):  # noqa: ANN202
        return staff.invite(
            db, organizer, email, event.id, now, accept_link=lambda t: f"https://x.test/s/{t}"
        )

    first = invite("kim@example.test")
    invite("lee@example.test")
    staff.revoke_invitation(db, organizer, first.invitation.id, now)
    db.commit()
    rows = _rows(db, kind="staff_invitation")
    assert [(r.channel, r.user_id) for r in rows] == [(Channel.EMAIL, None)] * 2
    _send(app, smtp_sink, now)
    (message,) = smtp_sink.messages
    assert message["To"] == "lee@example.test"
    assert message["Subject"] == "Check-in staff for “Harbour Concert”"
    when = event.starts_at.astimezone(BERLIN).strftime("%H:%M")
    for body in _bodies(message):
        assert "Olga invited you" in body and "https://x.test/s/" in body and when in body
    assert _rows(db, kind="staff_invitation")[0].last_error == "the invitation was withdrawn"


def test_a_waitlist_offer_is_mailed_in_the_event_time_zone_once_and_skipped_once_run_out(
    app: Flask, db, now, make_tier, make_user, smtp_sink: SmtpSink
) -> None:
    from app.domain.ticketing.allocation import hold_units
    from app.domain.ticketing.waitlist import join_waitlist, make_offers

    tier = make_tier(capacity=1, name="Stalls")
    owner, first = make_user(), make_user(email="first@example.test")
    taken = hold_units(
        db, user=owner, event=tier.event, tier=tier, quantity=1, now=now, hold_minutes=10
    )
    join_waitlist(db, user=first, tier=tier, quantity=1, now=now)
    db.commit()
    cancel_booking(db, taken, actor_id=owner.id, now=now, offers=OfferSettings(minutes=30))
    assert make_offers(db, tier.id, now=now, settings=OfferSettings(minutes=30)) == 0  # made once
    db.commit()
    (offer,) = _rows(db, kind="waitlist_offer", channel=Channel.EMAIL)
    booking = db.get(Booking, offer.payload["booking_id"])
    _send(app, smtp_sink, now)
    (message,) = [m for m in smtp_sink.messages if m["Subject"].startswith("Tickets are waiting")]
    assert message["To"] == "first@example.test"
    until = booking.hold_expires_at.astimezone(BERLIN).strftime("%A %d %B %Y, %H:%M")
    for body in _bodies(message):
        assert until in body and "(Europe/Berlin)" in body and "Stalls" in body
        assert f"/account/bookings/{booking.reference}" in body

    # An offer mail still queued when the offer has run out is not sent.
    (offer,) = _rows(db, kind="waitlist_offer", channel=Channel.EMAIL)  # as sent
    offer.status, offer.attempts, offer.due_at = NotificationStatus.PENDING, 0, now
    db.commit()
    smtp_sink.messages.clear()
    _send(app, smtp_sink, booking.hold_expires_at + timedelta(seconds=1))
    row = _rows(db, kind="waitlist_offer", channel=Channel.EMAIL)[0]
    assert row.last_error == ("the offer has run out")
