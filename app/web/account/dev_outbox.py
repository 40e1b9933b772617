"""/dev/outbox: read the mail and the text messages the outbox backends wrote to disk
(development only)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app.integrations import sms
from app.serving import is_loopback

bp = Blueprint("account_dev_outbox", __name__)
_NAME = re.compile(r"[A-Za-z0-9_.-]+\.(?:eml|sms\.txt)")
_LINK = re.compile(r"https?://[^\s<>\"']+")
LISTED = 200


@bp.before_request
def _development_only() -> None:
    # Mail holds sign-in and reset links: only the developer's own machine may read it, even
    # when development mode was allowed onto the network (ALLOW_DEV_ON_NETWORK).
    development = current_app.debug or current_app.config.get("APP_ENV") == "development"
    if not development or not is_loopback(request.remote_addr):
        abort(404)


def _folder() -> Path:
    return Path(current_app.config["MAIL_OUTBOX_DIR"])


def _read(path: Path) -> dict[str, object]:
    if path.name.endswith(sms.SUFFIX):
        return _read_sms(path)
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return {
        "name": path.name,
        "to": message["To"],
        "subject": message["Subject"],
        "written_at": datetime.fromtimestamp(path.stat().st_mtime, UTC),
        "text": text,
        "links": _LINK.findall(text),
    }


def _read_sms(path: Path) -> dict[str, object]:
    to, _sender, text = sms.read_outbox_file(path)
    return {
        "name": path.name,
        "to": to,
        "subject": f"SMS: {text[:60]}{'…' if len(text) > 60 else ''}",
        "written_at": datetime.fromtimestamp(path.stat().st_mtime, UTC),
        "text": text,
        "links": _LINK.findall(text),
        "sms": True,
    }


@bp.get("/dev/outbox")
def outbox() -> ResponseReturnValue:
    """The newest messages first."""
    folder = _folder()
    found = [*folder.glob("*.eml"), *folder.glob(f"*{sms.SUFFIX}")] if folder.is_dir() else []
    # Both kinds of name start with the time they were written, in nanoseconds.
    paths = sorted(found, key=lambda p: p.name, reverse=True)[:LISTED]
    return render_template(
        "account/dev_outbox.html", messages=[_read(p) for p in paths], folder=folder
    )


@bp.get("/dev/outbox/<name>")
def message(name: str) -> ResponseReturnValue:
    """One message, with its links clickable."""
    path = _folder() / name
    if not _NAME.fullmatch(name) or not path.is_file():
        abort(404)
    return render_template("account/dev_outbox_message.html", message=_read(path))
