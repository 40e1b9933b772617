"""Changes a signed-in user makes to their own account."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import tokens
from app.domain.accounts.emails import email_taken, normalize_email
from app.domain.accounts.errors import AccountError, InvalidToken
from app.domain.accounts.models import User
from app.domain.accounts.password_policy import check_password
from app.domain.accounts.passwords import hash_password, verify_password
from app.domain.accounts.registration import EMAIL_TAKEN, clean_name
from app.domain.accounts.sessions import revoke_user_sessions
from app.domain.events.models import Category

_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{5,30}")
ATTENDANCE_MODES = ("online", "in_person", "any")


def _require_password(user: User, password: str, field: str = "current_password") -> None:
    if not user.password_hash or not verify_password(user.password_hash, password):
        raise AccountError("That password is not right.", code="password_wrong", field=field)


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
    """A new password; every other session of the user ends. Accounts created through a
    sign-in provider have no password yet and may set one without `current_password`."""
    if user.password_hash:
        _require_password(user, current_password)
    check_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    tokens.spend_reset_tokens(session, user.id, now=now)
    revoke_user_sessions(session, user.id, now=now, keep_token=keep_session_token)
    audit.record(session, "password.changed", actor_id=user.id, target=user, ip=ip, now=now)
    session.flush()


def request_email_change(
    session: Session,
    user: User,
    *,
    new_email: str,
    password: str,
    secret_key: str,
    now: datetime,
) -> tuple[str, str]:
    """Check the request; return the new address and a signed link token proving it.

    Nothing changes until the link is opened from the new mailbox.
    """
    if user.password_hash:
        _require_password(user, password, field="password")
    email = normalize_email(new_email)
    if email.lower() == user.email.lower():
        raise AccountError("That is already your email address.", field="email")
    if email_taken(session, email, except_user_id=user.id):
        raise AccountError(EMAIL_TAKEN, code="email_taken", field="email")
    payload = {"uid": user.id, "old": user.email, "new": email}
    return email, tokens.sign(secret_key, tokens.CHANGE_EMAIL, payload, now=now)


def confirm_email_change(
    session: Session,
    secret_key: str,
    token: str,
    *,
    max_age: int,
    now: datetime,
    ip: str | None = None,
) -> tuple[User, str]:
    """Switch to the new (now verified) address; return the user and the old address."""
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
    audit.record(
        session, "email.changed", actor_id=user.id, target=user, ip=ip, now=now, old=old, new=new
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
