"""Public event pages: search with live results, the event page, its calendar file, reports,
and the uploaded images they show."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from app.db import get_listing_session, get_session
from app.domain import money
from app.domain.accounts.models import Role, User
from app.domain.base import utcnow
from app.domain.events.calendar import event_to_ics
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.markdown import plain_text, render_markdown
from app.domain.events.models import Event, EventStatus
from app.domain.events.reports import report_event
from app.domain.events.search import PRICES, SORTS, WHEN, parse_search_args, search_events
from app.domain.events.structured_data import event_json_ld, open_graph
from app.domain.events.visibility import holds_ticket, visible_event
from app.domain.ticketing.catalog import ticket_panel
from app.integrations.storage import Storage, is_media_key, storage_from_config
from app.web.authz import requires_role, signed_in_user_or_none, verified_email_required
from app.web.htmx import render_page_or_fragment
from app.web.http_cache import shared_when_anonymous
from app.web.links import absolute_url
from app.web.public import hot_reads

bp = Blueprint("public_events", __name__)


@bp.app_template_filter("markdown")
def markdown_filter(source: str | None) -> Markup:
    """Event Markdown as sanitized HTML (bleach allow-list, see domain/events/markdown.py)."""
    return Markup(render_markdown(source))  # noqa: S704 - sanitized by render_markdown


@bp.app_template_global("media_url")
def media_url(key: str | None, *, external: bool = False) -> str | None:
    link = absolute_url if external else url_for
    return link("public_events.media", key=key) if key else None


def event_url(event: Event, *, external: bool = False) -> str:
    link = absolute_url if external else url_for
    return link("public_events.show", event_id=event.id, slug=event.slug)


@bp.app_template_global("event_url")
def event_url_global(event: Event) -> str:
    return event_url(event)


@bp.get("/events")
@shared_when_anonymous()
def index() -> str:
    """Search and browse published events; htmx gets just the results."""
    params, notices = parse_search_args(request.args.to_dict(), tags=request.args.getlist("tag"))
    page = search_events(
        get_listing_session(),
        params,
        now=utcnow(),
        zone=current_app.config["EVENTS_DISPLAY_TZ"],
        notices=notices,
    )
    return render_page_or_fragment(
        "public/events.html",
        "public/_event_results.html",
        page=page,
        params=page.params,
        categories=hot_reads.categories(),
        sorts=SORTS,
        quick_picks=WHEN,
        prices=PRICES,
        display_zone=current_app.config["EVENTS_DISPLAY_TZ"],
    )


@bp.get("/events/<int:event_id>")
@bp.get("/events/<int:event_id>-<slug>")
@shared_when_anonymous(availability=True)
def show(event_id: int, slug: str | None = None) -> Response | str:
    """The event page (drafts only for their organizer and admins)."""
    user = signed_in_user_or_none()
    event = hot_reads.event_for_page(event_id, user)
    if slug != event.slug:
        return redirect(event_url(event), 301)
    return _render_event(event, user)


def _render_event(
    event: Event, user: User | None, *, report_errors: list[str] | None = None
) -> str:
    session = get_session()
    now = utcnow()
    is_owner = user is not None and user.id == event.organizer_id
    # Only ticket holders (and the owner) see the join link: ask only when there is one.
    show_join_url = (
        bool(event.online_url)
        and not is_owner
        and holds_ticket(session, user.id if user else None, event.id)
    )
    url = event_url(event, external=True)
    image = media_url(event.cover_image, external=True)
    low_price = None
    if event.min_price_minor is not None:
        low_price = money.format_amount(event.min_price_minor, event.currency)
    return render_template(
        "public/event.html",
        event=event,
        panel=ticket_panel(session, event, now=now),
        is_owner=is_owner,
        show_join_url=show_join_url,
        canonical_url=url,
        json_ld=event_json_ld(event, url=url, image_url=image, low_price=low_price),
        open_graph=open_graph(event, url=url, image_url=image),
        summary=plain_text(event.description, limit=160),
        report_errors=report_errors or [],
        report_reason=request.form.get("reason", "") if report_errors else "",
        EventStatus=EventStatus,
    )


@bp.get("/events/<int:event_id>.ics")
def calendar(event_id: int) -> Response:
    """The event as an iCalendar file, for "add to calendar"."""
    event = visible_event(get_session(), event_id, signed_in_user_or_none())
    url = event_url(event, external=True)
    body = event_to_ics(event, url=url, domain=urlsplit(url).hostname or "localhost", now=utcnow())
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{event.slug}.ics"'},
    )


@bp.post("/events/<int:event_id>/report")
@requires_role(Role.ATTENDEE, Role.ORGANIZER, Role.ADMIN)
@verified_email_required
def report(event_id: int) -> Response | tuple[str, int]:
    """Report abuse on a published event."""
    session = get_session()
    user = signed_in_user_or_none()
    event = visible_event(session, event_id, user)
    try:
        report_event(
            session, event, reporter=user, reason=request.form.get("reason", ""), now=utcnow()
        )
    except EventInvalid as error:
        return _render_event(event, user, report_errors=error.errors.get("reason", [])), 422
    except EventError as error:
        flash(error.message, "warning")
        return redirect(event_url(event), 303)
    flash("Thank you. An admin will look at your report.", "success")
    return redirect(event_url(event))


def current_storage() -> Storage:
    """The app's image storage backend (built once per app from its config)."""
    storage = current_app.extensions.get("storage")
    if storage is None:
        storage = current_app.extensions["storage"] = storage_from_config(current_app.config)
    return storage


@bp.get("/media/<path:key>")
def media(key: str) -> Response:
    """An uploaded image; keys are content hashes, so browsers may cache them for good."""
    if not is_media_key(key):
        abort(404)
    data = current_storage().read(key)
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
