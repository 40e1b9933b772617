"""Which causes queue which transactional mail, once each, and what every kind says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.domain.notifications import messages
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.ticketing.bookings import cancel_booking, confirm_booking


def _queued(db, channel: Channel = Channel.EMAIL) -> list[tuple[str, str | None]]:  # noqa: ANN001
    rows = db.scalars(
        select(Notification).where(Notification.channel == channel).order_by(Notification.id)
    )
    return [(n.kind, n.recipient) for n in rows]


@pytest.mark.parametrize("kind", sorted(messages.KINDS))
def test_every_kind_previews_both_parts_with_sample_data(app, now, kind: str) -> None:  # noqa: ANN001
    mail = messages.preview(kind, app.config, now)
    assert mail.subject and "Sample concert" in mail.text
    assert "Sample concert" in mail.html and "<html" in mail.html
    assert "Europe/Paris" in mail.text and mail.attachments == []


def test_a_free_claim_queues_its_confirmation_once(
    db, now, make_user, make_seated_booking, notification_mail
) -> None:  # noqa: ANN001
    buyer = make_user(email="free@example.test")
    booking = make_seated_booking(buyer=buyer)
    confirm_booking(db, booking, now=now)  # again: nothing new
    row, copy = db.scalars(select(Notification).order_by(Notification.channel)).all()
    assert (row.kind, row.channel, row.status) == (
        "booking_confirmed",
        Channel.EMAIL,
        NotificationStatus.PENDING,
    )
    assert row.user_id == buyer.id and row.payload == {"booking_id": booking.id}
    assert (copy.kind, copy.channel, copy.user_id, copy.recipient) == (
        "booking_confirmed",
        Channel.IN_APP,
        buyer.id,
        None,
    )
    (mail,) = notification_mail("free@example.test")
    assert booking.reference in mail["text"]


def test_a_paid_booking_is_confirmed_by_mail_once_and_a_rollback_leaves_none(
    db, now, make_user, make_seated_booking, pay_booking
) -> None:  # noqa: ANN001
    buyer = make_user(email="paid@example.test")
    booking = make_seated_booking(buyer=buyer, price_minor=2500)
    db.commit()
    assert _queued(db) == []  # a hold is not confirmed
    pay_booking(booking)
    db.rollback()
    assert _queued(db) == [], "the mail exists only if the confirmation committed"
    pay_booking(booking)
    db.commit()
    assert _queued(db) == [("booking_confirmed", "paid@example.test")]
    assert _queued(db, Channel.IN_APP) == [("booking_confirmed", None)]


def test_cancelling_a_free_booking_tells_its_buyer_and_a_released_hold_does_not(
    db, now, make_user, make_seated_booking, notification_mail
) -> None:  # noqa: ANN001
    starts = datetime(now.year + 1, 7, 1, 17, 0, tzinfo=UTC)  # 19:00 in Berlin (summer)
    buyer = make_user(email="cancel@example.test")
    free = make_seated_booking(buyer=buyer, starts_at=starts, ends_at=starts.replace(hour=19))
    held = make_seated_booking(buyer=buyer, price_minor=1000)
    cancel_booking(db, held, actor_id=buyer.id, now=now)
    cancel_booking(db, free, actor_id=buyer.id, now=now)
    (mail,) = notification_mail("cancel@example.test", kind="booking_cancelled")
    assert mail["subject"] == f"Booking {free.reference} is cancelled"
    assert "19:00 Europe/Berlin" in mail["text"]
    assert [kind for kind, _ in _queued(db)] == ["booking_confirmed", "booking_cancelled"]


@pytest.mark.parametrize("kind", sorted(messages.KINDS))
def test_every_kind_has_a_short_form_for_sms_and_push(app, now, kind: str) -> None:  # noqa: ANN001
    short = messages.short_preview(kind, app.config, now)
    assert short.title and short.text.startswith(f"{app.config['SITE_NAME']}: ")
    assert short.url in short.text or kind == "staff_invitation"
    assert short.url.startswith(str(app.config["BASE_URL"]).rstrip("/"))
    assert "\n" not in short.text and len(short.text) <= 320
