"""Email addresses: syntax check (no DNS lookups) and lookup by address, case-insensitively."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import User


def normalize_email(raw: str) -> str:
    """The address in normal form (domain lowercased), or AccountError on field "email"."""
    try:
        # `.test` addresses (reserved, never deliverable) are accepted for demo and test accounts.
        result = validate_email(raw.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise AccountError(
            f"Enter a valid email address ({exc}).", code="email_invalid", field="email"
        ) from exc
    return result.normalized


def find_user_by_email(session: Session, email: str) -> User | None:
    """Uses the unique index on lower(email)."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def email_taken(session: Session, email: str, *, except_user_id: int | None = None) -> bool:
    user = find_user_by_email(session, email)
    return user is not None and user.id != except_user_id
