"""Changes a signed-in user makes to their own account."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import reauth, tokens
from app.domain.accounts.emails import email_taken, find_user_by_email, normalize_email
from app.domain.accounts.errors import AccountError, InvalidToken
from app.domain.accounts.models import User
from app.domain.accounts.password_policy import check_password
from app.domain.accounts.passwords import hash_password
from app.domain.accounts.registration import EMAIL_TAKEN, clean_name
from app.domain.accounts.sessions import revoke_user_sessions
from app.domain.events.models import Category

_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{5,30}")
ATTENDANCE_MODES = ("online", "in_person", "any")


def clean_phone(raw: str) -> str | None:
    phone = " ".join(raw.split())
    if not phone:
        return None
    digits = sum(ch.isdigit() for ch in phone)
    if not _PHONE.fullmatch(phone) or not 7 <= digits <= 15:
        raise AccountError(
            "Enter a phone number of 7 to 15 digits, such as +49 30 1234567.",
            code="phone_invalid",
            field="phone",
        )
    return phone


def update_details(session: Session, user: User, *, name: str, phone: str) -> None:
    name, phone_number = clean_name(name), clean_phone(phone)
    user.name, user.phone = name, phone_number
    session.flush()


def change_password(
    session: Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    keep_session_token: str | None,
    now: datetime,
    ip: str | None = None,
) -> None:
    """A new password; every other session of the user ends. An account created through a
    sign-in provider has none yet: it may set one once its address is proven (a password on
    an address someone else may own would outlive the proof) and it proved recently who it is.
    """
    reauth.require(user, current_password, now=now, field="current_password")
    if user.email_verified_at is None:
        raise AccountError(
            "Confirm your email address before you set a password.", code="unverified"
        )
    check_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    tokens.spend_reset_tokens(session, user.id, now=now)
    revoke_user_sessions(session, user.id, now=now, keep_token=keep_session_token)
    audit.record(session, "password.changed", actor_id=user.id, target=user, ip=ip, now=now)
    session.flush()


@dataclass(frozen=True)
class EmailChange:
    """A requested change: mail `token`'s link to `new_email`, or, when that address already
    has an account (`taken_by`), a note to its owner. The requester is told the same."""

    new_email: str
    token: str | None
    taken_by: User | None = None


def request_email_change(
    session: Session,
    user: User,
    *,
    new_email: str,
    password: str,
    secret_key: str,
    now: datetime,
) -> EmailChange:
    """Check the request and prepare its mail; nothing changes until the link is opened from
    the new mailbox."""
    reauth.require(user, password, now=now)
    email = normalize_email(new_email)
    if email.lower() == user.email.lower():
        raise AccountError("That is already your email address.", field="email")
    owner = find_user_by_email(session, email)
    if owner is not None:
        return EmailChange(email, None, taken_by=owner)
    payload = {"uid": user.id, "old": user.email, "new": email}
    return EmailChange(email, tokens.sign(secret_key, tokens.CHANGE_EMAIL, payload, now=now))


def confirm_email_change(
    session: Session,
    secret_key: str,
    token: str,
    *,
    max_age: int,
    now: datetime,
    keep_session_token: str | None = None,
    ip: str | None = None,
) -> tuple[User, str]:
    """Switch to the new (now verified) address; return the user and the old address.

    Reset links sent to the old address stop working, and every session of the account ends
    but `keep_session_token`'s (the browser that opened the link, if it is signed in to it).
    """
    payload = tokens.unsign(secret_key, tokens.CHANGE_EMAIL, token, max_age=max_age, now=now)
    user = session.get(User, payload.get("uid"), with_for_update=True)
    if user is None or user.deleted_at is not None or user.email != payload.get("old"):
        raise InvalidToken("That link is no longer valid. Ask for a new one from your profile.")
    new = str(payload.get("new", ""))
    if email_taken(session, new, except_user_id=user.id):
        raise AccountError(EMAIL_TAKEN, code="email_taken")
    old = user.email
    user.email = new
    user.email_verified_at = now
    tokens.spend_reset_tokens(session, user.id, now=now)
    revoke_user_sessions(session, user.id, now=now, keep_token=keep_session_token)
    audit.record(
        session,
        "email.changed",
        actor_id=user.id,
        target=user,
        ip=ip,
        now=now,
        before={"email": old},
        after={"email": new},
    )
    session.flush()
    return user, old


def update_preferences(
    session: Session,
    user: User,
    *,
    category_ids: list[int],
    home_city: str,
    mode: str,
) -> None:
    """Store favourite categories (existing ones only), home city and online/in person."""
    known = (
        set(session.scalars(select(Category.id).where(Category.id.in_(category_ids))).all())
        if category_ids
        else set()
    )
    if known != set(category_ids):
        raise AccountError("Pick categories from the list.", field="categories")
    if mode not in ATTENDANCE_MODES:
        raise AccountError("Pick how you like to attend.", field="mode")
    city = " ".join(home_city.split())
    if len(city) > 120:
        raise AccountError("Use at most 120 characters for your city.", field="home_city")
    preferences: dict[str, Any] = {"categories": sorted(known), "home_city": city, "mode": mode}
    user.preferences = preferences
    session.flush()
