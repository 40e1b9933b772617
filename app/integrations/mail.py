"""Mail delivery backends: a development outbox folder, SMTP, or SendGrid.

Chosen by MAIL_BACKEND. Each takes an already rendered message; queuing happens in
app/domain/notifications/mail.py and delivery in the worker (jobs/).
"""

from __future__ import annotations

import os
import smtplib
import tempfile
import time
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any


def build_message(
    config: Mapping[str, Any], *, to: str, subject: str, text: str, html: str | None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="eventhall.local")
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
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
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=10) as smtp:
        smtp.send_message(message)


def send_sendgrid(config: Mapping[str, Any], message: EmailMessage) -> None:
    from sendgrid import SendGridAPIClient
    from sendgrid.helpers.mail import Content, Mail

    mail = Mail(
        from_email=str(message["From"]),
        to_emails=str(message["To"]),
        subject=str(message["Subject"]),
        plain_text_content=message.get_body(("plain",)).get_content(),
    )
    html = message.get_body(("html",))
    if html is not None:
        mail.add_content(Content("text/html", html.get_content()))
    client = SendGridAPIClient(config["SENDGRID_API_KEY"], host=config["SENDGRID_API_HOST"])
    response = client.send(mail)
    if response.status_code >= 300:
        raise RuntimeError(f"SendGrid refused the message: HTTP {response.status_code}")


def deliver(
    config: Mapping[str, Any], *, to: str, subject: str, text: str, html: str | None = None
) -> None:
    """Deliver one message with the configured backend."""
    message = build_message(config, to=to, subject=subject, text=text, html=html)
    backend = config["MAIL_BACKEND"]
    if backend == "outbox":
        write_to_outbox(config["MAIL_OUTBOX_DIR"], message)
    elif backend == "smtp":
        send_smtp(config, message)
    elif backend == "sendgrid":
        send_sendgrid(config, message)
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")
