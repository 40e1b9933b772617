"""Personal access tokens: made, listed and revoked by their owner on the account page.

A token only narrows what its owner may do: its scopes say which parts of the API it may call;
the endpoints still apply the owner's role and ownership checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import reauth
from app.domain.accounts.models import User
from app.domain.api_tokens import opaque
from app.domain.api_tokens.errors import PersonalTokenError
from app.domain.api_tokens.models import PersonalToken
from app.domain.base import NotFound
from app.domain.teams.access import needs_two_factor

SCOPES = {
    "events:read": "Read events, tiers and availability",
    "bookings:write": "Make, pay and cancel your bookings",
    "checkin": "Check tickets in at the door",
    "organizer:read": "Read your organizer data (events, attendees, sales)",
    "organizer:write": "Change your organizer data",
}
# Scopes that reach an organizer's events, buyers and money: only for accounts that meet the
# back office's 2FA rule (`teams.access.needs_two_factor`), as its pages are.
ORGANIZER_SCOPES = frozenset({"organizer:read", "organizer:write"})
NAME_MAX = 100
MAX_LIVE_TOKENS = 50
# last_used_at is written at most this often, so a busy token costs no write per request.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise PersonalTokenError(
            f"Unknown scope: {', '.join(unknown)}.", code="unknown_scope", field="scopes"
        )
    if not chosen:
        raise PersonalTokenError("Choose at least one scope.", code="no_scope", field="scopes")
    return chosen


def create_token(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: Iterable[str],
    lifetime: timedelta | None,
    now: datetime,
    ip: str | None = None,
) -> tuple[PersonalToken, str]:
    """A new token for `user`; the raw value is returned once and never stored.

    Needs a recent proof of who is asking (reauth): a stolen session must not mint a
    credential that outlives it.
    """
    reauth.require_recent_auth(user, now)
    text = " ".join(name.split())
    if not text:
        raise PersonalTokenError("Give the token a name.", code="no_name", field="name")
    if len(text) > NAME_MAX:
        raise PersonalTokenError(
            f"Keep the name under {NAME_MAX} characters.", code="long_name", field="name"
        )
    chosen = clean_scopes(scopes)
    organizer = ORGANIZER_SCOPES.intersection(chosen)
    if organizer and not user.has_2fa and needs_two_factor(session, user):
        raise PersonalTokenError(
            "Turn on two-factor authentication first: organizer scopes reach sales and "
            "buyers' data.",
            code="two_factor_required",
            field="scopes",
        )
    session.refresh(user, with_for_update=True)  # the count below holds under concurrency
    live = session.scalar(
        select(func.count())
        .select_from(PersonalToken)
        .where(PersonalToken.user_id == user.id, PersonalToken.revoked_at.is_(None))
    )
    if (live or 0) >= MAX_LIVE_TOKENS:
        raise PersonalTokenError(
            f"You have {MAX_LIVE_TOKENS} tokens: revoke one first.", code="too_many_tokens"
        )
    raw = opaque.new_token(opaque.PERSONAL_PREFIX)
    token = PersonalToken(
        user_id=user.id,
        name=text,
        token_hash=opaque.digest(raw),
        hint=raw[: len(opaque.PERSONAL_PREFIX) + 4],
        scopes=chosen,
        created_at=now,
        expires_at=now + lifetime if lifetime is not None else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        "api_token.created",
        actor_id=user.id,
        target=token,
        ip=ip,
        now=now,
        name=text,
        scopes=chosen,
    )
    return token, raw


def user_tokens(session: Session, user_id: int) -> list[PersonalToken]:
    """The user's tokens, live ones first, newest first."""
    return list(
        session.scalars(
            select(PersonalToken)
            .where(PersonalToken.user_id == user_id)
            .order_by(PersonalToken.revoked_at.is_not(None), PersonalToken.id.desc())
        )
    )


def revoke_token(
    session: Session, user: User, token_id: int, *, now: datetime, ip: str | None = None
) -> PersonalToken:
    """Revoke one of the user's tokens (another user's answers NotFound); twice is a no-op."""
    token = session.scalar(
        select(PersonalToken)
        .where(PersonalToken.id == token_id, PersonalToken.user_id == user.id)
        .with_for_update()
    )
    if token is None:
        raise NotFound("We could not find that token.")
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(session, "api_token.revoked", actor_id=user.id, target=token, ip=ip, now=now)
        session.flush()
    return token


def note_use(session: Session, token: PersonalToken, *, now: datetime) -> None:
    """Record that the token was used, at most once per LAST_USED_GRANULARITY."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_GRANULARITY:
        return
    session.execute(
        update(PersonalToken).where(PersonalToken.id == token.id).values(last_used_at=now)
    )
