"""The admin-managed list of event categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.audit import record
from app.domain.base import NotFound
from app.domain.events.editing import slugify
from app.domain.events.errors import EventError, invalid
from app.domain.events.models import Category, Event

NAME_MAX = 80


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.name)))


def category_usage(session: Session) -> dict[int, int]:
    """How many events use each category."""
    rows = session.execute(
        select(Event.category_id, func.count())
        .where(Event.category_id.is_not(None))
        .group_by(Event.category_id)
    )
    return {category_id: count for category_id, count in rows}


def _clean_name(session: Session, name: str, *, current: Category | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise invalid("name", "Enter a category name.")
    if len(name) > NAME_MAX:
        raise invalid("name", f"A category name has at most {NAME_MAX} characters.")
    clash = session.scalar(
        select(Category).where(
            (func.lower(Category.name) == name.lower()) | (Category.slug == slugify(name))
        )
    )
    if clash is not None and clash is not current:
        raise invalid("name", "A category with that name already exists.")
    return name


def create_category(session: Session, name: str, *, admin: User, now: datetime) -> Category:
    name = _clean_name(session, name)
    category = Category(name=name, slug=slugify(name))
    session.add(category)
    session.flush()
    record(session, "category.created", actor_id=admin.id, target=category, now=now, name=name)
    return category


def rename_category(
    session: Session, category: Category, name: str, *, admin: User, now: datetime
) -> Category:
    name = _clean_name(session, name, current=category)
    before = {"name": category.name, "slug": category.slug}
    category.name = name
    category.slug = slugify(name)
    session.flush()
    record(
        session,
        "category.renamed",
        actor_id=admin.id,
        target=category,
        now=now,
        before=before,
        after={"name": category.name, "slug": category.slug},
    )
    return category


def delete_category(session: Session, category: Category, *, admin: User, now: datetime) -> None:
    """Delete an unused category (events keep theirs: move them first)."""
    used = session.scalar(select(func.count()).where(Event.category_id == category.id))
    if used:
        raise EventError(f"“{category.name}” is used by {used} event(s) and cannot be deleted.")
    record(session, "category.deleted", actor_id=admin.id, target=category, now=now)
    session.delete(category)
    session.flush()


def get_category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("We could not find that category.")
    return category
