"""`POST /webhooks/<provider>`: provider events, verified by the provider's SDK.

A bad, missing or stale signature answers 400 and changes nothing; an unknown (or not set up)
provider 404. A verified event is applied once (`apply_event`) and answered 200, duplicates
too. Lock waits are retried here, so our own state never makes a provider retry; a real
failure answers 500 (the provider delivers again) and is logged with the event's id, and a
signature that could not be checked because the provider was unreachable answers 503.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.base import Busy, utcnow
from app.domain.payments.events import apply_event
from app.extensions import csrf
from app.integrations.payments import configured_providers
from app.integrations.payments.base import ProviderError, WebhookRejected
from app.observability.metrics import WEBHOOK_SIGNATURE_FAILURES

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)
ATTEMPTS = 5  # lock waits end after LOCK_TIMEOUT_MS; this many before giving up with a 500


@bp.post("/<provider>")
@csrf.exempt  # signed by the provider instead
def receive(provider: str) -> ResponseReturnValue:
    handler = configured_providers(current_app.config).get(provider)
    if handler is None:
        abort(404)
    try:
        event = handler.parse_webhook(request.get_data(), request.headers)
    except WebhookRejected as rejected:
        log.info("webhook from %s rejected: %s", provider, rejected)
        WEBHOOK_SIGNATURE_FAILURES.labels(provider).inc()
        return jsonify(error=str(rejected)), 400
    except ProviderError as error:  # verifying needed the provider (PayPal), which failed
        log.warning("webhook from %s not verified: %s", provider, error)
        return jsonify(error="could not verify; deliver again"), 503
    session = get_session()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            outcome = apply_event(session, provider, event, now=utcnow())
            session.commit()
            return jsonify(outcome=outcome), 200
        except Busy:
            session.rollback()
            log.info("webhook %s %s: busy, attempt %s", provider, event.event_id, attempt)
        except Exception:
            session.rollback()
            log.exception("webhook %s %s failed", provider, event.event_id)
            return jsonify(error="failed; deliver again"), 500
    log.error("webhook %s %s: still busy after %s attempts", provider, event.event_id, ATTEMPTS)
    return jsonify(error="busy; deliver again"), 500
