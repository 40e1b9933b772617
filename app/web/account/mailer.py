"""Account emails: rendered from templates/email/ and queued in the request's transaction."""

from __future__ import annotations

from typing import Any

from flask import render_template

from app.db import get_session
from app.domain.notifications.mail import queue_email
from app.web.links import absolute_url as absolute_url  # links in mail: from BASE_URL


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
