"""The in-app channel: written pending with its cause, shown and announced by the worker, listed,
counted and marked read by its own user only."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from app.db import libpq_url
from app.domain import live_notify
from app.domain.base import NotFound
from app.domain.notifications import in_app
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.queue import CHANNEL, notification_key, notify
from app.domain.notifications.unread import UNREAD_CAP
from app.domain.ticketing.allocation import hold_units
from jobs.notifications import deliver_due


@pytest.fixture(autouse=True)
def _notify_every_change():
    """No coalescing window: each transaction's NOTIFY is its own (restored afterwards)."""
    live_notify.configure(interval_seconds=0)
    yield
    live_notify.configure(interval_seconds=0.25)


def tell(db, user, kind="booking_confirmed", *, now, n=1, **payload):
    return notify(
        db,
        key=notification_key(kind, Channel.IN_APP, "test", n),
        kind=kind,
        channel=Channel.IN_APP,
        now=now,
        user_id=user.id,
        payload=payload,
    )


@pytest.fixture
def show(app, db, now):
    """Commit, then let the worker show every in-app copy due by `at`."""

    def run(at=None):
        db.commit()
        return deliver_due(app.extensions["db"].session, app.config, now=at or now, limit=1000)

    return run


@pytest.fixture
def listener(database_url):
    """A connection listening on the notifications channel, as the web's LiveHub does."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")

        def heard(timeout: float = 1.0) -> list[str]:
            return [n.payload for n in conn.notifies(timeout=timeout, stop_after=1)]

        yield heard


def test_an_in_app_message_is_shown_by_the_worker(db, now, make_user, show):
    user = make_user()
    assert tell(db, user, now=now) is True
    row = db.scalar(select(Notification))
    assert (row.status, row.read_at) == (NotificationStatus.PENDING, None)
    assert in_app.unread_count(db, user.id) == 0  # not shown yet
    assert show() == 1
    db.refresh(row)
    assert (row.status, row.sent_at, row.read_at) == (NotificationStatus.SENT, now, None)
    assert in_app.unread_count(db, user.id) == 1


def test_an_in_app_message_needs_a_user(db, now):
    with pytest.raises(ValueError):
        notify(db, key="x:in_app", kind="event_changed", channel=Channel.IN_APP, now=now)


def test_listeners_hear_of_it_when_the_worker_shows_it(db, now, make_user, listener, show):
    user = make_user()
    db.commit()
    tell(db, user, now=now)
    db.commit()
    assert listener(0.3) == []  # the cause's transaction announces nothing
    show()
    assert listener() == [str(user.id)]


def test_a_rolled_back_cause_leaves_nothing_and_tells_nobody(db, now, make_user, listener):
    user = make_user()
    db.commit()
    tell(db, user, now=now)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Notification)) == 0
    assert listener(0.5) == []


def test_a_message_queued_again_is_not_announced_again(db, now, make_user, listener, show):
    user = make_user()
    tell(db, user, now=now)
    show()
    assert listener() == [str(user.id)]
    assert tell(db, user, now=now) is False
    assert show() == 0
    assert listener(0.5) == []


def test_the_list_is_newest_first_paged_and_only_ones_own(db, now, make_user, show):
    user, other = make_user(), make_user()
    for n in range(in_app.PAGE_SIZE + 2):
        tell(db, user, "event_changed", now=now + timedelta(minutes=n), n=n)
    tell(db, other, now=now, n=999)
    show(now + timedelta(hours=1))
    first = in_app.list_page(db, user.id)
    assert len(first.items) == in_app.PAGE_SIZE and first.has_next
    times = [item.created_at for item in first.items]
    assert times == sorted(times, reverse=True)
    second = in_app.list_page(db, user.id, page=2)
    assert len(second.items) == 2 and not second.has_next
    assert {i.id for i in first.items}.isdisjoint(i.id for i in second.items)
    assert in_app.unread_count(db, user.id) == in_app.PAGE_SIZE + 2
    assert in_app.unread_count(db, other.id) == 1


def test_titles_and_links_come_from_what_still_exists(db, now, make_user, make_tier, show):
    user = make_user()
    tier = make_tier(capacity=5)
    event = tier.event
    booking = hold_units(
        db, user=user, event=event, tier=tier, quantity=1, now=now, hold_minutes=10
    )
    tell(db, user, "booking_confirmed", now=now, n=1, booking_id=booking.id)
    tell(db, user, "event_changed", now=now + timedelta(seconds=1), n=2, event_id=event.id)
    tell(db, user, "refund_issued", now=now + timedelta(seconds=2), n=3, booking_id=10**9)
    tell(db, user, "event_cancelled", now=now + timedelta(seconds=3), n=4, event_id="junk")
    tell(db, user, "sales_digest", now=now + timedelta(seconds=4), n=5)
    tell(db, user, "some_future_kind", now=now + timedelta(seconds=5), n=6)
    show(now + timedelta(minutes=1))
    items = {item.kind: item for item in in_app.list_page(db, user.id).items}
    confirmed = items["booking_confirmed"]
    assert booking.reference in confirmed.title
    assert confirmed.link == in_app.Link(
        "account_bookings.detail", {"reference": booking.reference}
    )
    changed = items["event_changed"]
    assert event.title in changed.title
    assert changed.link == in_app.Link("public_events.show", {"event_id": event.id})
    # Gone, or never there: a sensible title and no link.
    assert (items["refund_issued"].title, items["refund_issued"].link) == (
        "A refund for a booking is on its way",
        None,
    )
    assert (items["event_cancelled"].title, items["event_cancelled"].link) == (
        "An event is cancelled",
        None,
    )
    assert items["sales_digest"].link == in_app.Link("organizer_events.dashboard")
    assert items["some_future_kind"].link is None


def test_every_kind_the_product_sends_has_words():
    kinds = {
        "booking_confirmed", "payment_failed", "hold_expiring", "waitlist_offer",
        "refund_issued", "booking_cancelled", "event_changed", "event_cancelled",
        "reminder_24h", "reminder_1h", "event_approved", "event_rejected", "sales_digest",
        "staff_invitation", "event_cancelled_by_admin", "team_invitation",
    }  # fmt: skip
    assert set(in_app.CATALOGUE) == kinds
    for says in in_app.CATALOGUE.values():
        title, _ = says(in_app.About())
        assert title and "{" not in title
        assert "our a " not in title  # never "Your a booking": the words read without the ids


def test_marking_read(db, now, make_user, listener, show):
    user = make_user()
    tell(db, user, now=now, n=1)
    tell(db, user, now=now, n=2)
    show()
    listener()
    first, second = in_app.list_page(db, user.id).items
    item = in_app.mark_read(db, user.id, first.id, now=now)
    assert item.read_at == now and not item.unread
    db.commit()
    assert listener() == [str(user.id)]  # the user's other pages recount
    assert in_app.unread_count(db, user.id) == 1
    assert in_app.mark_read(db, user.id, first.id, now=now + timedelta(hours=1)).read_at == now
    assert in_app.mark_all_read(db, user.id, now=now) == 1
    assert in_app.mark_all_read(db, user.id, now=now) == 0
    assert in_app.unread_count(db, user.id) == 0


def test_someone_elses_notification_is_not_found_and_unchanged(db, now, make_user, show):
    owner, stranger = make_user(), make_user()
    tell(db, owner, now=now)
    show()
    (item,) = in_app.list_page(db, owner.id).items
    with pytest.raises(NotFound):
        in_app.mark_read(db, stranger.id, item.id, now=now)
    with pytest.raises(NotFound):
        in_app.mark_read(db, owner.id, item.id + 1000, now=now)
    assert in_app.mark_all_read(db, stranger.id, now=now) == 0
    assert db.get(Notification, item.id).read_at is None
    assert in_app.unread_count(db, owner.id) == 1


def test_an_email_row_is_not_in_app(db, now, make_user):
    user = make_user()
    notify(db, key="e:1:x:email", kind="booking_confirmed", channel=Channel.EMAIL, now=now,
           user_id=user.id, recipient=user.email)  # fmt: skip
    assert in_app.list_page(db, user.id).items == []
    assert in_app.unread_count(db, user.id) == 0


def test_the_count_stops_at_its_cap(db, now, make_user, show):
    user = make_user()
    for n in range(UNREAD_CAP + 5):
        tell(db, user, now=now, n=n)
    show()
    assert in_app.unread_count(db, user.id) == UNREAD_CAP + 1


def test_a_skipped_message_tells_nobody(db, now, make_user, listener, show):
    from app.domain.notifications.preferences import REMINDERS, save_choices

    user = make_user()
    save_choices(db, user.id, {(REMINDERS, Channel.IN_APP): False}, now=now)
    tell(db, user, "reminder_1h", now=now)
    assert show() == 1
    assert listener(0.5) == []
    assert db.scalar(select(Notification.status)) == NotificationStatus.SKIPPED
    assert in_app.unread_count(db, user.id) == 0
