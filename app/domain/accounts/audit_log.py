"""Reading the audit log for the admin pages: newest first, keyset pagination by id, filtered
by actor, action, target and date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.audit import AuditEntry
from app.domain.base import DomainError

PAGE_SIZE = 100


class AuditFilterInvalid(DomainError):
    """A filter of the audit log that cannot be applied; `field` names the input."""

    code = "invalid_filter"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AuditFilter:
    """What the admin asked for, as typed (the form shows it back)."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: str = ""
    date_to: str = ""

    @property
    def args(self) -> dict[str, str]:
        """The non-empty filters, as query arguments (for the next page's link)."""
        return {key: value for key, value in vars(self).items() if value}


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    emails: dict[int, str]
    next_before: int | None


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AuditFilterInvalid(field, "Give dates as YYYY-MM-DD, e.g. 2026-03-31.") from None


def _actor_id(session: Session, email: str) -> int:
    actor = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    if actor is None:
        raise AuditFilterInvalid("actor", f"No user has the email address {email}.")
    return actor


def browse(
    session: Session, wanted: AuditFilter, *, before: int | None = None, limit: int = PAGE_SIZE
) -> AuditPage:
    """The entries matching every filter given, newest first, `limit` at a time from `before`.

    Dates are whole UTC days, both ends included. A filter that cannot apply (an unknown
    actor, a malformed date, a range that ends before it starts, an id without a type)
    raises AuditFilterInvalid.
    """
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if wanted.actor:
        statement = statement.where(AuditEntry.actor_id == _actor_id(session, wanted.actor))
    if wanted.action:
        statement = statement.where(AuditEntry.action == wanted.action)
    if wanted.target_id and not wanted.target_type:
        raise AuditFilterInvalid("target_type", "Pick the kind of target the id belongs to.")
    if wanted.target_type:
        statement = statement.where(AuditEntry.target_type == wanted.target_type)
    if wanted.target_id:
        if not wanted.target_id.isdigit() or len(wanted.target_id) > 18:
            raise AuditFilterInvalid("target_id", "A target id is a whole number, like 42.")
        statement = statement.where(AuditEntry.target_id == int(wanted.target_id))
    start, end = _day(wanted.date_from, "date_from"), _day(wanted.date_to, "date_to")
    if start and end and end < start:
        raise AuditFilterInvalid("date_to", "The end date is before the start date.")
    if start:
        statement = statement.where(AuditEntry.created_at >= datetime.combine(start, time(), UTC))
    if end:
        next_day = datetime.combine(end + timedelta(days=1), time(), UTC)
        statement = statement.where(AuditEntry.created_at < next_day)
    if before:
        statement = statement.where(AuditEntry.id < before)
    entries = list(session.scalars(statement))
    more = len(entries) > limit
    entries = entries[:limit]
    actor_ids = {e.actor_id for e in entries if e.actor_id}
    emails = (
        {
            row.id: row.email
            for row in session.execute(select(User.id, User.email).where(User.id.in_(actor_ids)))
        }
        if actor_ids
        else {}
    )
    return AuditPage(entries, emails, entries[-1].id if more and entries else None)


# The distinct values of an indexed column, one index probe each (a loose index scan) rather
# than reading the whole log: a few dozen actions over millions of entries.
_DISTINCT = """
WITH RECURSIVE found(value) AS (
    (SELECT {column} FROM audit_log WHERE {column} IS NOT NULL ORDER BY {column} LIMIT 1)
    UNION ALL
    SELECT (SELECT {column} FROM audit_log WHERE {column} > found.value
            ORDER BY {column} LIMIT 1)
    FROM found WHERE found.value IS NOT NULL
)
SELECT value FROM found WHERE value IS NOT NULL
"""
_ACTIONS = text(_DISTINCT.format(column="action"))
_TARGET_TYPES = text(_DISTINCT.format(column="target_type"))


def actions_present(session: Session) -> list[str]:
    """Every action the log holds, alphabetically (for the filter's list)."""
    return list(session.scalars(_ACTIONS))


def target_types_present(session: Session) -> list[str]:
    """Every kind of target the log names, alphabetically."""
    return list(session.scalars(_TARGET_TYPES))
