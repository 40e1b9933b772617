"""Live availability for browsers: a server-sent-event stream per event, and the same fragment
as a plain GET (for a re-read without the stream).

The stream holds no database connection while it waits: it is woken by the process's single
LISTEN connection (app/live.py) and renders through the shared fragment cache, which borrows a
pooled connection only for the moment it re-reads the event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from app.domain.base import NotFound
from app.live import hub_for
from app.web.authz import published_event_or_404
from app.web.event_stream import open_event_stream
from app.web.public.live_fragments import (
    fragments_for,
    out_of_band,
    requested_part,
    requested_seats,
)

bp = Blueprint("public_live", __name__)
log = logging.getLogger(__name__)


@bp.get("/events/<int:event_id>/live")
def stream(event_id: int) -> ResponseReturnValue:
    """`availability` events with the fresh counts (and seat rows, with `?seats=1`)."""
    published_event_or_404(event_id)
    seats = requested_seats(request.args.get("seats"))
    section = requested_part(request.args.get("section"))
    since = request.headers.get("Last-Event-ID")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    hub, fragments = hub_for(app), fragments_for(app)
    fragments.page_key(event_id, seats=seats, section=section)  # a made-up part is a 404

    def events(keepalive: float, ends: float) -> Iterator[str]:
        last = since
        with hub.subscribe(event_id) as subscription:
            yield "retry: 3000\n\n"
            while (left := ends - time.monotonic()) > 0:
                # Woken by a change, or a quiet keep-alive interval passed: either way re-read
                # (the fragment cache makes that cheap), which also heals changes that never
                # notified; an empty answer becomes a comment line that finds browsers gone.
                try:
                    with app.app_context():
                        message = fragments.message(
                            event_id, seats=seats, section=section, since=last
                        )
                except SQLAlchemyError as error:
                    # The browser reconnects (`retry`) and is answered once the database is back.
                    log.warning("live stream of event %s ended: %s", event_id, error)
                    return
                except NotFound:
                    return  # the part went away with a new layout; a reconnect is a 404
                last = message.id
                yield message.encode() if message.data else ": still here\n\n"
                subscription.wait(min(keepalive, left))

    return open_event_stream(app, events)


@bp.get("/events/<int:event_id>/availability")
def availability(event_id: int) -> ResponseReturnValue:
    """The stream's message as one fragment: counts (and the seat grid with `?seats=1`)."""
    published_event_or_404(event_id)
    snapshot = fragments_for(current_app).snapshot(
        event_id,
        seats=requested_seats(request.args.get("seats")),
        section=requested_part(request.args.get("section")),
    )
    return snapshot.counts + (out_of_band(snapshot.grid) if snapshot.grid else "")
