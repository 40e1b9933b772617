"""Typed account errors; every message is safe to show to the person who caused it."""

from __future__ import annotations

from app.domain.base import DomainError


class AccountError(DomainError):
    """A rule about accounts refused the request; `field` names the form field at fault."""

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class WrongSecret(AccountError):
    """A password or code that did not match: a guess, which rate limits count as a failure."""


class InvalidCredentials(WrongSecret):
    """Deliberately vague: never tells whether the email exists."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("That email and password do not match an account.")


class TooManyAttempts(AccountError):
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"Too many attempts. Try again in {self.retry_after} seconds.")


class InvalidToken(AccountError):
    """A verification or reset link that is malformed, expired or already used."""

    code = "invalid_token"


class ReauthRequired(AccountError):
    """A sensitive change needs the user to prove again who they are (a recent sign-in)."""

    code = "reauth_required"

    def __init__(self) -> None:
        super().__init__("For your safety, confirm it is you first.")


class AccountSuspended(AccountError):
    """Only raised once the person proved the account is theirs, so it leaks nothing."""

    code = "account_suspended"

    def __init__(self) -> None:
        super().__init__("This account is suspended.")
