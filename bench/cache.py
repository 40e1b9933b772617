"""`make bench-cache`: the event page's requests per second with and without the per-process
cache of event details and categories (app/web/public/hot_reads.py), in one run.

One embedded PostgreSQL (bench/server.py) and two gunicorn servers on it, as in production,
differing only in EVENT_CACHE_SECONDS (0: the cache off). The event: published, with a
category, a Markdown description of a few paragraphs, four speakers and three tiers on sale.
Visitors are not signed in and send no validator, so every request renders the whole page
(the HTTP caching of app/web/http_cache.py would otherwise answer 304s): what is measured is
the server's work. Each round runs Debian's wrk against one server, then the other
(alternating, so a busy moment of this shared machine hurts both alike), every answer must
be a 200 showing the tickets left; the figures are the medians over the rounds.

Last line: cache: rps_cached=<n> rps_uncached=<n> ratio=<n>
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import urllib.request
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.events.models import Category, Speaker
from app.domain.ticketing.models import TierKind
from app.domain.ticketing.tiers import TierData, create_tier
from bench.load import create_published_event
from bench.server import BenchSite, free_port

ROUNDS = int(os.environ.get("CACHE_ROUNDS", "5"))
SECONDS = int(os.environ.get("CACHE_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("CACHE_CONNECTIONS", "16"))
WRK_THREADS = 2

PARAGRAPH = (
    "An evening of **improvised jazz** with the city's finest players: standards, originals "
    "and a late *jam session* open to anyone who brings an instrument. Doors open an hour "
    "before; the bar serves [local beers](https://example.org/beers) and soft drinks.\n\n"
    "- Two sets of seventy minutes\n- Seating on a first come, first served basis\n"
    "- Step-free access through the side entrance\n\n"
)


@dataclass(frozen=True)
class Page:
    url: str
    path: str


def seed(session: Session) -> str:
    """The event page's path."""
    event = create_published_event(session, title="Late night jazz", slug="late-night-jazz")
    event.category = Category(name="Music", slug="music")
    event.description = PARAGRAPH * 5
    event.tags = ["jazz", "live", "late"]
    for n in range(4):
        event.speakers.append(
            Speaker(name=f"Player {n}", title="Saxophone", bio="Plays often.", position=n)
        )
    for name, price in (("Early bird", 1500), ("Standard", 2500), ("Front row", 4000)):
        create_tier(
            session,
            event=event,
            data=TierData(
                name=name,
                kind=TierKind.PAID,
                price_minor=price,
                currency="EUR",
                capacity=200,
                max_per_order=10,
            ),
            actor_id=event.organizer_id,
            now=utcnow(),
        )
    session.flush()
    return f"/events/{event.id}-{event.slug}"


def start_server(site: BenchSite, *, cache_seconds: int) -> str:
    """Another gunicorn on the site's database, the cache set as asked; its base URL."""
    site.port = free_port()
    site.base_url = f"http://127.0.0.1:{site.port}"
    os.environ["EVENT_CACHE_SECONDS"] = str(cache_seconds)
    site.start_web(with_worker=False)
    return site.base_url


def check(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
        body = response.read().decode()
    if response.status != 200 or "200 left" not in body:
        raise RuntimeError(f"{url} did not show the event page")


def wrk(url: str, seconds: int) -> float:
    command = [
        shutil.which("wrk") or "wrk",
        f"--threads={WRK_THREADS}",
        f"--connections={CONNECTIONS}",
        f"--duration={seconds}s",
        "--timeout=10s",
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", out.stdout, re.M)
    if out.returncode or rate is None:
        raise RuntimeError(f"wrk failed:\n{out.stdout}\n{out.stderr}")
    if "Non-2xx or 3xx responses" in out.stdout or "Socket errors" in out.stdout:
        raise RuntimeError(f"errors during the run:\n{out.stdout}")
    return float(rate.group(1))


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make bench-cache` installs it (apt-get install wrk)")
    with BenchSite() as site:
        path = site.seed(seed)
        pages = {
            "cached": start_server(site, cache_seconds=300) + path,
            "uncached": start_server(site, cache_seconds=0) + path,
        }
        rates: dict[str, list[float]] = {name: [] for name in pages}
        for url in pages.values():
            check(url)
            wrk(url, 2)  # warm up: imports, templates, connections, the cache's first read
        for round_ in range(ROUNDS):
            order = list(pages) if round_ % 2 == 0 else list(reversed(pages))
            for name in order:
                rates[name].append(wrk(pages[name], SECONDS))
            print(
                f"round {round_ + 1}: "
                + " ".join(f"{name}={rates[name][-1]:.0f}/s" for name in pages),
                flush=True,
            )
        for url in pages.values():
            check(url)
    cached = statistics.median(rates["cached"])
    uncached = statistics.median(rates["uncached"])
    ratio = cached / uncached
    print(f"cache: rps_cached={cached:.0f} rps_uncached={uncached:.0f} ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
