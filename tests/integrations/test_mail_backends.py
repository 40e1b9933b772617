"""The three mail backends carry attachments and the given Message-ID, and tell a temporary
refusal from a permanent one: the outbox folder, SMTP (aiosmtpd in the test) and SendGrid (its
SDK against a local stand-in of its API)."""

from __future__ import annotations

import base64
import email
from collections.abc import Iterator
from email.policy import default
from pathlib import Path

import pytest

from app.integrations.mail import Attachment, MailError, deliver
from tests.integrations.fake_api import FakeAPI, serve
from tests.smtp_sink import SmtpSink, free_port

PDF = Attachment("tickets-ABC.pdf", "application/pdf", b"%PDF-1.7 not really\x00\xff")
ICS = Attachment("ABC.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
BASE = {"MAIL_FROM": "Eventhall <no-reply@eventhall.test>"}
MESSAGE = {
    "to": "ada@example.test",
    "subject": "Your tickets",
    "text": "plain",
    "html": "<p>html</p>",
    "attachments": [PDF, ICS],
    "message_id": "<n-1@eventhall.test>",
}


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    yield from serve()


def _attachments(message: email.message.EmailMessage) -> dict[str, tuple[str, bytes]]:
    return {
        str(part.get_filename()): (part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }


def test_outbox_writes_the_attachments_into_the_eml(tmp_path: Path) -> None:
    deliver({**BASE, "MAIL_BACKEND": "outbox", "MAIL_OUTBOX_DIR": str(tmp_path)}, **MESSAGE)
    (written,) = tmp_path.glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=default)
    assert message["Message-ID"] == "<n-1@eventhall.test>"
    assert message.get_body(("plain",)).get_content().strip() == "plain"
    assert _attachments(message) == {
        "tickets-ABC.pdf": ("application/pdf", PDF.content),
        "ABC.ics": ("text/calendar", ICS.content),
    }


def test_smtp_sends_the_attachments(smtp_sink: SmtpSink) -> None:
    deliver(smtp_sink.config(BASE), **MESSAGE)
    (message,) = smtp_sink.messages
    assert message["Message-ID"] == "<n-1@eventhall.test>"
    assert _attachments(message)["tickets-ABC.pdf"] == ("application/pdf", PDF.content)


def test_smtp_refusals_are_told_apart(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse["gone@example.test"] = "550 5.1.1 No such user"
    smtp_sink.refuse["busy@example.test"] = "451 4.3.0 Try again later"
    with pytest.raises(MailError, match="550") as gone:
        deliver(smtp_sink.config(BASE), **{**MESSAGE, "to": "gone@example.test"})
    assert gone.value.permanent
    with pytest.raises(MailError, match="451") as busy:
        deliver(smtp_sink.config(BASE), **{**MESSAGE, "to": "busy@example.test"})
    assert not busy.value.permanent
    closed = {**BASE, "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port()}
    with pytest.raises(MailError, match="unreachable") as down:
        deliver(closed, **MESSAGE)
    assert not down.value.permanent


def _sendgrid(api: FakeAPI) -> dict[str, str]:
    return {
        **BASE,
        "MAIL_BACKEND": "sendgrid",
        "SENDGRID_API_KEY": "SG.test",
        "SENDGRID_API_HOST": api.base_url,
    }


def test_sendgrid_sends_the_attachments_and_message_id(api: FakeAPI) -> None:
    api.route("POST", "/v3/mail/send", (202, {}))
    deliver(_sendgrid(api), **MESSAGE)
    (request,) = api.sent("POST", "/v3/mail/send")
    body = request.json()
    assert body["headers"]["Message-ID"] == "<n-1@eventhall.test>"
    sent = {a["filename"]: (a["type"], base64.b64decode(a["content"])) for a in body["attachments"]}
    assert sent == {
        "tickets-ABC.pdf": ("application/pdf", PDF.content),
        "ABC.ics": ("text/calendar", ICS.content),
    }
    assert request.header("Authorization") == "Bearer SG.test"


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (429, False), (503, False)])
def test_sendgrid_refusals_are_told_apart(api: FakeAPI, status: int, permanent: bool) -> None:
    api.route("POST", "/v3/mail/send", (status, {"errors": [{"message": "no"}]}))
    with pytest.raises(MailError, match=f"HTTP {status}") as refused:
        deliver(_sendgrid(api), **MESSAGE)
    assert refused.value.permanent is permanent


UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://eventhall.test/unsubscribe/t0ken>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def test_smtp_and_sendgrid_carry_the_unsubscribe_headers(smtp_sink: SmtpSink, api: FakeAPI) -> None:
    deliver(smtp_sink.config(BASE), **MESSAGE, headers=UNSUBSCRIBE)
    (message,) = smtp_sink.messages
    assert {name: message[name] for name in UNSUBSCRIBE} == UNSUBSCRIBE
    api.route("POST", "/v3/mail/send", (202, {}))
    deliver(_sendgrid(api), **MESSAGE, headers=UNSUBSCRIBE)
    (request,) = api.sent("POST", "/v3/mail/send")
    assert {name: request.json()["headers"][name] for name in UNSUBSCRIBE} == UNSUBSCRIBE
