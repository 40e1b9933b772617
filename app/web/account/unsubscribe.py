"""One-click unsubscribe from an optional kind of mail (reminders, digests), without signing in.

The link's signed token is the only authority (app/domain/notifications/preferences.py): it
names one user, topic and channel, and all it can do is turn that off. GET shows a page with a
button; POST turns it off. Mail programs that offer "Unsubscribe" POST `List-Unsubscribe=
One-Click` to the same URL with no cookie and no CSRF token (RFC 8058), so this POST is exempt
from CSRF: a forged one could only do what the link's holder may do anyway, once.

`unsubscribe_url` and `list_unsubscribe_headers` are what the mail sender puts in a message.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts.errors import InvalidToken
from app.domain.base import utcnow
from app.domain.notifications import preferences
from app.extensions import csrf
from app.web.error_status import http_status

bp = Blueprint("unsubscribe", __name__)


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _refused(error: InvalidToken) -> ResponseReturnValue:
    return render_template("account/unsubscribe.html", error=error), http_status(error)


@bp.get("/unsubscribe/<token>")
def confirm(token: str) -> ResponseReturnValue:
    """What the link turns off, with a button (a link opened by a mail scanner changes nothing)."""
    try:
        stop = preferences.read_unsubscribe_token(get_session(), _secret(), token)
    except InvalidToken as error:
        return _refused(error)
    return render_template(
        "account/unsubscribe.html", stop=stop, label=preferences.TOPIC_LABELS[stop.topic]
    )


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058 one-click: no cookie, no CSRF token; the signed token is the authority
def unsubscribe(token: str) -> ResponseReturnValue:
    """Turn off what the link names; again changes nothing."""
    try:
        stop = preferences.unsubscribe(get_session(), _secret(), token, now=utcnow())
    except InvalidToken as error:
        return _refused(error)
    return render_template(
        "account/unsubscribe.html",
        stop=stop,
        label=preferences.TOPIC_LABELS[stop.topic],
        done=True,
    )
