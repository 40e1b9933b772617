"""Who an external identity (Google, GitHub, Facebook, company SSO) signs in as, and the
sign-in links a user manages from their profile.

1. A known identity (provider + subject) signs in its user.
2. Otherwise, if the provider vouches for the email (Google; GitHub's primary verified
   address; an OpenID provider's `email_verified`), it links to the account with that email,
   or creates one. Vouching proves the address (app/domain/accounts/address_proof.py): on an
   account whose address was unproven, the links made before go, and so does its password.
3. An unverified email (Facebook; an OpenID provider without `email_verified`) may only
   create a new account, whose address stays unproven until its owner proves it: anyone can
   type someone else's address at a provider. When an account already has that address,
   linking is refused.

A signed-in user may also link another identity (after a recent proof of who they are, so
a stolen session cannot add a way in), confirm who they are through a linked one, and unlink
one, as long as another way to sign in remains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import reauth
from app.domain.accounts.address_proof import prove_address
from app.domain.accounts.emails import find_user_by_email, normalize_email
from app.domain.accounts.errors import AccountError, AccountSuspended
from app.domain.accounts.models import OAuthIdentity, Role, User
from app.domain.accounts.registration import insert_user
from app.domain.base import NotFound


@dataclass(frozen=True)
class ExternalProfile:
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


@dataclass(frozen=True)
class ExternalSignIn:
    """The account an identity signs in as; whether it was just created; and the providers
    whose links were removed because this sign-in proved the address (tell the owner)."""

    user: User
    created: bool
    removed: list[str] = field(default_factory=list)


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


def _known(session: Session, profile: ExternalProfile) -> OAuthIdentity | None:
    if not profile.subject:
        raise AccountError("The sign-in provider did not say who you are.", code="no_subject")
    return session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.provider == profile.provider,
            OAuthIdentity.subject == profile.subject,
        )
    )


def sign_in_external(
    session: Session, profile: ExternalProfile, *, now: datetime, ip: str | None = None
) -> ExternalSignIn:
    """Who `profile` signs in as (see the module docstring).

    Raises AccountError when no account may be used.
    """
    known = _known(session, profile)
    if known is not None:
        user = session.get(User, known.user_id)
        if user is None or user.deleted_at is not None:
            raise AccountError("This account has been deleted.", code="deleted")
        if user.is_suspended:
            raise AccountSuspended()
        return ExternalSignIn(user, created=False)
    if not profile.email:
        raise AccountError(
            "The sign-in provider did not share an email address, which we need. "
            "Allow sharing your email or register with a password.",
            code="no_email",
        )
    email = normalize_email(profile.email)
    existing = find_user_by_email(session, email)
    if existing is not None:
        if existing.is_suspended and profile.email_verified:
            raise AccountSuspended()
        if not profile.email_verified:
            raise AccountError(
                "An account with this email already exists, and the sign-in provider has not "
                "confirmed that the address is yours. Log in with your password instead.",
                code="unverified_link",
            )
        removed = []
        if existing.email_verified_at is None:
            # Whoever registered the address never proved it; the provider just did. Their
            # password could be an impostor's, so it goes (the owner can set a new one).
            existing.password_hash = None
            removed = prove_address(
                session, existing, now=now, in_own_session=False, via=profile.provider, ip=ip
            )
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
        return ExternalSignIn(existing, created=False, removed=removed)
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
        email_verified=profile.email_verified,
    )
    return ExternalSignIn(user, created=True)


def link_identity(
    session: Session, user: User, profile: ExternalProfile, *, now: datetime, ip: str | None = None
) -> bool:
    """Link `profile` to the signed-in `user`; False when it already was. The session must
    have proved recently who it is. An identity of another account is refused."""
    reauth.require_recent_auth(user, now)
    known = _known(session, profile)
    if known is not None:
        if known.user_id == user.id:
            return False
        raise AccountError(
            "That sign-in is already linked to another account here. Unlink it there first.",
            code="linked_elsewhere",
        )
    _link(session, user, profile, now)
    audit.record(
        session,
        "oauth.linked",
        actor_id=user.id,
        target=user,
        ip=ip,
        now=now,
        provider=profile.provider,
        via="profile",
    )
    return True


def confirm_identity(
    session: Session, user: User, profile: ExternalProfile, *, now: datetime, ip: str | None = None
) -> None:
    """The signed-in user proved who they are by signing in again through a linked provider."""
    known = _known(session, profile)
    if known is None or known.user_id != user.id:
        raise AccountError(
            "That is not a sign-in linked to your account. Use one listed on your profile.",
            code="not_linked",
        )
    reauth.confirm_with_provider(session, user, profile.provider, now=now, ip=ip)


def identities(session: Session, user: User) -> list[OAuthIdentity]:
    return list(
        session.scalars(
            select(OAuthIdentity)
            .where(OAuthIdentity.user_id == user.id)
            .order_by(OAuthIdentity.created_at, OAuthIdentity.id)
        )
    )


def _lock_user(session: Session, user: User) -> None:
    session.refresh(user, with_for_update=True)


def _other_links(session: Session, user: User, identity: OAuthIdentity) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                OAuthIdentity.user_id == user.id, OAuthIdentity.id != identity.id
            )
        )
        or 0
    )


def unlink_identity(
    session: Session, user: User, identity_id: int, *, now: datetime, ip: str | None = None
) -> OAuthIdentity:
    """Remove one of the user's links (another user's is NotFound); never the last way in.

    Locks the user's row: two unlinks at once must not each see the other link remaining.
    """
    _lock_user(session, user)
    identity = session.get(OAuthIdentity, identity_id)
    if identity is None or identity.user_id != user.id:
        raise NotFound("We could not find that sign-in.")
    if not user.password_hash and not _other_links(session, user, identity):
        raise AccountError(
            "This is your only way to sign in. Set a password or link another sign-in first.",
            code="last_sign_in",
        )
    session.delete(identity)
    audit.record(
        session,
        "oauth.unlinked",
        actor_id=user.id,
        target=user,
        ip=ip,
        now=now,
        provider=identity.provider,
        reason="by_user",
    )
    session.flush()
    return identity
