"""Two-factor authentication with TOTP (RFC 6238) and single-use recovery codes.

A code is accepted once: the time step it matched is stored in `users.totp_last_step` and
any code for that step or an earlier one is refused afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import reauth
from app.domain.accounts.errors import AccountError, WrongSecret
from app.domain.accounts.models import RecoveryCode, User
from app.domain.accounts.sessions import mark_second_factor_done, revoke_user_sessions

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
# Accept the previous and next 30-second step too: phone clocks drift.
VALID_WINDOW = 1
WRONG_CODE = "That code is not right, or it was already used. Try the next one."


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals `code`, within the drift window."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step_now = totp.timecode(now)
    for step in range(step_now - VALID_WINDOW, step_now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _hash_recovery_code(code: str) -> str:
    # Codes are 50 random bits, so a plain SHA-256 is enough (no slow hash needed).
    normalized = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(normalized.encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(c), created_at=now)
        for c in codes
    )
    session.flush()
    return codes


def start_enrolment(session: Session, user: User) -> str:
    """The secret to show while enrolling: kept on the user (not yet active) so that reloading
    the page shows the same QR code."""
    if user.has_2fa:
        raise AccountError("Two-factor authentication is already on.", code="2fa_on")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        session.flush()
    return user.totp_secret


def enable(
    session: Session,
    user: User,
    *,
    code: str,
    now: datetime,
    session_token: str | None = None,
    ip: str | None = None,
) -> list[str]:
    """Turn 2FA on once a code proves the user's app has the secret; return the recovery
    codes (shown once). The current login session counts as having passed the second factor;
    every other session of the user ends.

    Needs a recent proof of who is asking (reauth): a stolen session must not put the
    account behind a second factor the owner does not have.
    """
    reauth.require_recent_auth(user, now)
    session.refresh(user, with_for_update=True)
    if user.has_2fa:
        raise AccountError("Two-factor authentication is already on.", code="2fa_on")
    if not user.totp_secret:
        raise AccountError("Start again: the setup page shows a new code.", code="2fa_no_secret")
    step = _matching_step(user.totp_secret, code, now)
    if step is None:
        raise WrongSecret(WRONG_CODE, code="2fa_wrong_code", field="code")
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user, now)
    if session_token is not None:
        mark_second_factor_done(session, session_token)
    # Sessions opened elsewhere never passed the new second factor: they end here.
    revoke_user_sessions(session, user.id, now=now, keep_token=session_token)
    audit.record(session, "2fa.enabled", actor_id=user.id, target=user, ip=ip, now=now)
    return codes


def check_code(
    session: Session, user: User, code: str, *, now: datetime, ip: str | None = None
) -> str:
    """Accept a TOTP code or an unused recovery code (each only once); return which one.

    Raises AccountError (field "code") otherwise. Locks the user row so two requests cannot
    both spend the same code.
    """
    session.refresh(user, with_for_update=True)
    if not user.has_2fa or not user.totp_secret:
        raise WrongSecret(WRONG_CODE, code="2fa_wrong_code", field="code")
    step = _matching_step(user.totp_secret, code, now)
    if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
        user.totp_last_step = step
        session.flush()
        return "totp"
    recovery = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        raise WrongSecret(WRONG_CODE, code="2fa_wrong_code", field="code")
    recovery.used_at = now
    session.flush()
    remaining = remaining_recovery_codes(session, user)
    audit.record(
        session,
        "2fa.recovery_code_used",
        actor_id=user.id,
        target=user,
        ip=ip,
        now=now,
        remaining=remaining,
    )
    session.flush()
    return "recovery"


def remaining_recovery_codes(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def regenerate_recovery_codes(
    session: Session, user: User, *, code: str, now: datetime, ip: str | None = None
) -> list[str]:
    """New codes replace the old ones; needs a current code from the app."""
    check_code(session, user, code, now=now, ip=ip)
    codes = _new_recovery_codes(session, user, now)
    audit.record(
        session, "2fa.recovery_codes_renewed", actor_id=user.id, target=user, ip=ip, now=now
    )
    return codes


def disable(
    session: Session,
    user: User,
    *,
    password: str,
    code: str,
    now: datetime,
    ip: str | None = None,
) -> None:
    """Turn 2FA off with the password (if the account has one) and a current code; never for
    organizers and admins."""
    if user.needs_2fa:
        raise AccountError(
            "Organizers and admins must keep two-factor authentication on.", code="2fa_required"
        )
    if user.password_hash:
        reauth.check_password(user, password)
    check_code(session, user, code, now=now, ip=ip)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(session, "2fa.disabled", actor_id=user.id, target=user, ip=ip, now=now)
    session.flush()
