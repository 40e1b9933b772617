"""The mobile number pages over HTTP: adding a number, verifying it with the texted code (wrong,
expired, too many tries, right), changing and removing it, the resend cap, numbers that are no
numbers, and what the settings page and the development outbox show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.accounts import phone
from app.domain.accounts.models import User
from app.domain.outbox import OutboxMessage
from jobs.relay import deliver_pending

MOBILE, OTHER = "+33612345678", "+4915112345678"


def _texts(db: Session, to: str | None = None) -> list[str]:
    """The texts queued to `to` (committed), oldest first."""
    db.expire_all()
    payloads = db.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.topic == phone.SMS_TOPIC)
        .order_by(OutboxMessage.id)
    ).all()
    return [p["text"] for p in payloads if to is None or p["to"] == to]


def _last_code(db: Session, to: str = MOBILE) -> str:
    match = re.search(r"\b(\d{6})\b", _texts(db, to)[-1])
    assert match
    return match.group(1)


def _row(db: Session, user: User) -> phone.PhoneNumber | None:
    db.expire_all()
    return phone.current(db, user.id)


def _state(db: Session) -> tuple:
    db.expire_all()
    rows = db.execute(text("SELECT user_id, number, verified_at, code_hash FROM phone_numbers"))
    texts = db.scalar(select(func.count()).where(OutboxMessage.topic == phone.SMS_TOPIC))
    return sorted(map(tuple, rows)), texts


@pytest.fixture
def signed_in(client: FlaskClient, make_user, login_as) -> User:  # noqa: ANN001
    user = make_user()
    login_as(client, user)
    return user


def test_a_number_is_added_verified_changed_and_removed(
    client: FlaskClient, db: Session, signed_in: User
) -> None:
    page = client.get("/account/phone").get_data(as_text=True)
    assert "You have no number yet" in page and "Add number" in page
    added = client.post("/account/phone", data={"number": "+33 6 12 34 56 78"})
    assert added.status_code == 303 and added.location.endswith("/account/phone#verify-heading")
    row = _row(db, signed_in)
    assert row is not None and (row.number, row.verified_at) == (MOBILE, None)
    page = client.get("/account/phone").get_data(as_text=True)
    assert "We texted a code to +33 6 12 34 56 78" in page and "not verified" in page
    code = _last_code(db)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/account/phone/verify", data={"code": wrong})
    assert refused.status_code == 422 and "That code is not right" in refused.get_data(as_text=True)
    assert _row(db, signed_in).verified_at is None  # type: ignore[union-attr]
    ok = client.post("/account/phone/verify", data={"code": f"{code[:3]} {code[3:]}"})
    assert ok.status_code == 303
    assert "is verified" in client.get(ok.location).get_data(as_text=True)
    assert _row(db, signed_in).verified_at is not None  # type: ignore[union-attr]
    replayed = client.post("/account/phone/verify", data={"code": code})
    assert replayed.status_code == 422 and "verified already" in replayed.get_data(as_text=True)
    assert "verified" in client.get("/account/profile").get_data(as_text=True)
    # The same number again changes nothing; another one un-verifies until its code is back.
    same = client.post("/account/phone", data={"number": MOBILE})
    assert same.status_code == 422 and "your number already" in same.get_data(as_text=True)
    assert client.post("/account/phone", data={"number": OTHER}).status_code == 303
    row = _row(db, signed_in)
    assert row is not None and (row.number, row.verified_at) == (OTHER, None)
    stale = client.post("/account/phone/verify", data={"code": code})
    assert stale.status_code == 422
    assert (
        client.post("/account/phone/verify", data={"code": _last_code(db, OTHER)}).status_code
        == 303
    )
    assert _row(db, signed_in).verified_at is not None  # type: ignore[union-attr]
    removed = client.post("/account/phone/remove")
    assert removed.status_code == 303 and _row(db, signed_in) is None
    assert "We send no more text messages" in client.get(removed.location).get_data(as_text=True)


def test_an_expired_code_is_refused_and_a_new_one_works(
    client: FlaskClient, db: Session, signed_in: User
) -> None:
    client.post("/account/phone", data={"number": MOBILE})
    code = _last_code(db)
    db.execute(text("UPDATE phone_numbers SET code_expires_at = now() - interval '1 second'"))
    db.commit()
    assert "The code we texted has expired" in client.get("/account/phone").get_data(as_text=True)
    expired = client.post("/account/phone/verify", data={"code": code})
    assert expired.status_code == 422 and "has expired" in expired.get_data(as_text=True)
    assert client.post("/account/phone/code").status_code == 303
    assert client.post("/account/phone/verify", data={"code": _last_code(db)}).status_code == 303
    assert _row(db, signed_in).verified_at is not None  # type: ignore[union-attr]


def test_too_many_wrong_codes_stop_even_the_right_one(
    app: Flask, client: FlaskClient, db: Session, signed_in: User
) -> None:
    client.post("/account/phone", data={"number": MOBILE})
    code = _last_code(db)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(int(app.config["PHONE_CODE_MAX_FAILURES_PER_USER"])):
        assert client.post("/account/phone/verify", data={"code": wrong}).status_code == 422
    blocked = client.post("/account/phone/verify", data={"code": code})
    assert blocked.status_code == 429 and "Try again in" in blocked.get_data(as_text=True)
    assert _row(db, signed_in).verified_at is None  # type: ignore[union-attr]


def test_codes_texted_to_a_number_are_capped(
    app: Flask, client: FlaskClient, db: Session, signed_in: User
) -> None:
    client.post("/account/phone", data={"number": MOBILE})
    for _ in range(int(app.config["SMS_CODES_PER_NUMBER"]) - 1):
        assert client.post("/account/phone/code").status_code == 303
    before = _state(db)
    capped = client.post("/account/phone/code")
    assert capped.status_code == 429 and "Try again in" in capped.get_data(as_text=True)
    assert _state(db) == before
    # Changing to the same number through the other form is capped alike, and changes nothing.
    client.post("/account/phone/remove")
    before = _state(db)
    again = client.post("/account/phone", data={"number": MOBILE})
    assert again.status_code == 429 and _state(db) == before
    assert "You have no number yet" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"number": "abc"}, "Start with +"),
        ({"number": "+1"}, "not a phone number"),
        ({"number": "+" + "4" * 40}, "too long"),
        ({"number": "+49 30 1234567"}, "cannot get text messages"),
        ({"number": ""}, "Enter your mobile number"),
        ({}, "Enter your mobile number"),
        ({"number": [MOBILE, OTHER]}, "Send one value"),
        ({"number[country]": "+33", "number[local]": "612345678"}, "Enter your mobile number"),
    ],
)
def test_what_is_no_number_is_refused_and_changes_nothing(
    client: FlaskClient, db: Session, signed_in: User, data: dict, says: str
) -> None:
    client.post("/account/phone", data={"number": OTHER})
    before = _state(db)
    response = client.post("/account/phone", data=data)
    assert response.status_code == 422 and says in response.get_data(as_text=True)
    assert _state(db) == before


@pytest.mark.parametrize(
    "body", [{"number": [MOBILE]}, {"number": {"n": MOBILE}}, {"number": 33612345678}, [MOBILE]]
)
def test_json_bodies_with_other_types_are_refused(
    client: FlaskClient, db: Session, signed_in: User, body: object
) -> None:
    before = _state(db)
    response = client.post("/account/phone", json=body)
    assert response.status_code == 422 and _state(db) == before


@pytest.mark.parametrize(
    "data", [{"code": "12345"}, {"code": "abcdef"}, {"code": ["123456", "654321"]}, {}]
)
def test_malformed_codes_are_refused_without_counting(
    client: FlaskClient, db: Session, signed_in: User, data: dict
) -> None:
    client.post("/account/phone", data={"number": MOBILE})
    before = _state(db)
    response = client.post("/account/phone/verify", data=data)
    assert response.status_code == 422 and _state(db) == before
    assert db.scalar(text("SELECT count(*) FROM attempts WHERE action = 'phone_code'")) == 0


def test_nothing_to_verify_or_resend_without_a_pending_number(
    client: FlaskClient, db: Session, signed_in: User
) -> None:
    assert client.post("/account/phone/verify", data={"code": "123456"}).status_code == 422
    resend = client.post("/account/phone/code")
    assert resend.status_code == 422 and "no number waiting" in resend.get_data(as_text=True)
    assert client.post("/account/phone/remove").status_code == 303
    assert _state(db) == ([], 0)


def test_another_users_code_verifies_nothing(
    app: Flask,
    client: FlaskClient,
    db: Session,
    signed_in: User,
    make_user,
    login_as,  # noqa: ANN001
) -> None:
    client.post("/account/phone", data={"number": MOBILE})
    code = _last_code(db)
    other = app.test_client()
    stranger = make_user()
    login_as(other, stranger)
    other.post("/account/phone", data={"number": MOBILE})
    db.execute(
        text("UPDATE phone_numbers SET code_hash = (SELECT code_hash FROM phone_numbers "
             "WHERE user_id = :owner) WHERE user_id = :stranger"),
        {"owner": signed_in.id, "stranger": stranger.id},
    )  # fmt: skip
    db.commit()
    assert other.post("/account/phone/verify", data={"code": code}).status_code == 422
    assert other.post("/account/phone/remove").status_code == 303
    assert _row(db, signed_in) is not None and _row(db, stranger) is None


def test_the_settings_page_says_when_no_number_gets_texts(
    client: FlaskClient, db: Session, signed_in: User
) -> None:
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    assert "You have no verified mobile number" in page and 'aria-describedby="sms-note"' in page
    client.post("/account/phone", data={"number": MOBILE})
    client.post("/account/phone/verify", data={"code": _last_code(db)})
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    assert "Text messages go to +33 6 12 34 56 78" in page


def test_the_dev_outbox_lists_texts_beside_mail(
    app: Flask, client: FlaskClient, db: Session, signed_in: User
) -> None:
    client.post("/account/phone", data={"number": MOBILE})
    assert deliver_pending(db, {**app.config, "SMS_BACKEND": "outbox"}) == 1
    db.commit()
    [path] = Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.sms.txt")
    code = _last_code(db)
    app.config["DEBUG"] = True
    try:
        listing = client.get("/dev/outbox").get_data(as_text=True)
        one = client.get(f"/dev/outbox/{path.name}").get_data(as_text=True)
    finally:
        app.config["DEBUG"] = False
    assert MOBILE in listing and f"SMS: {app.config['SITE_NAME']}: your code is {code}" in listing
    assert code in one
