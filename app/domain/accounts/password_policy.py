"""What makes a password acceptable: long enough, not on the common-password list."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from app.domain.accounts.errors import AccountError

MIN_LENGTH = 10
# argon2 hashes anything, but an unbounded input is a cheap way to burn CPU.
MAX_LENGTH = 200
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def check_password(password: str, *, email: str = "", name: str = "") -> None:
    """Raise AccountError (field "password") unless `password` is acceptable."""
    if len(password) < MIN_LENGTH:
        raise AccountError(
            f"Use at least {MIN_LENGTH} characters for your password.",
            code="password_short",
            field="password",
        )
    if len(password) > MAX_LENGTH:
        raise AccountError(
            f"Use at most {MAX_LENGTH} characters for your password.",
            code="password_long",
            field="password",
        )
    lowered = password.lower()
    guessable = {email.lower(), email.split("@")[0].lower(), name.strip().lower()} - {""}
    if lowered in common_passwords() or lowered in guessable or len(set(lowered)) < 3:
        raise AccountError(
            "That password is too easy to guess. Choose a less common one.",
            code="password_common",
            field="password",
        )
