"""A user's mobile number for text messages, verified by a code texted to it.

One number per user, in its own table (`phone_numbers`) rather than on `users`: the verifying
state (a code's hash and expiry) is read only here, the users row is loaded on every request,
and `users.phone` stays what it is, a contact number for organizers that nobody proved.

A number is stored in E.164 form once `phonenumbers` accepts it as a mobile number. Until its
owner types the 6-digit code texted to it (within CODE_TTL), it is not used: `verified_number`
is what the SMS channel reaches. Changing the number un-verifies it; removing it is possible.
Only a code's HMAC is kept, bound to the user and the number, so a code texted for one number
proves nothing for another. Guesses and texts are rate limited by the caller
(app/domain/accounts/rate_limit.py, "phone_code" and "sms"). The code goes out through the
outbox in the caller's transaction (`SMS_TOPIC`), as account mail does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.domain import audit
from app.domain.accounts.errors import AccountError, WrongSecret
from app.domain.accounts.models import User
from app.domain.base import Base, utcnow
from app.domain.notifications.models import Channel, FailingAddress
from app.domain.outbox import enqueue

CODE_TTL = timedelta(minutes=10)
SMS_TOPIC = "sms"
MAX_INPUT = 40  # characters typed: far more than any number with its spaces and brackets
FIELD = "number"
# What can take a text message: US and Canadian numbers do not tell mobile from fixed line.
TEXTABLE = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
WRONG_CODE = "That code is not right or has expired. Ask for a new one."
EXAMPLE = "+44 7911 123456"


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[str] = mapped_column(String(16))  # E.164: "+" and at most 15 digits
    verified_at: Mapped[datetime | None]
    # The code texted last (only its HMAC), and until when it works.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class IssuedCode:
    number: str
    code: str
    expires_at: datetime


def _invalid(message: str) -> AccountError:
    return AccountError(message, code="phone_invalid", field=FIELD)


def normalize(raw: object) -> str:
    """The number in E.164 form, or AccountError on field "number"."""
    if not isinstance(raw, str):
        raise _invalid("Enter your mobile number as text.")
    raw = raw.strip()
    if not raw:
        raise AccountError("Enter your mobile number.", code="phone_missing", field=FIELD)
    if len(raw) > MAX_INPUT:
        raise _invalid(f"That is too long for a phone number (at most {MAX_INPUT} characters).")
    if not raw.startswith(("+", "00")):
        raise _invalid(f"Start with + and your country code, such as {EXAMPLE}.")
    try:
        parsed = phonenumbers.parse("+" + raw[2:] if raw.startswith("00") else raw, None)
    except phonenumbers.NumberParseException:
        raise _invalid(f"That is not a phone number. Enter it like {EXAMPLE}.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise _invalid(f"That is not a valid phone number. Enter it like {EXAMPLE}.")
    if phonenumbers.number_type(parsed) not in TEXTABLE:
        raise _invalid("That number cannot get text messages. Enter a mobile number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display(number: str) -> str:
    """The E.164 number spaced as people write it internationally."""
    return phonenumbers.format_number(
        phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def current(session: Session, user_id: int) -> PhoneNumber | None:
    return session.get(PhoneNumber, user_id)


def verified_number(session: Session, user_id: int) -> str | None:
    """The user's number if it is verified (what text messages go to), else None."""
    return session.scalar(
        select(PhoneNumber.number).where(
            PhoneNumber.user_id == user_id, PhoneNumber.verified_at.is_not(None)
        )
    )


def _code_hash(secret_key: str, user_id: int, number: str, code: str) -> str:
    message = f"phone:{user_id}:{number}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def set_number(
    session: Session, user: User, number: str, *, now: datetime, ip: str | None = None
) -> PhoneNumber:
    """Make `number` (normalized already) the user's, not verified yet: a new one, or in place
    of the old one. Its own number again is refused: nothing would change."""
    row = session.get(PhoneNumber, user.id, with_for_update=True)
    if row is not None and row.number == number:
        raise AccountError("That is your number already.", code="phone_same", field=FIELD)
    # One statement: two tabs adding a first number at once end with one row, the later one.
    statement = insert(PhoneNumber).values(
        user_id=user.id, number=number, created_at=now, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "number": number,
                "verified_at": None,
                "code_hash": None,
                "code_expires_at": None,
                "updated_at": now,
            },
        )
    )
    action = "phone.added" if row is None else "phone.changed"
    audit.record(session, action, actor_id=user.id, target=user, ip=ip, now=now, number=number)
    session.flush()
    if row is not None:
        session.refresh(row)
        return row
    return session.get_one(PhoneNumber, user.id)


def _pending(session: Session, user: User) -> PhoneNumber:
    # Locked: two requests with the same code must not both spend it.
    row = session.get(PhoneNumber, user.id, with_for_update=True)
    if row is None:
        raise AccountError("Add your mobile number first.", code="phone_missing", field=FIELD)
    if row.verified_at is not None:
        raise AccountError("Your number is verified already.", code="phone_verified")
    return row


def code_text(site_name: str, code: str) -> str:
    minutes = int(CODE_TTL.total_seconds() // 60)
    return (
        f"{site_name}: your code is {code}. It works for {minutes} minutes. "
        "Nobody from us will ever ask you for it."
    )


def issue_code(
    session: Session, user: User, *, secret_key: str, site_name: str, now: datetime
) -> IssuedCode:
    """A new code for the user's unverified number (it replaces an earlier one), texted to it
    through the outbox: sent if and only if the caller commits."""
    row = _pending(session, user)
    code = f"{secrets.randbelow(10**6):06d}"
    row.code_hash = _code_hash(secret_key, user.id, row.number, code)
    row.code_expires_at = now + CODE_TTL
    row.updated_at = now
    enqueue(
        session,
        SMS_TOPIC,
        {
            "to": row.number,
            "text": code_text(site_name, code),
            # Delivered later than this, the code is of no use any more.
            "expires_at": row.code_expires_at.isoformat(),
        },
    )
    session.flush()
    return IssuedCode(row.number, code, row.code_expires_at)


def verify(
    session: Session,
    user: User,
    code: str,
    *,
    secret_key: str,
    now: datetime,
    ip: str | None = None,
) -> PhoneNumber:
    """Accept the code texted to the user's number, once: the number is verified, and no
    longer marked failing (it just received our text)."""
    row = _pending(session, user)
    code = "".join(code.split())
    if (
        row.code_hash is None
        or row.code_expires_at is None
        or row.code_expires_at <= now
        or not hmac.compare_digest(row.code_hash, _code_hash(secret_key, user.id, row.number, code))
    ):
        raise WrongSecret(WRONG_CODE, code="phone_code_wrong", field="code")
    row.verified_at = now
    row.code_hash = None
    row.code_expires_at = None
    row.updated_at = now
    session.execute(
        delete(FailingAddress).where(
            FailingAddress.channel == Channel.SMS, FailingAddress.address == row.number
        )
    )
    audit.record(
        session, "phone.verified", actor_id=user.id, target=user, ip=ip, now=now, number=row.number
    )
    session.flush()
    return row


def remove(session: Session, user: User, *, now: datetime, ip: str | None = None) -> bool:
    """Forget the user's number; False when there was none."""
    number = session.scalar(
        delete(PhoneNumber).where(PhoneNumber.user_id == user.id).returning(PhoneNumber.number)
    )
    if number is None:
        return False
    audit.record(session, "phone.removed", actor_id=user.id, target=user, ip=ip, now=now)
    session.flush()
    return True


def forget(session: Session, user_id: int) -> None:
    """Drop the number of an account being erased."""
    session.execute(delete(PhoneNumber).where(PhoneNumber.user_id == user_id))
