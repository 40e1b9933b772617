"""Shared pieces of the ticket benchmarks: the hot event, buyers with logged-in HTTP sessions,
timing statistics and CPU accounting.

Buyers log in with aiohttp, each with its own client session (its own cookies, so its own
login and CSRF token), as separate browsers would. bench/purchase.py then shops with those
sessions; bench/rush.py hands their cookies and tokens to wrk (bench/rush.lua).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
import psutil
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.base import utcnow
from app.domain.events.models import Event, EventStatus, EventType
from app.domain.ticketing.models import TierKind
from app.domain.ticketing.tiers import TierData, create_tier
from bench.server import BenchSite, log_in


@dataclass(frozen=True)
class HotEvent:
    event_id: int
    tier_id: int
    capacity: int


def create_published_event(
    session: Session,
    *,
    title: str = "The hot show",
    slug: str = "the-hot-show",
    starts_in: timedelta = timedelta(days=30),
) -> Event:
    """A published event (with its own organizer) starting in `starts_in`, priced in EUR."""
    organizer = User(
        email=f"organizer-{time.monotonic_ns()}@bench.test",
        name="Bench Organizer",
        role=Role.ORGANIZER,
        email_verified_at=utcnow(),
    )
    session.add(organizer)
    starts_at = utcnow() + starts_in
    event = Event(
        organizer=organizer,
        title=title,
        slug=slug,
        description="Everyone wants to be there.",
        event_type=EventType.OFFLINE,
        venue_name="Arena",
        address="Main Street 1",
        city="Berlin",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        timezone="Europe/Berlin",
        tags=[],
        currency="EUR",
        sold_count=0,
        status=EventStatus.PUBLISHED,
        submitted_at=utcnow(),
        published_at=utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def create_hot_event(
    session: Session,
    *,
    capacity: int,
    price_minor: int,
    per_user_limit: int | None = None,
    title: str = "The hot show",
) -> HotEvent:
    """A published event with one general-admission tier of `capacity` units."""
    event = create_published_event(session, title=title)
    tier = create_tier(
        session,
        event=event,
        data=TierData(
            name="General admission",
            kind=TierKind.PAID if price_minor else TierKind.FREE,
            price_minor=price_minor,
            currency="EUR",
            capacity=capacity,
            max_per_order=10,
            per_user_limit=per_user_limit,
        ),
        actor_id=event.organizer_id,
        now=utcnow(),
    )
    return HotEvent(event.id, tier.id, capacity)


def cookie_jar(site: BenchSite) -> aiohttp.CookieJar:
    """A client's cookies for the bench site. Production marks its cookies Secure; like a
    browser for localhost, the client treats the site's loopback origin as a secure one."""
    return aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[site.base_url])


async def logged_in_buyers(site: BenchSite, emails: list[str], *, parallel: int = 16) -> list[Any]:
    """One aiohttp session per buyer, each signed in through the login form."""
    gate = asyncio.Semaphore(parallel)

    async def one(email: str) -> aiohttp.ClientSession:
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1),
            cookie_jar=cookie_jar(site),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        async with gate:
            for attempt in range(3):  # a login can time out while the machine is saturated
                try:
                    await log_in(http, site.base_url, email)
                    break
                except (TimeoutError, aiohttp.ClientError, RuntimeError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(1 + attempt)
        return http

    return list(await asyncio.gather(*(one(email) for email in emails)))


async def close_all(sessions: list[aiohttp.ClientSession]) -> None:
    await asyncio.gather(*(http.close() for http in sessions))


def percentile_ms(samples: list[float], pct: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def is_postgres_of(site: BenchSite, proc: psutil.Process) -> bool:
    """Whether `proc` (from `psutil.process_iter(["name", "cmdline", ...])`) is the site's
    PostgreSQL: its postmaster (the data directory on its command line) or one of its
    children (backends, background processes)."""
    if proc.info["name"] != "postgres":
        return False
    if str(site.tmp) in " ".join(proc.info["cmdline"] or []):
        return True
    parent = proc.parent()
    return parent is not None and str(site.tmp) in " ".join(parent.cmdline())


@dataclass
class CpuMeter:
    """CPU seconds used by the web workers, PostgreSQL and the load generator (this process
    and the children it waited for) meanwhile."""

    site: BenchSite
    start: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> dict[str, float]:
        totals = {"web": 0.0, "postgres": 0.0, "worker": 0.0, "client": 0.0}
        web = set(self.site.web_pids()) | {self.site.processes[0].pid}
        worker = {p.pid for p in self.site.processes[1:]}
        for proc in psutil.process_iter(["pid", "name", "cpu_times", "cmdline"]):
            times = proc.info["cpu_times"]
            if times is None:
                continue
            used = times.user + times.system
            if proc.info["pid"] in web:
                totals["web"] += used
            elif proc.info["pid"] in worker:
                totals["worker"] += used
            elif is_postgres_of(self.site, proc):
                totals["postgres"] += used
        me = psutil.Process().cpu_times()
        # Children this process waited for count too: the rush's load generator is wrk.
        totals["client"] = me.user + me.system + me.children_user + me.children_system
        machine = psutil.cpu_times()
        totals["machine"] = machine.user + machine.system + machine.nice + machine.softirq
        return totals

    def __enter__(self) -> CpuMeter:
        self.start = self._sample()
        self.started_at = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        self.wall = time.monotonic() - self.started_at
        self.used = {name: end[name] - self.start.get(name, 0.0) for name in end}

    def line(self) -> str:
        """CPU seconds by consumer; `other` is whatever else ran on the machine meanwhile."""
        used = dict(self.used)
        machine = used.pop("machine")
        used["other"] = max(0.0, machine - sum(used.values()))
        parts = " ".join(f"{name}={seconds:.1f}s" for name, seconds in used.items())
        cores = psutil.cpu_count() or 1
        return f"cpu over {self.wall:.1f}s wall ({cores} cores = {cores * self.wall:.1f}s): {parts}"
