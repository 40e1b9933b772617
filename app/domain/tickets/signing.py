"""Ticket codes: what a ticket's QR code carries, signed so that a device holding only the
event's public key can tell a real ticket offline.

A code is 81 bytes written in base32 (upper case, no padding: 130 characters, which QR codes
store compactly in their alphanumeric mode):

    version (1) | event id (4) | ticket id (8) | check code (4) | Ed25519 signature (64)

The signature covers the first 17 bytes. The check code is the first 4 bytes of SHA-256 of the
ticket's secret: it ties the code to the ticket row (a code made for a ticket re-issued with a
new secret no longer matches) without carrying the secret. Anything altered, cut short,
re-signed with another key or made for another event fails `verify`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.domain.base import DomainError
from app.domain.tickets.models import EventSigningKey

VERSION = 1
_SIGNED = struct.Struct(">BIQ4s")  # version, event id, ticket id, check code
SIGNATURE_BYTES = 64
CODE_BYTES = _SIGNED.size + SIGNATURE_BYTES


class InvalidTicketCode(DomainError):
    """Not a ticket code of this event: altered, cut short, forged, or another event's."""

    code = "invalid_ticket_code"

    def __init__(self, reason: str) -> None:
        super().__init__("This is not a valid ticket.")
        self.reason = reason


@dataclass(frozen=True)
class TicketCode:
    event_id: int
    ticket_id: int
    check: bytes  # 4 bytes: see `check_code`


def check_code(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()[:4]


def event_key(session: Session, event_id: int, *, now: datetime) -> Ed25519PrivateKey:
    """The event's signing key, made on first use (two first uses at once make one)."""
    private = Ed25519PrivateKey.generate()
    session.execute(
        insert(EventSigningKey)
        .values(
            event_id=event_id,
            public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            private_key=private.private_bytes_raw(),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    raw = session.scalar(
        select(EventSigningKey.private_key).where(EventSigningKey.event_id == event_id)
    )
    assert raw is not None
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key(session: Session, event_id: int, *, now: datetime) -> bytes:
    """The event's public key (32 raw bytes), for check-in devices."""
    return (
        event_key(session, event_id, now=now)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def sign(key: Ed25519PrivateKey, code: TicketCode) -> str:
    """The code's text for the QR: base32 of the signed bytes and their signature."""
    signed = _SIGNED.pack(VERSION, code.event_id, code.ticket_id, code.check)
    raw = signed + key.sign(signed)
    return base64.b32encode(raw).decode().rstrip("=")


def verify(text: str, event_id: int, public: bytes) -> TicketCode:
    """The ticket a code names, when it is a code of event `event_id` signed with its key
    (`public`, 32 raw bytes); otherwise InvalidTicketCode with the reason."""
    cleaned = text.strip().upper()
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise InvalidTicketCode("not base32") from None
    if len(raw) != CODE_BYTES:
        raise InvalidTicketCode("wrong length")
    signed, signature = raw[: _SIGNED.size], raw[_SIGNED.size :]
    version, code_event, ticket_id, check = _SIGNED.unpack(signed)
    if version != VERSION:
        raise InvalidTicketCode("unknown version")
    if code_event != event_id:
        raise InvalidTicketCode("another event")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, signed)
    except InvalidSignature:
        raise InvalidTicketCode("bad signature") from None
    return TicketCode(event_id=code_event, ticket_id=ticket_id, check=check)
