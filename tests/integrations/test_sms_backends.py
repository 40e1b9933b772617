"""The SMS backends: the outbox folder, and Twilio's own SDK talking to a local stand-in of its
API (what it sends: the number, the sender, the text and the account's credentials; how its
answers are told apart: a refused number is permanent, an overloaded or unreachable API is
temporary)."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import load_config
from app.integrations.sms import SmsError, deliver, read_outbox_file
from tests.integrations.fake_api import FakeAPI, serve

SID, TOKEN = "AC" + "1" * 32, "twilio-test-token"
MESSAGES = rf"/2010-04-01/Accounts/{SID}/Messages\.json"
TO, FROM = "+33612345678", "+14155550100"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    yield from serve()


def twilio_config(base_url: str, sender: str = FROM) -> dict[str, str]:
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": sender,
        "TWILIO_API_BASE": base_url,
        "SITE_NAME": "Eventhall",
    }


def accepted(sid: str = "SM" + "a" * 32) -> tuple[int, dict]:
    return 201, {"sid": sid, "status": "queued", "to": TO, "from": FROM, "body": "x"}


def refused(status: int, code: int, message: str) -> tuple[int, dict]:
    return status, {"code": code, "message": message, "more_info": "", "status": status}


def test_twilio_gets_the_number_sender_text_and_credentials(api: FakeAPI) -> None:
    api.route("POST", MESSAGES, accepted())
    deliver(twilio_config(api.base_url), to=TO, text="Eventhall: Jazz night is cancelled. ü")
    [request] = api.sent("POST", MESSAGES)
    assert request.form() == {
        "To": TO,
        "From": FROM,
        "Body": "Eventhall: Jazz night is cancelled. ü",
    }
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.header("Authorization") == f"Basic {expected}"
    assert "twilio-python" in (request.header("User-Agent") or "")


def test_a_messaging_service_sends_instead_of_a_number(api: FakeAPI) -> None:
    api.route("POST", MESSAGES, accepted())
    service = "MG" + "2" * 32
    deliver(twilio_config(api.base_url, sender=service), to=TO, text="hello")
    [request] = api.sent("POST", MESSAGES)
    assert request.form()["MessagingServiceSid"] == service and "From" not in request.form()


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (400, 21211, True),  # not a valid phone number
        (400, 21614, True),  # not a mobile number
        (400, 21610, True),  # the recipient replied STOP
        (401, 20003, False),  # our credentials: ours to fix, retried until it fails visibly
        (429, 20429, False),
        (500, 20500, False),
        (503, 20503, False),
    ],
)
def test_twilio_refusals_are_told_apart(
    api: FakeAPI, status: int, code: int, permanent: bool
) -> None:
    api.route("POST", MESSAGES, refused(status, code, f"refused with {code}"))
    with pytest.raises(SmsError) as raised:
        deliver(twilio_config(api.base_url), to=TO, text="hello")
    assert raised.value.permanent is permanent
    assert str(code) in str(raised.value) and f"HTTP {status}" in str(raised.value)


def test_an_unreachable_twilio_is_temporary() -> None:
    with socket.socket() as closed:  # a port nobody listens on any more
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(SmsError) as raised:
        deliver(twilio_config(f"http://127.0.0.1:{port}"), to=TO, text="hello")
    assert raised.value.permanent is False and "unreachable" in str(raised.value)


def test_the_outbox_writes_a_text_file_beside_the_mail(tmp_path: Path) -> None:
    config = {
        "SMS_BACKEND": "outbox",
        "MAIL_OUTBOX_DIR": str(tmp_path),
        "TWILIO_FROM": "",
        "SITE_NAME": "Eventhall",
    }
    deliver(config, to=TO, text="first")
    deliver(config, to=TO, text="second\nline")
    files = sorted(tmp_path.glob("*.sms.txt"))
    assert [read_outbox_file(p) for p in files] == [
        (TO, "Eventhall", "first"),
        (TO, "Eventhall", "second\nline"),
    ]
    assert not list(tmp_path.glob("*.tmp"))


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="SMS_BACKEND"):
        deliver({"SMS_BACKEND": "pigeon"}, to=TO, text="x")


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "outbox"),
        ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}, "outbox"),  # no sender
        ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": FROM}, "twilio"),
        (
            {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": FROM,
             "SMS_BACKEND": "outbox"},
            "outbox",
        ),
    ],
)  # fmt: skip
def test_twilio_is_chosen_once_it_is_configured(env: dict[str, str], backend: str) -> None:
    assert load_config(env)["SMS_BACKEND"] == backend
