"""Phone numbers: what counts as one, verifying it by a texted code, changing and removing it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.accounts import deletion, phone
from app.domain.accounts.errors import AccountError, WrongSecret
from app.domain.audit import AuditEntry
from app.domain.notifications.delivery import is_failing, mark_failing
from app.domain.notifications.models import Channel
from app.domain.outbox import OutboxMessage
from tests.factories.accounts import DEFAULT_PASSWORD

SECRET = "test-secret"
MOBILE = "+33612345678"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("  +1 (415) 555-2671 ", "+14155552671"),
        ("+49 151 12345678", "+4915112345678"),
    ],
)
def test_numbers_are_stored_in_e164(raw: str, e164: str) -> None:
    assert phone.normalize(raw) == e164


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("abc", "Start with +"),
        ("+abc", "not a phone number"),
        ("+1", "not a phone number"),
        ("+" + "1" * 40, "too long"),
        ("+1 555 000 0000", "not a valid phone number"),
        ("+49 30 1234567", "cannot get text messages"),  # a fixed line in Berlin
        ("+1 800 555 0199", "cannot get text messages"),  # toll free
        ("06 12 34 56 78", "Start with +"),
        ("", "Enter your mobile number"),
        (["+33612345678"], "as text"),
        ({"number": "+33612345678"}, "as text"),
        (None, "as text"),
    ],
)
def test_what_is_not_a_mobile_number_is_refused_clearly(raw: object, says: str) -> None:
    with pytest.raises(AccountError) as raised:
        phone.normalize(raw)
    assert says in raised.value.message and raised.value.field == "number"


def _texts(db) -> list[dict]:  # noqa: ANN001
    return list(
        db.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.topic == phone.SMS_TOPIC)
            .order_by(OutboxMessage.id)
        )
    )


def test_a_number_is_used_only_once_its_code_came_back(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    phone.set_number(db, user, MOBILE, now=now)
    assert phone.verified_number(db, user.id) is None
    issued = phone.issue_code(db, user, secret_key=SECRET, site_name="Eventhall", now=now)
    [text] = _texts(db)
    assert text["to"] == MOBILE and issued.code in text["text"] and "Eventhall" in text["text"]
    row = phone.current(db, user.id)
    assert row is not None and issued.code not in (row.code_hash or "")  # only its HMAC
    with pytest.raises(WrongSecret):
        phone.verify(db, user, "000000" if issued.code != "000000" else "111111",
                     secret_key=SECRET, now=now)  # fmt: skip
    phone.verify(db, user, f" {issued.code[:3]} {issued.code[3:]} ", secret_key=SECRET, now=now)
    assert phone.verified_number(db, user.id) == MOBILE
    with pytest.raises(AccountError, match="verified already"):  # the code is spent
        phone.verify(db, user, issued.code, secret_key=SECRET, now=now)
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["phone.added", "phone.verified"]


def test_a_code_expires_after_ten_minutes(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    phone.set_number(db, user, MOBILE, now=now)
    issued = phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now)
    with pytest.raises(WrongSecret):
        phone.verify(db, user, issued.code, secret_key=SECRET, now=now + phone.CODE_TTL)
    phone.verify(
        db, user, issued.code, secret_key=SECRET, now=now + phone.CODE_TTL - timedelta(seconds=1)
    )


def test_a_new_code_replaces_the_last_one(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    phone.set_number(db, user, MOBILE, now=now)
    first = phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now)
    second = phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now)
    if first.code != second.code:
        with pytest.raises(WrongSecret):
            phone.verify(db, user, first.code, secret_key=SECRET, now=now)
    phone.verify(db, user, second.code, secret_key=SECRET, now=now)


def test_changing_the_number_unverifies_it_and_old_codes_prove_nothing(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    phone.set_number(db, user, MOBILE, now=now)
    code = phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now).code
    phone.verify(db, user, code, secret_key=SECRET, now=now)
    with pytest.raises(AccountError, match="already"):
        phone.set_number(db, user, MOBILE, now=now)
    phone.set_number(db, user, "+4915112345678", now=now)
    assert phone.verified_number(db, user.id) is None
    with pytest.raises(AccountError, match="not right"):
        phone.verify(db, user, code, secret_key=SECRET, now=now)


def test_a_code_is_bound_to_its_user(db, make_user, now) -> None:  # noqa: ANN001
    alice, bob = make_user(), make_user()
    for someone in (alice, bob):
        phone.set_number(db, someone, MOBILE, now=now)
    issued = phone.issue_code(db, alice, secret_key=SECRET, site_name="E", now=now)
    alices, bobs = phone.current(db, alice.id), phone.current(db, bob.id)
    assert alices is not None and bobs is not None
    # Even with alice's very code stored for him, bob cannot verify with it.
    bobs.code_hash, bobs.code_expires_at = alices.code_hash, alices.code_expires_at
    with pytest.raises(WrongSecret):
        phone.verify(db, bob, issued.code, secret_key=SECRET, now=now)
    phone.verify(db, alice, issued.code, secret_key=SECRET, now=now)
    assert phone.verified_number(db, bob.id) is None


def test_verifying_again_clears_a_failing_mark(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    phone.set_number(db, user, MOBILE, now=now)
    mark_failing(
        db, Channel.SMS, MOBILE, reason="21610 unsubscribed", notification_id=None, now=now
    )
    code = phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now).code
    phone.verify(db, user, code, secret_key=SECRET, now=now)
    assert not is_failing(db, Channel.SMS, MOBILE)


def test_removing_and_erasing_forget_the_number(db, make_user, now) -> None:  # noqa: ANN001
    user, leaving = make_user(), make_user()
    for someone in (user, leaving):
        phone.set_number(db, someone, MOBILE, now=now)
    assert phone.remove(db, user, now=now) is True
    assert phone.remove(db, user, now=now) is False
    assert phone.current(db, user.id) is None
    deletion.delete_account(db, leaving, password=DEFAULT_PASSWORD, now=now)
    assert phone.current(db, leaving.id) is None


def test_codes_need_a_pending_number(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    with pytest.raises(AccountError, match="Add your mobile number"):
        phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now)
    phone.set_number(db, user, MOBILE, now=now)
    code = phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now).code
    phone.verify(db, user, code, secret_key=SECRET, now=now)
    with pytest.raises(AccountError, match="verified already"):
        phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now)
