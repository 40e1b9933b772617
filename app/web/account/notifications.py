"""The signed-in user's in-app notifications: the page, read marks, the navigation's bell and
its live count, and the settings of which optional messages they get."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.routing import BuildError
from wtforms import BooleanField

from app.db import get_db, get_session
from app.domain.accounts.phone import display, verified_number
from app.domain.base import NotFound, utcnow
from app.domain.notifications import in_app, preferences
from app.domain.notifications.queue import CHANNEL
from app.domain.notifications.unread import UNREAD_CAP
from app.live import hub_for
from app.web.authz import signed_in_user
from app.web.event_stream import Fragment, stream_fragment
from app.web.forms import AppForm
from app.web.htmx import wants_fragment

bp = Blueprint("account_notifications", __name__, url_prefix="/account/notifications")

MAX_PAGE = 10_000  # far past any real list; an absurd offset is refused its cost


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here is about the signed-in user's own notifications."""


@bp.app_template_filter("notification_url")
def notification_url(link: in_app.Link | None) -> str:
    """Where a notification leads; its list when what it was about has no page (any more)."""
    if link is not None:
        try:
            return url_for(link.endpoint, **link.values)
        except BuildError:
            pass
    return url_for("account_notifications.index")


@bp.app_template_filter("unread_label")
def unread_label(count: int) -> str:
    return f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)


@bp.get("")
def index() -> ResponseReturnValue:
    """The user's notifications, newest first, unread ones marked; `?page=` pages through."""
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    listing = in_app.list_page(get_session(), signed_in_user().id, page=page)
    return render_template("account/notifications.html", listing=listing)


@bp.post("/<int:notification_id>/read")
def read(notification_id: int) -> ResponseReturnValue:
    """Mark one read, then follow its link (or, with `stay`, back to the list); htmx gets the
    item in its new state and the bell's new count."""
    user = signed_in_user()
    db = get_session()
    try:
        item = in_app.mark_read(db, user.id, notification_id, now=utcnow())
    except NotFound:
        abort(404)
    if wants_fragment():
        unread = in_app.unread_count(db, user.id)
        return render_template("account/_notification_read.html", item=item, unread=unread)
    if request.form.get("stay"):
        return redirect(url_for(".index", page=request.form.get("page", 1, type=int)), 303)
    return redirect(notification_url(item.link), 303)


@bp.post("/read-all")
def read_all() -> ResponseReturnValue:
    """Mark every notification read and show the list again."""
    marked = in_app.mark_all_read(get_session(), signed_in_user().id, now=utcnow())
    if marked:
        flash("All notifications are marked read.", "success")
    return redirect(url_for(".index"), 303)


@bp.get("/stream")
def stream() -> ResponseReturnValue:
    """`unread` events carrying the bell, sent again whenever the user's notifications change."""
    user_id = signed_in_user().id
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    hub = hub_for(app)
    index_url = url_for(".index")  # rendered below outside the request

    def bell() -> Fragment:
        with get_db().session() as session:
            unread = in_app.unread_count(session, user_id)
        return Fragment(render_template("partials/_bell.html", unread=unread, index_url=index_url))

    return stream_fragment(app, lambda: hub.subscribe(user_id, CHANNEL), "unread", bell)


# --- settings ----------------------------------------------------------------------------


def _field_name(topic: str, channel: preferences.Channel) -> str:
    return f"{topic}__{channel.value}"


class NotificationSettingsForm(AppForm):
    """One checkbox per optional topic and channel (built on the class below)."""


for _topic, _channel in preferences.GRID:
    setattr(NotificationSettingsForm, _field_name(_topic, _channel), BooleanField())


def _settings_page(form: NotificationSettingsForm, status: int = 200) -> ResponseReturnValue:
    grid = [
        (
            t,
            preferences.TOPIC_LABELS[t],
            [(c, form[_field_name(t, c)]) for topic, c in preferences.GRID if topic == t],
        )
        for t in preferences.TOPICS
    ]
    texts_to = verified_number(get_session(), signed_in_user().id)
    return render_template(
        "account/notification_settings.html",
        form=form,
        grid=grid,
        texts_to=display(texts_to) if texts_to else None,
    ), status


@bp.get("/settings")
def settings() -> ResponseReturnValue:
    """Which reminders and digests the user gets, per channel."""
    chosen = preferences.choices(get_session(), signed_in_user().id)
    form = NotificationSettingsForm(data={_field_name(t, c): on for (t, c), on in chosen.items()})
    return _settings_page(form)


@bp.post("/settings")
def save_settings() -> ResponseReturnValue:
    """Save the whole grid at once (an unticked box is off)."""
    form = NotificationSettingsForm()
    if not form.validate():
        return _settings_page(form, 400)
    chosen = {(t, c): bool(form[_field_name(t, c)].data) for t, c in preferences.GRID}
    preferences.save_choices(get_session(), signed_in_user().id, chosen, now=utcnow())
    flash("Your notification settings are saved.", "success")
    return redirect(url_for(".settings"), 303)
