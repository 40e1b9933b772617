"""`Idempotency-Key` on the API's creates: the first answer to a key is kept, and a retry of the
same request with the same key gets it again instead of creating a second time.

The key's row is inserted in the request's own transaction, before the create runs, and the
answer is written to it in the same transaction. A retry arriving while the first is still
running waits on the row's unique index until the first commits (then it replays the answer)
or rolls back (then it runs itself); past the connection's `lock_timeout` it is refused with
`idempotency_in_progress`. A create that is refused (a problem) rolls back and keeps nothing:
a retry runs again, and nothing was created to repeat. Keys are kept for `KEPT_FOR` (a day,
as payment APIs keep theirs): a retry later than that creates again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.domain.base import Base, DomainError, utcnow
from app.domain.ticketing.locking import DEADLOCK_DETECTED, LOCK_NOT_AVAILABLE

KEY_MAX = 255
KEPT_FOR = timedelta(hours=24)


class IdempotencyKey(Base):
    """A create made with an `Idempotency-Key`, and the answer it got."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    route: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class IdempotencyError(DomainError):
    """A key that cannot be used for this request (see the codes below)."""


def in_progress() -> IdempotencyError:
    return IdempotencyError(
        "A request with this Idempotency-Key is still running; try again shortly.",
        code="idempotency_in_progress",
    )


def request_hash(route: str, body: Any) -> str:
    """The fingerprint of a request: its route and its JSON body, key order aside."""
    canonical = json.dumps([route, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise IdempotencyError(
            f"An Idempotency-Key is 1 to {KEY_MAX} printable characters.",
            code="bad_idempotency_key",
        )
    return key


def claim(
    session: Session, *, user_id: int, key: str, route: str, fingerprint: str, now: datetime
) -> IdempotencyKey | None:
    """Take `key` for this request (None: it is ours, run the create) or return the earlier
    request's row to replay. The same key on another request is refused."""
    try:
        inserted = session.scalar(
            insert(IdempotencyKey)
            .values(user_id=user_id, key=key, route=route, request_hash=fingerprint, created_at=now)
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
            .returning(IdempotencyKey.id)
        )
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED):
            raise in_progress() from exc
        raise
    if inserted is not None:
        return None
    earlier = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).one()
    if earlier.route != route or earlier.request_hash != fingerprint:
        raise IdempotencyError(
            "This Idempotency-Key was used for a different request; use a new key.",
            code="idempotency_key_reused",
        )
    if earlier.status is None:
        raise in_progress()
    return earlier


def keep_answer(session: Session, *, user_id: int, key: str, status: int, body: str) -> None:
    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).one()
    row.status = status
    row.body = body
    session.flush()


def forget(session: Session, *, user_id: int, key: str) -> None:
    """Drop a key whose create failed after committing it midway (a checkout commits its
    payment before calling the provider). A key another request holds is not waited for."""
    held = (
        select(IdempotencyKey.id)
        .where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.status.is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(held)))


def prune_keys(session: Session, now: datetime, keep: timedelta = KEPT_FOR) -> int:
    """Delete the keys older than `keep`, answered or not; return how many went (a schedule)."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - keep))
    return result.rowcount or 0
