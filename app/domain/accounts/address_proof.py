"""Proving that an account's owner reads its email address, and what that proof settles.

Until an address is proven, anyone may have typed it: in the registration form, or at a
sign-in provider that does not vouch for addresses (Facebook; an OpenID provider without
`email_verified`). The first proof (a verification link, a password reset, a code mailed to
the address, a provider that vouches for it) gives the account to whoever reads the mailbox.

- Made from a session of the account itself, the proof shows that whoever holds the account's
  sessions reads the mailbox too: the sign-in links made before it stay. They are theirs: an
  unproven account gets links only from its creator and from its own sessions.
- Made anywhere else (a link opened in another browser, a reset, another provider), the links
  made before it may be a squatter's, who signed up with the owner's address first to wait
  for the owner to fill the account (pre-account takeover). They are removed and every
  session of the account ends; the caller tells the owner which links went.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.models import OAuthIdentity, User
from app.domain.accounts.sessions import revoke_user_sessions


def prove_address(
    session: Session,
    user: User,
    *,
    now: datetime,
    in_own_session: bool,
    via: str,
    ip: str | None = None,
) -> list[str]:
    """Mark the user's address proven (once); return the providers whose links were removed.

    `via` names the proof for the audit log ("link", "reset", "code", a provider).
    """
    if user.email_verified_at is not None:
        return []
    user.email_verified_at = now
    removed: list[str] = []
    if not in_own_session:
        for identity in session.scalars(
            select(OAuthIdentity).where(OAuthIdentity.user_id == user.id).order_by(OAuthIdentity.id)
        ):
            removed.append(identity.provider)
            session.delete(identity)
            audit.record(
                session,
                "oauth.unlinked",
                actor_id=None,
                target=user,
                ip=ip,
                now=now,
                provider=identity.provider,
                reason="linked_before_the_address_was_proven",
            )
        revoke_user_sessions(session, user.id, now=now)
    audit.record(session, "email.verified", actor_id=user.id, target=user, ip=ip, now=now, via=via)
    session.flush()
    return removed
