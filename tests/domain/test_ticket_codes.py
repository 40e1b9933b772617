"""Ticket codes sign what a QR carries with the event's Ed25519 key: they verify with only the
public key, and anything altered, cut short, re-signed or of another event fails."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app.domain.tickets.models import EventSigningKey
from app.domain.tickets.signing import (
    CODE_BYTES,
    InvalidTicketCode,
    TicketCode,
    check_code,
    event_key,
    public_key,
    sign,
    verify,
)

CODE = TicketCode(event_id=7, ticket_id=123_456_789_012, check=check_code("s" * 64))


def raw(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def text_of(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_of(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def test_a_code_verifies_with_the_public_key_only(key: Ed25519PrivateKey) -> None:
    text = sign(key, CODE)
    assert len(text) == 130 and text.isalnum() and text.isupper()  # QR alphanumeric mode
    assert verify(text, 7, public_of(key)) == CODE
    assert verify(f"  {text.lower()}\n", 7, public_of(key)) == CODE  # as typed by hand


@pytest.mark.parametrize("position", [0, 3, 12, 16, 17, 40, CODE_BYTES - 1])
def test_any_altered_byte_fails(key: Ed25519PrivateKey, position: int) -> None:
    data = bytearray(raw(sign(key, CODE)))
    data[position] ^= 0x01
    with pytest.raises(InvalidTicketCode):
        verify(text_of(bytes(data)), 7, public_of(key))


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: t[:-8], "wrong length"),
        (lambda t: t + "AAAAAAAA", "wrong length"),
        (lambda t: "", "wrong length"),
        (lambda t: t[:-1] + "1", "not base32"),
        (lambda t: "not a ticket at all", "not base32"),
    ],
)
def test_truncated_or_not_a_code_fails(key: Ed25519PrivateKey, mangle, reason: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidTicketCode) as error:
        verify(mangle(sign(key, CODE)), 7, public_of(key))
    assert error.value.reason == reason


def test_re_signed_with_another_key_or_for_another_event_fails(key: Ed25519PrivateKey) -> None:
    forger = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidTicketCode) as error:
        verify(sign(forger, CODE), 7, public_of(key))
    assert error.value.reason == "bad signature"
    elsewhere = TicketCode(event_id=8, ticket_id=CODE.ticket_id, check=CODE.check)
    with pytest.raises(InvalidTicketCode) as error:
        verify(sign(key, elsewhere), 7, public_of(key))
    assert error.value.reason == "another event"


def test_the_check_code_ties_a_code_to_its_ticket_secret() -> None:
    assert check_code("a" * 64) != check_code("b" * 64)
    assert len(check_code("a" * 64)) == 4


def test_each_event_gets_one_key_pair_kept_on_the_server(db, now, make_event) -> None:  # noqa: ANN001
    event, other = make_event(), make_event()
    first = event_key(db, event.id, now=now)
    again = event_key(db, event.id, now=now)
    assert first.private_bytes_raw() == again.private_bytes_raw()
    assert public_key(db, event.id, now=now) == first.public_key().public_bytes_raw()
    assert public_key(db, other.id, now=now) != public_key(db, event.id, now=now)
    assert db.scalar(select(func.count()).select_from(EventSigningKey)) == 2
    text = sign(first, TicketCode(event_id=event.id, ticket_id=1, check=check_code("x")))
    assert verify(text, event.id, public_key(db, event.id, now=now)).ticket_id == 1
    with pytest.raises(InvalidTicketCode):
        verify(text, event.id, public_key(db, other.id, now=now))
