"""Mail delivery backends: a development outbox folder, SMTP, or SendGrid.

Chosen by MAIL_BACKEND. Each takes an already rendered message; queuing happens in
app/domain/notifications/ and delivery in the worker (jobs/). A failure is raised as `MailError`,
temporary (try again later: connection refused, a timeout, SMTP 4xx, SendGrid 429/5xx) or
permanent (the address is refused: SMTP 5xx, SendGrid 400).
"""

from __future__ import annotations

import base64
import os
import smtplib
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str  # "application/pdf"
    content: bytes


class MailError(Exception):
    """The backend did not take the message; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def build_message(
    config: Mapping[str, Any],
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    attachments: Sequence[Attachment] = (),
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="eventhall.local")
    for name, value in (headers or {}).items():  # List-Unsubscribe, say
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def write_to_outbox(directory: str | Path, message: EmailMessage) -> Path:
    """Write the message as an .eml file, atomically, named so that files sort by time."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{message['Message-ID'].strip('<>').split('@')[0]}.eml"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(message))
    final = folder / name
    os.replace(tmp, final)
    return final


def send_smtp(config: Mapping[str, Any], message: EmailMessage) -> None:
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=10) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise MailError(f"SMTP {code}: {_text(reply)}", permanent=code >= 500) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(
            f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, hung up
        raise MailError(f"SMTP unreachable: {type(exc).__name__}: {exc}", permanent=False) from exc


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def send_sendgrid(config: Mapping[str, Any], message: EmailMessage) -> None:
    from sendgrid import SendGridAPIClient
    from sendgrid.helpers.mail import (
        Attachment as SendGridAttachment,
    )
    from sendgrid.helpers.mail import (
        Content,
        Disposition,
        FileContent,
        FileName,
        FileType,
        Header,
        Mail,
    )

    mail = Mail(
        from_email=str(message["From"]),
        to_emails=str(message["To"]),
        subject=str(message["Subject"]),
        plain_text_content=message.get_body(("plain",)).get_content(),
    )
    html = message.get_body(("html",))
    if html is not None:
        mail.add_content(Content("text/html", html.get_content()))
    mail.add_header(Header("Message-ID", str(message["Message-ID"])))
    for name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
        if message[name] is not None:
            mail.add_header(Header(name, str(message[name])))
    for number, part in enumerate(message.iter_attachments()):
        mail.add_attachment(
            SendGridAttachment(
                FileContent(base64.b64encode(part.get_payload(decode=True)).decode("ascii")),
                FileName(part.get_filename() or f"attachment-{number}"),
                FileType(part.get_content_type()),
                Disposition("attachment"),
            )
        )
    client = SendGridAPIClient(config["SENDGRID_API_KEY"], host=config["SENDGRID_API_HOST"])
    try:
        response = client.send(mail)
    except OSError as exc:
        raise MailError(f"SendGrid unreachable: {exc}", permanent=False) from exc
    except Exception as exc:  # the SDK's HTTPError (python_http_client), one per status
        status = getattr(exc, "status_code", None)
        if status is None:
            raise
        # 400 is SendGrid's answer to a malformed or refused address; 401/403/413 are ours to
        # fix, and 429/5xx pass: all of those are retried, and end visibly as failed.
        body = _text(getattr(exc, "body", b""))[:500]
        raise MailError(f"SendGrid HTTP {status}: {body}", permanent=status == 400) from exc
    if response.status_code >= 300:
        raise MailError(
            f"SendGrid refused the message: HTTP {response.status_code}", permanent=False
        )


def deliver(
    config: Mapping[str, Any],
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Deliver one message with the configured backend (MailError when it is not taken)."""
    message = build_message(
        config,
        to=to,
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
        message_id=message_id,
        headers=headers,
    )
    backend = config["MAIL_BACKEND"]
    if backend == "outbox":
        write_to_outbox(config["MAIL_OUTBOX_DIR"], message)
    elif backend == "smtp":
        send_smtp(config, message)
    elif backend == "sendgrid":
        send_sendgrid(config, message)
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")
