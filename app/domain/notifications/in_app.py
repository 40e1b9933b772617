"""The in-app channel: what each kind of message says on the notifications page, and the
user's list, unread count and read marks.

A row keeps only ids (`payload`): its title and link are made when it is shown, from what the
booking or event is now, and still read sensibly when that object is gone. Links name a web
endpoint and its values (this package knows no Flask); the page builds the URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain import live_notify
from app.domain.base import NotFound
from app.domain.events.models import Event
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.queue import CHANNEL
from app.domain.notifications.unread import unread_count_of
from app.domain.ticketing.models import Booking

PAGE_SIZE = 20


@dataclass(frozen=True)
class Link:
    """A page of the site: a web endpoint and the values of its URL."""

    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class About:
    """What a message's payload ids name, as far as they still exist."""

    booking_reference: str | None = None
    event_id: int | None = None
    event_title: str | None = None

    @property
    def event(self) -> str:
        return f"“{self.event_title}”" if self.event_title else "an event"

    @property
    def booking(self) -> str:
        return f"booking {self.booking_reference}" if self.booking_reference else "a booking"

    def booking_link(self) -> Link | None:
        if self.booking_reference is None:
            return None
        return Link("account_bookings.detail", {"reference": self.booking_reference})

    def event_link(self) -> Link | None:
        if self.event_title is None:
            return None
        return Link("public_events.show", {"event_id": self.event_id})

    def organizer_event_link(self) -> Link | None:
        if self.event_title is None:
            return None
        return Link("organizer_events.edit", {"event_id": self.event_id})

    def link(self, *pages: str) -> Link | None:
        """The first of `pages` that exists: "booking", "event", "organizer_event", or any
        other name, an endpoint without values (always there)."""
        for page in pages:
            if page == "booking":
                found = self.booking_link()
            elif page == "event":
                found = self.event_link()
            elif page == "organizer_event":
                found = self.organizer_event_link()
            else:
                found = Link(page)
            if found is not None:
                return found
        return None


@dataclass(frozen=True)
class Says:
    """What a kind says: a title (`{event}`, `{booking}`, capitalized `{Event}`, `{Booking}`
    filled in) and where it
    leads (the first of `pages` that exists)."""

    title: str
    pages: tuple[str, ...]

    def __call__(self, about: About) -> tuple[str, Link | None]:
        title = self.title.format(
            event=about.event,
            Event=_capitalized(about.event),
            booking=about.booking,
            Booking=_capitalized(about.booking),
        )
        return title, about.link(*self.pages)


def _capitalized(words: str) -> str:
    return words[:1].upper() + words[1:]  # not str.capitalize: an event's title keeps its case


# Every kind the product sends, and what it says in-app.
CATALOGUE: dict[str, Says] = {
    "booking_confirmed": Says("{Booking} is confirmed", ("booking",)),
    "payment_failed": Says("The payment for {booking} failed", ("booking",)),
    "hold_expiring": Says("Your hold on tickets for {event} ends soon", ("booking", "event")),
    "waitlist_offer": Says("Tickets for {event} are waiting for you", ("event",)),
    "refund_issued": Says("A refund for {booking} is on its way", ("booking",)),
    "booking_cancelled": Says("{Booking} was cancelled", ("booking",)),
    "event_changed": Says("{Event} has changed", ("event",)),
    "event_cancelled": Says("{Event} is cancelled", ("booking", "event")),
    "reminder_24h": Says("{Event} starts tomorrow", ("booking", "event")),
    "reminder_1h": Says("{Event} starts within the hour", ("booking", "event")),
    "event_approved": Says("{Event} was approved", ("organizer_event",)),
    "event_rejected": Says("{Event} was not approved", ("organizer_event",)),
    "event_cancelled_by_admin": Says("{Event} was cancelled by an admin", ("organizer_event",)),
    "sales_digest": Says("Your sales summary is ready", ("organizer_events.dashboard",)),
    "staff_invitation": Says("You are invited to check in tickets for {event}", ("staff.home",)),
    "team_invitation": Says(
        "You are invited into an organizer's team", ("organizer_team.memberships",)
    ),
}


@dataclass(frozen=True)
class InAppItem:
    id: int
    kind: str
    title: str
    link: Link | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True)
class InAppPage:
    items: list[InAppItem]
    page: int
    has_next: bool


def _id(payload: dict[str, Any], name: str) -> int | None:
    value = payload.get(name)
    # Defensive: a payload is JSON, and an id out of the column's range would fail the query.
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
        return value
    return None


def describe(session: Session, rows: Sequence[Notification]) -> list[InAppItem]:
    """Title and link of each row, from at most two queries (their bookings, their events)."""
    booking_ids = {b for row in rows if (b := _id(row.payload, "booking_id")) is not None}
    bookings: dict[int, tuple[str, int]] = {}
    if booking_ids:
        found = session.execute(
            select(Booking.id, Booking.reference, Booking.event_id).where(
                Booking.id.in_(booking_ids)
            )
        )
        bookings = {id_: (reference, event_id) for id_, reference, event_id in found}
    event_ids = {bookings[b][1] for b in booking_ids if b in bookings}
    event_ids |= {e for row in rows if (e := _id(row.payload, "event_id")) is not None}
    titles: dict[int, str] = {}
    if event_ids:
        found = session.execute(select(Event.id, Event.title).where(Event.id.in_(event_ids)))
        titles = {id_: title for id_, title in found}
    items = []
    for row in rows:
        booking = bookings.get(_id(row.payload, "booking_id") or 0)
        event_id = _id(row.payload, "event_id") or (booking[1] if booking else None)
        about = About(
            booking_reference=booking[0] if booking else None,
            event_id=event_id,
            event_title=titles.get(event_id) if event_id is not None else None,
        )
        says = CATALOGUE.get(row.kind)
        title, link = says(about) if says else ("You have a new notification", None)
        items.append(InAppItem(row.id, row.kind, title, link, row.created_at, row.read_at))
    return items


def _mine(user_id: int) -> Iterable[Any]:
    return (Notification.user_id == user_id, Notification.channel == Channel.IN_APP)


def list_page(session: Session, user_id: int, *, page: int = 1) -> InAppPage:
    """One page of the user's in-app notifications, newest first (ix_notifications_in_app);
    those skipped because the user turned their topic off are not shown."""
    page = max(1, page)
    rows = session.scalars(
        select(Notification)
        .where(*_mine(user_id), Notification.status == NotificationStatus.SENT)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return InAppPage(describe(session, rows[:PAGE_SIZE]), page, len(rows) > PAGE_SIZE)


def unread_count(session: Session, user_id: int) -> int:
    """How many of the user's in-app notifications are unread, up to UNREAD_CAP + 1."""
    return session.scalar(select(unread_count_of(user_id))) or 0


def mark_read(session: Session, user_id: int, notification_id: int, *, now: datetime) -> InAppItem:
    """Mark one of the user's own in-app notifications read (again is fine); anyone else's, or
    one that does not exist, is NotFound and changes nothing."""
    row = session.scalar(
        select(Notification).where(Notification.id == notification_id, *_mine(user_id))
    )
    if row is None:
        raise NotFound("That notification does not exist.")
    if row.read_at is None:
        row.read_at = now
        session.flush()
        live_notify.publish(session, CHANNEL, user_id)  # the user's other tabs recount
    return describe(session, [row])[0]


def mark_all_read(session: Session, user_id: int, *, now: datetime) -> int:
    """Mark every unread in-app notification of the user read; how many were."""
    marked = session.execute(
        update(Notification)
        .where(*_mine(user_id), Notification.read_at.is_(None))
        .values(read_at=now)
        .returning(Notification.id)
    ).all()
    if marked:
        live_notify.publish(session, CHANNEL, user_id)
    return len(marked)
