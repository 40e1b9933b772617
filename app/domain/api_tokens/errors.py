"""Refusals of API credentials. `ApiAuthError` means "who are you?" (401): the token is missing,
malformed, expired or revoked; `InsufficientScope` means the token may not do this (403)."""

from __future__ import annotations

from app.domain.base import DomainError, Forbidden


class ApiAuthError(DomainError):
    code = "invalid_token"

    def __init__(self, message: str = "That token is not valid.", *, code: str | None = None):
        super().__init__(message, code=code)


def missing_token() -> ApiAuthError:
    return ApiAuthError("Send a token: Authorization: Bearer <token>.", code="missing_token")


def expired_token() -> ApiAuthError:
    return ApiAuthError("That token has expired.", code="expired_token")


def revoked_token() -> ApiAuthError:
    return ApiAuthError("That token was revoked.", code="revoked_token")


class RefreshReused(ApiAuthError):
    """A refresh token was presented again after it was spent: someone else may hold a copy.
    The caller revokes the family (`refresh.revoke_reused`) on a transaction that commits."""

    code = "refresh_reused"

    def __init__(self, family_id: int, user_id: int) -> None:
        super().__init__("That refresh token was already used; sign in again.")
        self.family_id = family_id
        self.user_id = user_id


class InsufficientScope(Forbidden):
    code = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This token lacks the scope {scope!r}.")
        self.scope = scope


class PersonalTokenError(DomainError):
    """A personal token form that cannot be accepted; `field` names the form field at fault."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class InvalidRequest(DomainError):
    """A request body the API cannot use: not a JSON object, a field missing or not a string."""

    code = "invalid_request"


class SecondFactorRequired(ApiAuthError):
    """The password was right and the account has 2FA: send the code (`otp`) too."""

    code = "otp_required"

    def __init__(self) -> None:
        super().__init__("This account has two-factor authentication: send the code as `otp`.")
