"""Who an external identity (Google, GitHub, Facebook, company SSO) signs in as.

1. A known identity (provider + subject) signs in its user.
2. Otherwise, if the provider vouches for the email, it links to the account with that
   email (or creates one).
3. An unverified email may only create a new account; when an account already has that
   address, linking is refused: anyone can type someone else's address at a provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.emails import find_user_by_email, normalize_email
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import OAuthIdentity, Role, User
from app.domain.accounts.registration import insert_user
from app.domain.accounts.sessions import revoke_user_sessions


@dataclass(frozen=True)
class ExternalProfile:
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def _link(session: Session, user: User, profile: ExternalProfile, now: datetime) -> None:
    session.add(
        OAuthIdentity(
            user_id=user.id,
            provider=profile.provider,
            subject=profile.subject,
            email=profile.email,
            created_at=now,
        )
    )
    session.flush()


def sign_in_external(
    session: Session, profile: ExternalProfile, *, now: datetime, ip: str | None = None
) -> tuple[User, bool]:
    """The user `profile` signs in as, and whether the account was just created.

    Raises AccountError when no account may be used (see the module docstring).
    """
    if not profile.subject:
        raise AccountError("The sign-in provider did not say who you are.", code="no_subject")
    known = session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.provider == profile.provider,
            OAuthIdentity.subject == profile.subject,
        )
    )
    if known is not None:
        user = session.get(User, known.user_id)
        if user is None or user.deleted_at is not None:
            raise AccountError("This account has been deleted.", code="deleted")
        return user, False
    if not profile.email:
        raise AccountError(
            "The sign-in provider did not share an email address, which we need. "
            "Allow sharing your email or register with a password.",
            code="no_email",
        )
    email = normalize_email(profile.email)
    existing = find_user_by_email(session, email)
    if existing is not None:
        if not profile.email_verified:
            raise AccountError(
                "An account with this email already exists, and the sign-in provider has not "
                "confirmed that the address is yours. Log in with your password instead.",
                code="unverified_link",
            )
        if existing.email_verified_at is None:
            # Whoever registered the address never proved it; the provider just did. Their
            # password could be an impostor's, so it goes (the owner can set a new one).
            existing.password_hash = None
            existing.email_verified_at = now
            revoke_user_sessions(session, existing.id, now=now)
        _link(session, existing, profile, now)
        audit.record(
            session,
            "oauth.linked",
            actor_id=existing.id,
            target=existing,
            ip=ip,
            now=now,
            provider=profile.provider,
        )
        return existing, False
    name = " ".join((profile.name or "").split())[:120] or email.split("@")[0]
    user = insert_user(
        session,
        User(
            name=name,
            email=email,
            password_hash=None,
            role=Role.ATTENDEE,
            email_verified_at=now if profile.email_verified else None,
            created_at=now,
            preferences={},
        ),
    )
    _link(session, user, profile, now)
    audit.record(
        session,
        "account.registered",
        actor_id=user.id,
        target=user,
        ip=ip,
        now=now,
        provider=profile.provider,
    )
    return user, True
