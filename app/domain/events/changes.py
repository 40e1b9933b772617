"""Announce changed event details and categories, so every process drops its cached copies.

Web processes keep what the public pages read most (an event's details, the category list)
in memory (app/web/public/hot_reads.py). Whatever changes one of those announces it with a
NOTIFY in the same transaction (`live_notify`: only a committed change is heard, within the
coalescing window), heard by each process's LISTEN connection (app/live.py).

The announcing is done by a flush hook, so no service has to remember it: an event whose
columns changed, a speaker added, edited or removed, a category created, renamed or deleted,
and an organizer's name (shown on their event pages). Bulk `UPDATE events` statements bypass
the ORM: their callers announce the ids they changed with `announce_events`. Availability is
not among these: it is never cached (it has its own channel, `availability`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.util import IdentitySet

from app.domain import live_notify
from app.domain.accounts.models import User
from app.domain.events.models import Category, Event, Speaker

DETAILS = "event_details"
CATEGORIES = "categories"
ALL_CATEGORIES = 0  # the categories channel's one key: the list as a whole

# An organizer's fields that their event pages show.
_ORGANIZER_SHOWN = ("name", "organization_name")


def announce_events(session: Session, event_ids: Iterable[int]) -> None:
    """Tell every process (after commit) that these events' details changed."""
    for event_id in set(event_ids):
        live_notify.publish(session, DETAILS, event_id)


def _changed_events(
    session: Session, new: IdentitySet, dirty: IdentitySet, deleted: IdentitySet
) -> set[int]:
    ids: set[int] = set()
    organizers: set[int] = set()
    for obj in (*dirty, *deleted):
        if isinstance(obj, Event) and (obj in deleted or session.is_modified(obj)):
            ids.add(obj.id)
        elif isinstance(obj, User) and obj in dirty:
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in _ORGANIZER_SHOWN):
                organizers.add(obj.id)
    for obj in (*new, *dirty, *deleted):
        if isinstance(obj, Speaker):
            state = inspect(obj)
            ids.update(i for i in state.attrs["event_id"].history.sum() if i is not None)
            if obj.event_id is not None:
                ids.add(obj.event_id)
    if organizers:
        ids.update(session.scalars(select(Event.id).where(Event.organizer_id.in_(organizers))))
    return ids


@event.listens_for(Session, "after_flush")
def _announce_flushed(session: Session, _flush: UOWTransaction) -> None:
    # Each of these properties walks the session's identity map: read them once a flush.
    new, dirty, deleted = session.new, session.dirty, session.deleted
    announce_events(session, _changed_events(session, new, dirty, deleted))
    if any(isinstance(obj, Category) for obj in (*new, *dirty, *deleted)):
        live_notify.publish(session, CATEGORIES, ALL_CATEGORIES)
