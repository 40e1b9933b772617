"""`make bench-api-rush`: the ticket rush through the API's `POST /api/v1/bookings`, and through
the booking form in the same run, on the same site (bench/rush.py explains the setup and wrk).

Two hot events of API_RUSH_UNITS (default 6,000) general-admission units of a paid tier, with
a per-user limit, and API_RUSH_BUYERS (default 200) buyers. For the form each buyer logs in
and takes its CSRF token, as in bench/rush.py; for the API each has a personal access token
(scope bookings:write) and posts JSON with `Authorization: Bearer`. wrk sells the form's event
out, then the API's. The rates come from the database (the holds' `created_at` against the
wall clock when wrk started), overselling too. The API's rate limits are raised for the run,
as bench/server.py raises the form's (one machine sends everything).

Last line:
api-rush: holds_per_s=<api> ratio_to_form=<api / form> oversold=<n, both events>
"""

from __future__ import annotations

import asyncio
import json
import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.api_tokens import personal
from app.domain.base import utcnow
from bench.load import HotEvent, create_hot_event
from bench.rush import PER_USER_LIMIT, buyer_credentials, check_database, run_wrk, sales_timeline
from bench.server import NETWORK_BOOKING_BURST, BenchSite

UNITS = int(os.environ.get("API_RUSH_UNITS", "6000"))
BUYERS = int(os.environ.get("API_RUSH_BUYERS", "200"))
API_LIMITS = (
    "API_NETWORK_BURST",
    "API_NETWORK_PER_MINUTE",
    "API_TOKEN_BURST",
    "API_TOKEN_PER_MINUTE",
)


def api_tokens(
    session: Session, emails: list[str], scopes: tuple[str, ...] = ("bookings:write",)
) -> list[str]:
    """A personal token of `scopes` for each buyer (raw values, as their apps keep them)."""
    users = session.scalars(select(User).where(User.email.in_(emails)).order_by(User.id)).all()
    now = utcnow()
    tokens = []
    for user in users:
        user.authenticated_at = now  # making a token needs a recent sign-in
        session.flush()
        _token, raw = personal.create_token(
            session, user, name="bench", scopes=list(scopes), lifetime=None, now=now
        )
        tokens.append(raw)
    return tokens


def holds_per_s(site: BenchSite, hot: HotEvent, started_at: float) -> float:
    sold_at = sales_timeline(site, hot)
    elapsed = max(sold_at) - started_at if sold_at else 0.0
    return len(sold_at) / elapsed if elapsed > 0 else 0.0


def main() -> None:
    for name in API_LIMITS:
        os.environ.setdefault(name, str(NETWORK_BOOKING_BURST))
    with BenchSite() as site:

        def hot(title: str) -> HotEvent:
            return site.seed(
                lambda s: create_hot_event(
                    s, capacity=UNITS, price_minor=2500, per_user_limit=PER_USER_LIMIT, title=title
                )
            )

        form_event, api_event = hot("The hot show"), hot("The hot show, by app")
        # Buyers of their own for each path: neither pays for the other's bookings in the
        # per-user counts.
        emails = site.create_buyers(BUYERS)
        app_emails = site.create_buyers(BUYERS, prefix="app-buyer")
        tokens = site.seed(lambda s: api_tokens(s, app_emails))
        body = json.dumps(
            {"event_id": api_event.event_id, "tier_id": api_event.tier_id, "quantity": 1}
        )
        site.start_web()
        form_lines = asyncio.run(buyer_credentials(site, form_event, emails))
        form_rush, form_cpu = run_wrk(
            site, f"{site.base_url}/events/{form_event.event_id}/book", form_lines
        )
        api_lines = [f"{token}\t{body}" for token in tokens]
        api_rush, api_cpu = run_wrk(site, f"{site.base_url}/api/v1/bookings", api_lines, api=True)
        results = {}
        oversold = 0
        for name, event, rush, cpu in (
            ("form", form_event, form_rush, form_cpu),
            ("api", api_event, api_rush, api_cpu),
        ):
            holds, over, double = check_database(site, event)
            per_s = holds_per_s(site, event, rush.started_at)
            oversold += over + double
            results[name] = per_s
            print(
                f"{name}: holds={holds} holds_per_s={per_s:.0f} statuses={rush.statuses}"
                f" errors={rush.errors} p50={rush.p50_ms:.0f}ms p99={rush.p99_ms:.0f}ms"
                f" oversold={over} double_sold={double}",
                flush=True,
            )
            print(cpu.line(), flush=True)
        site.stop_web()
    ratio = results["api"] / results["form"] if results["form"] else 0.0
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average after the run: {load}", flush=True)
    print(
        f"api-rush: holds_per_s={results['api']:.0f} ratio_to_form={ratio:.2f} oversold={oversold}",
        flush=True,
    )


if __name__ == "__main__":
    main()
