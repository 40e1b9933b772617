"""Creating accounts and proving their email addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import tokens
from app.domain.accounts.address_proof import prove_address
from app.domain.accounts.emails import email_taken, find_user_by_email, normalize_email
from app.domain.accounts.errors import AccountError, InvalidToken
from app.domain.accounts.models import Role, User
from app.domain.accounts.password_policy import check_password
from app.domain.accounts.passwords import hash_password

EMAIL_TAKEN = "An account with this email address already exists. Log in or reset your password."


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise AccountError("Enter your name.", code="name_missing", field="name")
    if len(name) > 120:
        raise AccountError("Use at most 120 characters for your name.", field="name")
    return name


def insert_user(session: Session, user: User) -> User:
    """Insert, turning a lost race on the unique email index into the usual message."""
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise AccountError(EMAIL_TAKEN, code="email_taken", field="email") from exc
    return user


def clean_registration(*, name: str, email: str, password: str) -> tuple[str, str]:
    """The name and normalized address, once name, address and password pass the rules.

    Nothing here looks at existing accounts, so the answer tells a stranger nothing.
    """
    name = clean_name(name)
    email = normalize_email(email)
    check_password(password, email=email, name=name)
    return name, email


def _new_password_user(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    role: Role,
    now: datetime,
    verified: bool = False,
) -> User:
    """Validate name, email and password, then insert the user (unique email enforced)."""
    name, email = clean_registration(name=name, email=email, password=password)
    # Hashed before the address is looked up: a taken address answers as slowly as a new one.
    password_hash = hash_password(password)
    if email_taken(session, email):
        raise AccountError(EMAIL_TAKEN, code="email_taken", field="email")
    return insert_user(
        session,
        User(
            name=name,
            email=email,
            password_hash=password_hash,
            role=role,
            email_verified_at=now if verified else None,
            created_at=now,
            preferences={},
        ),
    )


@dataclass(frozen=True)
class Registration:
    """The account the address belongs to, and whether this registration created it."""

    user: User
    created: bool


def register_user(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    now: datetime,
    ip: str | None = None,
) -> Registration:
    """A new, unverified attendee; or, when the address already has an account, that account
    (unchanged). Both answer alike so the form never tells who has an account: the caller
    mails the new user a verification link, or the owner a note that someone tried.

    Raises AccountError naming the field at fault.
    """
    try:
        user = _new_password_user(
            session, name=name, email=email, password=password, role=Role.ATTENDEE, now=now
        )
    except AccountError as error:
        if error.code != "email_taken":
            raise
        owner = find_user_by_email(session, normalize_email(email))
        if owner is None:  # an account that was being deleted meanwhile
            raise
        audit.record(
            session, "account.registration_refused", actor_id=None, target=owner, ip=ip, now=now
        )
        return Registration(owner, created=False)
    audit.record(session, "account.registered", actor_id=user.id, target=user, ip=ip, now=now)
    return Registration(user, created=True)


def create_admin(session: Session, *, name: str, email: str, password: str, now: datetime) -> User:
    """An admin with a verified email (the operator vouches for it); 2FA is enrolled at the
    first visit to the admin pages."""
    user = _new_password_user(
        session, name=name, email=email, password=password, role=Role.ADMIN, now=now, verified=True
    )
    audit.record(
        session,
        "role.changed",
        actor_id=None,
        target=user,
        now=now,
        before={"role": None},
        after={"role": Role.ADMIN},
        via="cli",
    )
    return user


def verification_token(secret_key: str, user: User, *, now: datetime) -> str:
    return tokens.sign(
        secret_key, tokens.VERIFY_EMAIL, {"uid": user.id, "email": user.email}, now=now
    )


def verify_email(
    session: Session,
    secret_key: str,
    token: str,
    *,
    max_age: int,
    now: datetime,
    signed_in_user_id: int | None = None,
) -> tuple[User, list[str]]:
    """Prove the address named in the link; the link works until it expires and only while
    that address is still the account's. Returns the user and the providers whose links were
    removed (the link was opened outside the account's own session, see address_proof)."""
    payload = tokens.unsign(secret_key, tokens.VERIFY_EMAIL, token, max_age=max_age, now=now)
    user = session.get(User, payload.get("uid"))
    if user is None or user.deleted_at is not None or user.email != payload.get("email"):
        raise InvalidToken("That link is no longer valid. Log in to ask for a new one.")
    removed = prove_address(
        session, user, now=now, in_own_session=signed_in_user_id == user.id, via="link"
    )
    return user, removed
