"""The admin's events: every status found and filtered; unpublish, feature on the home page and
cancel (paid bookings refunded, holders and organizer told), each audited with before/after,
and every refusal changing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.audit import AuditEntry
from app.domain.base import utcnow
from app.domain.events.models import Event, EventStatus
from app.domain.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import Booking, BookingStatus
from jobs.relay import deliver_pending


@pytest.fixture
def admin_client(app: Flask, make_user, login_as):  # noqa: ANN001, ANN201
    admin = make_user(role=Role.ADMIN, name="Ada Admin")
    client = app.test_client()
    login_as(client, admin)
    return client


@pytest.fixture
def organizer(make_user):  # noqa: ANN001, ANN201
    return make_user(role=Role.ORGANIZER, name="Oona Org", email="oona@example.test")


@pytest.fixture
def upcoming(db, make_event, organizer):  # noqa: ANN001, ANN201
    starts = utcnow() + timedelta(days=10)
    event = make_event(organizer=organizer, title="Lighthouse Folk Night", starts_at=starts)
    db.commit()
    return event


def _audit(db, action: str) -> list[AuditEntry]:  # noqa: ANN001
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _state(db, event_id: int) -> tuple:  # noqa: ANN001
    db.expire_all()
    event = db.get(Event, event_id)
    count = db.scalar(select(func.count()).select_from(AuditEntry))
    return event.status, event.featured_at, event.rejection_reason, count


def test_the_list_shows_every_status_and_filters_by_status_and_search(
    admin_client, db, make_event, make_user, organizer
) -> None:  # noqa: ANN001
    other = make_user(role=Role.ORGANIZER, email="zed@example.test")
    make_event(organizer=organizer, title="Published Picnic")
    make_event(organizer=organizer, title="Draft Dinner", status=EventStatus.DRAFT)
    make_event(organizer=other, title="Submitted Supper", status=EventStatus.SUBMITTED)
    db.commit()
    html = admin_client.get("/admin/events").get_data(as_text=True)
    assert all(t in html for t in ("Published Picnic", "Draft Dinner", "Submitted Supper"))
    assert "oona@example.test" in html
    drafts = admin_client.get("/admin/events?status=draft").get_data(as_text=True)
    assert "Draft Dinner" in drafts and "Published Picnic" not in drafts
    by_email = admin_client.get("/admin/events?q=ZED@example").get_data(as_text=True)
    assert "Submitted Supper" in by_email and "Draft Dinner" not in by_email
    by_title = admin_client.get("/admin/events?q=picnic&status=nonsense")
    assert by_title.status_code == 200
    assert "Published Picnic" in by_title.get_data(as_text=True)
    fragment = admin_client.get("/admin/events?q=dinner", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "Draft Dinner" in fragment.get_data(as_text=True)


def test_the_list_pages(admin_client, db, make_event, organizer, now) -> None:  # noqa: ANN001
    for n in range(51):
        make_event(organizer=organizer, title=f"Gig {n:02d}", starts_at=now + timedelta(days=n + 1))
    db.commit()
    first = admin_client.get("/admin/events").get_data(as_text=True)
    assert "Gig 50" in first and "Gig 00" not in first and "page=2" in first
    second = admin_client.get("/admin/events?page=2").get_data(as_text=True)
    assert "Gig 00" in second and "Gig 50" not in second


def test_feature_shows_on_the_home_page_until_unfeatured(
    admin_client, client, db, upcoming
) -> None:  # noqa: ANN001
    assert "Featured" not in client.get("/").get_data(as_text=True)
    done = admin_client.post(f"/admin/events/{upcoming.id}/feature")
    assert done.status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert 'id="featured-heading"' in home
    featured_section = home.split('id="featured-heading"')[1].split("</section>")[0]
    assert "Lighthouse Folk Night" in featured_section
    page = admin_client.get(f"/admin/events/{upcoming.id}").get_data(as_text=True)
    assert "featured" in page and "Stop featuring" in page
    (entry,) = _audit(db, "event.featured")
    assert entry.data["before"] == {"featured_at": None, "featured_by_id": None}
    assert entry.data["after"]["featured_at"] is not None

    before = _state(db, upcoming.id)
    again = admin_client.post(f"/admin/events/{upcoming.id}/feature")
    assert again.status_code == 409
    assert "This event is already featured." in again.get_data(as_text=True)
    assert _state(db, upcoming.id) == before

    assert admin_client.post(f"/admin/events/{upcoming.id}/unfeature").status_code == 303
    assert 'id="featured-heading"' not in client.get("/").get_data(as_text=True)
    (entry,) = _audit(db, "event.unfeatured")
    assert entry.data["after"] == {"featured_at": None, "featured_by_id": None}
    twice = admin_client.post(f"/admin/events/{upcoming.id}/unfeature")
    assert twice.status_code == 409 and "This event is not featured." in twice.get_data(
        as_text=True
    )


def test_a_draft_hidden_or_past_event_cannot_be_featured(
    admin_client, db, make_event, organizer, now
) -> None:  # noqa: ANN001
    draft = make_event(organizer=organizer, status=EventStatus.DRAFT)
    hidden = make_event(organizer=organizer, hidden_at=now)
    past = make_event(
        organizer=organizer, starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)
    )
    db.commit()
    for event, message in (
        (draft, "A draft event cannot be featured."),
        (hidden, "hidden while its organizer is suspended"),
        (past, "This event is over"),
    ):
        before = _state(db, event.id)
        refused = admin_client.post(f"/admin/events/{event.id}/feature")
        assert refused.status_code == 409, message
        assert message in refused.get_data(as_text=True)
        assert _state(db, event.id) == before


def test_unpublish_takes_the_event_off_the_home_page_and_tells_the_organizer(
    admin_client, client, db, upcoming, notification_mail
) -> None:  # noqa: ANN001
    admin_client.post(f"/admin/events/{upcoming.id}/feature")
    assert "Lighthouse Folk Night" in client.get("/").get_data(as_text=True)
    before = _state(db, upcoming.id)
    missing = admin_client.post(f"/admin/events/{upcoming.id}/unpublish", data={"reason": "  "})
    assert missing.status_code == 422
    assert "Explain the decision" in missing.get_data(as_text=True)
    assert _state(db, upcoming.id) == before

    done = admin_client.post(
        f"/admin/events/{upcoming.id}/unpublish", data={"reason": "Misleading venue"}
    )
    assert done.status_code == 303
    db.expire_all()
    event = db.get(Event, upcoming.id)
    assert event.status == EventStatus.REJECTED and event.rejection_reason == "Misleading venue"
    assert "Lighthouse Folk Night" not in client.get("/").get_data(as_text=True)
    (entry,) = _audit(db, "event.unpublished")
    assert (entry.data["before"], entry.data["after"]) == (
        {"status": "published"},
        {"status": "rejected"},
    )
    (mail,) = notification_mail(kind="event_rejected")
    assert mail["to"] == "oona@example.test" and "Misleading venue" in mail["text"]

    before = _state(db, upcoming.id)
    again = admin_client.post(f"/admin/events/{upcoming.id}/unpublish", data={"reason": "Again"})
    assert again.status_code == 409
    assert "A rejected event cannot be unpublished." in again.get_data(as_text=True)
    assert _state(db, upcoming.id) == before


def test_unknown_events_are_404(admin_client) -> None:  # noqa: ANN001
    assert admin_client.get("/admin/events/999999").status_code == 404
    for action, data in (
        ("unpublish", {"reason": "x"}),
        ("feature", {}),
        ("unfeature", {}),
        ("cancel", {"reason": "x"}),
    ):
        assert admin_client.post(f"/admin/events/999999/{action}", data=data).status_code == 404


def test_cancel_refunds_paid_bookings_and_tells_holders_and_organizer(
    app: Flask, admin_client, db, make_tier, make_user, upcoming, pay_booking, notification_mail
) -> None:  # noqa: ANN001
    tier = make_tier(event=upcoming, capacity=5, price_minor=2500)
    buyer = make_user(email="buyer@example.test")
    paid = pay_booking(
        hold_units(
            db, user=buyer, event=upcoming, tier=tier, quantity=2, now=utcnow(), hold_minutes=10
        )
    )
    db.commit()
    assert paid.status == BookingStatus.CONFIRMED

    before = _state(db, upcoming.id)
    missing = admin_client.post(f"/admin/events/{upcoming.id}/cancel", data={"reason": ""})
    assert missing.status_code == 422
    assert "Explain the decision" in missing.get_data(as_text=True)
    assert _state(db, upcoming.id) == before
    assert db.get(Booking, paid.id).status == BookingStatus.CONFIRMED

    done = admin_client.post(
        f"/admin/events/{upcoming.id}/cancel", data={"reason": "Organizer unreachable"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Event cancelled, with its 1 booking." in done.get_data(as_text=True)
    db.expire_all()
    assert db.get(Event, upcoming.id).status == EventStatus.CANCELLED
    assert db.get(Event, upcoming.id).cancellation_note is None  # the reason is not public
    assert db.get(Booking, paid.id).status == BookingStatus.CANCELLED
    (cancelled,) = _audit(db, "event.cancelled")
    assert cancelled.data["before"]["status"] == "published"
    assert cancelled.data["after"]["status"] == "cancelled"
    (decision,) = _audit(db, "event.cancelled_by_admin")
    assert decision.data["reason"] == "Organizer unreachable"
    assert [m["to"] for m in notification_mail(kind="event_cancelled")] == ["buyer@example.test"]
    (told,) = notification_mail(kind="event_cancelled_by_admin")
    assert told["to"] == "oona@example.test" and "Organizer unreachable" in told["text"]

    for _ in range(3):  # the refund job, then the refund it started
        deliver_pending(db, app.config, now=utcnow())
        db.commit()
    db.expire_all()
    payment = db.scalar(select(Payment).where(Payment.booking_id == paid.id))
    (refund,) = db.scalars(select(Refund).where(Refund.payment_id == payment.id))
    assert (refund.amount_minor, refund.status) == (5000, RefundStatus.SUCCEEDED)
    assert payment.status == PaymentStatus.REFUNDED

    before = _state(db, upcoming.id)
    again = admin_client.post(f"/admin/events/{upcoming.id}/cancel", data={"reason": "Again"})
    assert again.status_code == 409
    assert "A cancelled event cannot be cancelled." in again.get_data(as_text=True)
    assert _state(db, upcoming.id) == before
    assert len(notification_mail(kind="event_cancelled_by_admin")) == 1


def test_the_event_page_links_its_audit_trail(admin_client, db, upcoming) -> None:  # noqa: ANN001
    admin_client.post(f"/admin/events/{upcoming.id}/feature")
    page = admin_client.get(f"/admin/events/{upcoming.id}").get_data(as_text=True)
    link = f"/admin/audit?target_type=events&amp;target_id={upcoming.id}"
    assert link in page
    trail = admin_client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "event.featured" in trail
