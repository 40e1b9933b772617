"""Text message delivery backends: a development outbox folder, or Twilio.

Chosen by SMS_BACKEND (app/config.py: "twilio" when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
TWILIO_FROM are all set, else "outbox"). The outbox writes `<time>-<id>.sms.txt` files into
MAIL_OUTBOX_DIR, beside the mail, where /dev/outbox lists them. A failure is raised as
`SmsError`, temporary (the network, Twilio's 429 and 5xx, and what is ours to fix: our
credentials or sender refused) or permanent (the number itself is refused, `PERMANENT_CODES`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SUFFIX = ".sms.txt"

# Twilio's error codes that say the number cannot get our messages, whatever we retry:
# https://www.twilio.com/docs/api/errors
PERMANENT_CODES = frozenset(
    {
        21211,  # the 'To' number is not a valid phone number
        21214,  # the 'To' number cannot be reached
        21265,  # the 'To' number is a short code
        21610,  # the recipient unsubscribed (replied STOP)
        21612,  # the 'To' number is not reachable by SMS from our sender
        21614,  # the 'To' number is not a mobile number
    }
)


class SmsError(Exception):
    """The backend did not take the message; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def write_to_outbox(directory: str | Path, *, sender: str, to: str, text: str) -> Path:
    """Write the message as a small text file, atomically, named so that files sort by time."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.time_ns()
    digest = hashlib.sha256(f"{stamp}{to}{text}".encode()).hexdigest()[:16]
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"To: {to}\nFrom: {sender}\n\n{text}\n")
    final = folder / f"{stamp}-{digest}{SUFFIX}"
    os.replace(tmp, final)
    return final


def read_outbox_file(path: Path) -> tuple[str, str, str]:
    """(to, from, text) of a file `write_to_outbox` wrote."""
    head, _, text = path.read_text(encoding="utf-8").partition("\n\n")
    fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    return fields.get("To", ""), fields.get("From", ""), text.rstrip("\n")


def send_twilio(config: Mapping[str, Any], *, to: str, text: str) -> str:
    """Hand the message to Twilio; its message SID."""
    from twilio.base.exceptions import TwilioRestException
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        http_client=TwilioHttpClient(timeout=10),
    )
    client.api.base_url = config["TWILIO_API_BASE"]  # tests point it at a local stand-in
    sender = str(config["TWILIO_FROM"])
    # A Messaging Service (its SID starts with MG) picks the sending number itself.
    origin = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
    try:
        message = client.messages.create(to=to, body=text, **origin)
    except TwilioRestException as exc:
        permanent = exc.code in PERMANENT_CODES
        raise SmsError(
            f"Twilio HTTP {exc.status} error {exc.code}: {exc.msg}"[:500], permanent=permanent
        ) from exc
    except OSError as exc:  # requests' errors: refused, timed out, hung up
        raise SmsError(f"Twilio unreachable: {type(exc).__name__}: {exc}", permanent=False) from exc
    return str(message.sid)


def deliver(config: Mapping[str, Any], *, to: str, text: str) -> None:
    """Send one text message with the configured backend (SmsError when it is not taken)."""
    backend = config["SMS_BACKEND"]
    if backend == "outbox":
        sender = config["TWILIO_FROM"] or config["SITE_NAME"]
        write_to_outbox(config["MAIL_OUTBOX_DIR"], sender=sender, to=to, text=text)
    elif backend == "twilio":
        send_twilio(config, to=to, text=text)
    else:
        raise ValueError(f"unknown SMS_BACKEND {backend!r}")
