"""Push notifications in the browser: the service worker, opting a browser in, and removing
browsers, for the push section of the notification settings page.

The service worker is served from /account/notifications/push/sw.js and registered with the
scope of that folder, where no page lives. It answers no requests (it has no fetch handler):
a push reaches the registration whatever its scope, and a click opens any page of the site,
so a scope of its own keeps it apart from the ticket pages' worker (/account/bookings/) and
the door's (/checkin/), one worker per scope. Logging out drops every service worker of the
site (Clear-Site-Data), with the browser's subscription; the push service then answers 410
and the subscription here is forgotten on the next message.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.db import get_session
from app.domain.base import NotFound, utcnow
from app.domain.notifications import push
from app.integrations import push_web
from app.web.authz import signed_in_user
from app.web.error_status import http_status
from app.web.forms import AppForm

bp = Blueprint("account_push", __name__, url_prefix="/account/notifications/push")

SERVICE_WORKER = "js/push-sw.js"
# A browser's subscription is a few hundred bytes; anything much larger is not one.
MAX_BODY = 8 * 1024


@bp.app_template_global("push_settings")
def push_settings() -> dict[str, Any]:
    """What the settings page's push section shows the signed-in user."""
    keys = push_web.vapid_keys(current_app.config)
    return {
        "offered": keys is not None,
        "public_key": keys.public_key if keys else "",
        "subscriptions": push.subscriptions(get_session(), current_user.id) if keys else [],
    }


@bp.get("/sw.js")
def service_worker() -> Response:
    """The push service worker, served from here so that its scope is this folder."""
    response = send_from_directory(
        current_app.static_folder or "static", SERVICE_WORKER, mimetype="text/javascript"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/subscriptions")
@login_required
def subscribe() -> ResponseReturnValue:
    """Keep this browser's PushSubscription (JSON, as `subscription.toJSON()` gives it)."""
    if push_web.vapid_keys(current_app.config) is None:
        abort(404)
    if (request.content_length or 0) > MAX_BODY:
        return _refused("The subscription is too large.", 413)
    if not request.is_json:
        return _refused("Send the subscription as JSON.", 415)
    allow_local = bool(current_app.config.get("PUSH_ALLOW_LOCAL_ENDPOINTS"))
    try:
        parsed = push.parse_subscription(request.get_json(silent=True), allow_local=allow_local)
        row = push.subscribe(
            get_session(),
            signed_in_user().id,
            parsed,
            label=push.browser_label(request.headers.get("User-Agent", "")),
            limit=int(current_app.config["PUSH_SUBSCRIPTIONS_PER_USER"]),
            now=utcnow(),
        )
    except push.PushError as exc:
        return _refused(exc.message, http_status(exc))
    return jsonify(id=row.id, label=row.label), 201


def _refused(message: str, status: int) -> ResponseReturnValue:
    return jsonify(error=message), status


@bp.post("/subscriptions/<int:subscription_id>/delete")
@login_required
def remove(subscription_id: int) -> ResponseReturnValue:
    """Stop pushing to one of the user's browsers."""
    if not AppForm().validate():
        abort(400)
    try:
        push.unsubscribe(get_session(), signed_in_user().id, subscription_id)
    except NotFound:
        abort(404)
    flash("That browser no longer gets push notifications.", "success")
    return redirect(url_for("account_notifications.settings") + "#push", 303)
