"""Account emails: rendered from templates/email/ and queued in the request's transaction."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for

from app.db import get_session
from app.domain.notifications.mail import queue_email


def absolute_url(endpoint: str, **values: Any) -> str:
    """Links in mail use BASE_URL, never the request's Host header (which a client sets)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def send(to: str, template: str, subject: str, **context: Any) -> None:
    """Queue `email/<template>.txt` (and `.html`); it is sent only if the request commits."""
    context.setdefault("subject", subject)
    queue_email(
        get_session(),
        to=to,
        subject=subject,
        text=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
    )
