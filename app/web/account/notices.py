"""Mails that tell an account's owner what happened to it, each with a way to act on it."""

from __future__ import annotations

from flask import current_app, flash

from app.domain.accounts import rate_limit, registration
from app.domain.accounts.errors import TooManyAttempts
from app.domain.accounts.models import User
from app.domain.accounts.reauth import CODE_TTL
from app.domain.base import utcnow
from app.web.account import attempts, mailer


def mail_allowed(address: str) -> bool:
    """Count a mail to `address` (rate_limit, "mail"); False once the address or the network
    has had its share, for callers that then simply send nothing."""
    try:
        attempts.take(rate_limit.MAIL, address)
    except TooManyAttempts:
        return False
    return True


def send_verification(user: User) -> None:
    """Mail a link that proves the user's address (the caller counted the mail)."""
    token = registration.verification_token(current_app.config["SECRET_KEY"], user, now=utcnow())
    mailer.send(
        user.email,
        "verify_email",
        "Confirm your email address",
        name=user.name,
        link=mailer.absolute_url("auth.verify_email", token=token),
        hours=int(current_app.config["EMAIL_VERIFY_TTL_SECONDS"]) // 3600,
    )


def signup_attempt(owner: User) -> None:
    """Someone registered with an address that already has an account."""
    mailer.send(
        owner.email,
        "signup_attempt",
        "Someone tried to sign up with your email address",
        name=owner.name,
        login_link=mailer.absolute_url("auth.login"),
        reset_link=mailer.absolute_url("auth.forgot"),
    )


def email_change_attempt(owner: User) -> None:
    """Someone asked to move another account to an address that already has one."""
    mailer.send(
        owner.email,
        "email_change_attempt",
        "Someone tried to use your email address",
        name=owner.name,
        login_link=mailer.absolute_url("auth.login"),
        reset_link=mailer.absolute_url("auth.forgot"),
    )


def links_removed(user: User, providers: list[str]) -> None:
    """The owner proved the address; the sign-in links made before the proof (`providers`,
    their labels) were removed: tell them on the page and by mail."""
    flash(
        f"Signing in with {', '.join(providers)} was linked to this address before you proved "
        "it is yours, perhaps by someone else: we removed it and logged out every device.",
        "warning",
    )
    mailer.send(
        user.email,
        "links_removed",
        "We removed sign-in links from your account",
        name=user.name,
        providers=providers,
        has_password=bool(user.password_hash),
        profile_link=mailer.absolute_url("account_profile.profile"),
        reset_link=mailer.absolute_url("auth.forgot"),
    )


def security_change(user: User, change: str) -> None:
    """A second factor or sign-in link changed: `change` completes "We ... on your account"."""
    mailer.send(
        user.email,
        "security_change",
        "A security setting of your account changed",
        name=user.name,
        change=change,
        link=mailer.absolute_url("auth.forgot"),
    )


def account_suspended(user: User) -> None:
    mailer.send(
        user.email,
        "account_suspended",
        "Your account is suspended",
        name=user.name,
        reason=user.suspended_reason,
    )


def account_reactivated(user: User) -> None:
    mailer.send(
        user.email,
        "account_reactivated",
        "Your account is active again",
        name=user.name,
        link=mailer.absolute_url("auth.login"),
    )


def two_factor_reset(user: User) -> None:
    mailer.send(
        user.email,
        "two_factor_reset",
        "Your two-factor authentication was reset",
        name=user.name,
        link=mailer.absolute_url("auth.login"),
    )


def reauth_code(user: User, code: str) -> None:
    mailer.send(
        user.email,
        "reauth_code",
        "Your confirmation code",
        name=user.name,
        code=code,
        minutes=int(CODE_TTL.total_seconds()) // 60,
    )
