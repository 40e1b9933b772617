"""`make bench-notify`: the reminders of 50,000 bookings, sent by two workers, one of them
killed and restarted midway.

Setup, not timed as delivery (bench/server.py: an embedded PostgreSQL, migrated): one
published event starting in 24 hours less five minutes and NOTIFY_BOOKINGS (default 50,000)
buyers with a confirmed booking of it each, written by bulk SQL. Then the real sweep,
`reminders.schedule_reminders`, runs once, as the worker's cron would: per booking it queues the
24-hour reminder (a mail and its in-app copy, both due at once) and the 1-hour one (due in 23
hours, left pending: not part of this run).

Then, timed: two worker processes (`python -m jobs.worker`, the Procfile's) send to a local SMTP
sink (aiosmtpd in a process of its own that keeps only each message's Message-ID) with
MAIL_BACKEND=smtp. When NOTIFY_KILL_AT (default a third) of the mails have reached the sink,
one worker is killed with SIGKILL and started again at once. The run ends when no 24-hour
reminder is pending. A killed worker's claimed row waits out its lease (delivery.LEASE, two
minutes) before another worker takes it: that wait is in the wall time.

Then the counts: `jobs` is the 24-hour reminder rows sent (mails and in-app copies),
`jobs_per_s` those per second from the first worker's start to the end; `lost` the bookings
whose reminder's Message-ID (derived from its key, `delivery.message_id`) never reached the
sink, `duplicates` the receptions beyond the first of a Message-ID (raw: a repeat the documented
guarantee allows, a kill between the sink's acceptance and the worker's commit, counts too).

Knobs: NOTIFY_BOOKINGS, NOTIFY_KILL_AT, NOTIFY_TIMEOUT_S (default 3,600: the run fails
rather than wait longer for the queue to drain).

Last line: notify: jobs=<n> jobs_per_s=<n> lost=<n> duplicates=<n>
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import psutil

from app.domain.base import utcnow
from app.domain.notifications.delivery import message_id
from app.domain.notifications.reminders import reminder_key, schedule_reminders
from bench.load import create_published_event, is_postgres_of
from bench.server import BenchSite, free_port
from bench.smtp_sink import SinkProcess

BOOKINGS = int(os.environ.get("NOTIFY_BOOKINGS", "50000"))
KILL_AT = float(os.environ.get("NOTIFY_KILL_AT", "0.33"))
TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT_S", "3600"))
KIND = "reminder_24h"
MAIL_FROM = "Eventhall <no-reply@bench.test>"
POLL = 0.2  # seconds between looks at the sink's count
QUEUE_POLL = 1.0  # seconds between looks at the queue (the database is under load)


# --- setup ---------------------------------------------------------------------------------


def book(site: BenchSite, count: int) -> int:
    """An event starting in 24 hours less five minutes, with `count` confirmed bookings of one
    or two tickets, each of its own buyer; the event's id."""
    event_id = site.seed(
        lambda session: (
            create_published_event(
                session,
                title="Stadium night",
                slug="stadium-night",
                starts_in=timedelta(hours=24) - timedelta(minutes=5),
            ).id
        )
    )
    site.create_buyers(count, prefix="reminded")
    site.sql(
        "INSERT INTO bookings (reference, user_id, event_id, status, quantity, total_minor,"
        " currency, confirmed_at, created_at)"
        " SELECT 'N' || lpad(to_hex(u.id), 10, '0'), u.id, :event_id, 'confirmed',"
        " 1 + u.id % 2, 0, 'EUR', now(), now()"
        " FROM users u WHERE u.email LIKE 'reminded%@bench.test'",
        event_id=event_id,
    )
    site.sql("ANALYZE")
    return event_id


def schedule(site: BenchSite) -> int:
    """The reminders sweep, once (as the worker's cron runs it); how many mails it queued."""
    with site.database.session() as session:
        added = schedule_reminders(session, utcnow())
        session.commit()
    return added


def queue_counts(site: BenchSite) -> Counter:
    """(kind, channel, status) -> rows."""
    rows = site.sql(
        "SELECT kind, channel, status, count(*) FROM notifications GROUP BY 1, 2, 3 ORDER BY 1, 2"
    )
    return Counter({(kind, channel, status): n for kind, channel, status, n in rows})


# --- delivery ------------------------------------------------------------------------------


class PostgresCpu:
    """CPU seconds of the site's PostgreSQL processes, sampled about once a second as the run
    goes: a backend that exits (a killed worker's connection) keeps its last sample."""

    def __init__(self, site: BenchSite) -> None:
        self.site = site
        self.last: dict[int, float] = {}
        self.sampled_at = 0.0
        self.sample(now=True)
        self.start = sum(self.last.values())

    def sample(self, *, now: bool = False) -> None:
        if not now and time.monotonic() - self.sampled_at < 1:
            return
        self.sampled_at = time.monotonic()
        for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
            times = proc.info["cpu_times"]
            try:
                if times is not None and is_postgres_of(self.site, proc):
                    self.last[proc.pid] = times.user + times.system
            except psutil.Error:  # gone meanwhile
                continue

    def used(self) -> float:
        self.sample(now=True)
        return sum(self.last.values()) - self.start


def wait_for(
    what: str,
    done: Callable[[], bool],
    workers: list[subprocess.Popen],
    site: BenchSite,
    postgres: PostgresCpu,
    *,
    every: float = POLL,
) -> None:
    """Poll `done` every `every` seconds until it holds; fail at TIMEOUT or when a worker
    dies on its own."""
    deadline = time.monotonic() + TIMEOUT
    while not done():
        postgres.sample()
        for worker in workers:
            if worker.poll() is not None:
                tail = "\n".join((site.tmp / f"worker-{n}.log").read_text()[-2000:] for n in (1, 2))
                raise RuntimeError(f"a worker exited ({worker.returncode}) before {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what} after {TIMEOUT:.0f}s")
        time.sleep(every)


def any_pending(site: BenchSite, *, due: bool = False) -> bool:
    """Whether a 24-hour reminder is still pending (`due`: and due now, so under no lease):
    one look at the due index that stops at the first such row."""
    now = " AND due_at <= now()" if due else ""
    ((found,),) = site.sql(
        f"SELECT EXISTS (SELECT FROM notifications WHERE status = 'pending' AND kind = :kind{now})",
        kind=KIND,
    )
    return bool(found)


def deliver(
    site: BenchSite, sink: SinkProcess, postgres: PostgresCpu, mails: int
) -> dict[str, float]:
    """Two workers until no 24-hour reminder is pending, one killed and restarted when
    KILL_AT of the mails have reached the sink; the moments, in seconds from the start."""
    env = {
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "MAIL_FROM": MAIL_FROM,
    }
    started = time.monotonic()
    workers = [site.start_worker(log_name=f"worker-{n}.log", **env) for n in (1, 2)]
    moments: dict[str, float] = {}

    wait_for("the kill", lambda: sink.count() >= mails * KILL_AT, workers, site, postgres)
    victim = workers[0]
    os.killpg(victim.pid, signal.SIGKILL)  # the worker's own session: this process's child
    victim.wait()
    moments["kill"] = time.monotonic() - started
    at_kill = sink.count()
    print(
        f"kill: worker 1 (pid {victim.pid}) SIGKILLed at {moments['kill']:.1f}s,"
        f" {at_kill} mails received",
        flush=True,
    )
    workers[0] = site.start_worker(log_name="worker-1.log", **env)
    moments["restart"] = time.monotonic() - started
    print(f"restart: worker 1 started again (pid {workers[0].pid})", flush=True)

    # Once nothing pending is due, what is left waits for a lease to run out (the killed
    # worker's claim) or is in a live worker's hands.
    wait_for(
        "the queue to drain but for leases",
        lambda: not any_pending(site, due=True),
        workers,
        site,
        postgres,
        every=QUEUE_POLL,
    )
    moments["leases"] = time.monotonic() - started
    wait_for(
        "the queue to drain",
        lambda: not any_pending(site),
        workers,
        site,
        postgres,
        every=QUEUE_POLL,
    )
    moments["drained"] = time.monotonic() - started
    moments["received_at_kill"] = at_kill
    site.stop_web()  # SIGTERM to the workers
    return moments


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def children_cpu() -> float:
    """CPU seconds of this process's children that it waited for."""
    times = os.times()
    return times.children_user + times.children_system


def main() -> None:
    with BenchSite() as site:
        began = time.perf_counter()
        book(site, BOOKINGS)
        booked = time.perf_counter() - began
        began = time.perf_counter()
        mails = schedule(site)
        scheduled = time.perf_counter() - began
        counts = queue_counts(site)
        in_app = counts[(KIND, "in_app", "pending")]
        later = sum(n for (kind, _, _), n in counts.items() if kind != KIND)
        print(
            f"scheduled: {BOOKINGS} bookings in {booked:.1f}s; the sweep queued {mails} mails"
            f" in {scheduled:.1f}s: {KIND} {counts[(KIND, 'email', 'pending')]} mails and"
            f" {in_app} in-app copies due now, {later} rows of later reminders",
            flush=True,
        )
        children = children_cpu()
        with SinkProcess(site.tmp, free_port()) as sink:
            assert sink.process is not None
            sink_started = cpu_seconds(sink.process.pid)
            postgres = PostgresCpu(site)
            moments = deliver(site, sink, postgres, counts[(KIND, "email", "pending")])
            postgres_cpu = postgres.used()
            sink_total = cpu_seconds(sink.process.pid)
        # The workers, killed or stopped, were waited for: their CPU is this process's children's.
        workers_cpu = children_cpu() - children - sink_total
        sink_cpu = sink_total - sink_started  # its start left out
        received = Counter(sink.message_ids())
        counts = queue_counts(site)
        retried = site.sql(
            "SELECT channel, key, attempts FROM notifications WHERE kind = :kind AND attempts > 1",
            kind=KIND,
        )
        booking_ids = [row[0] for row in site.sql("SELECT id FROM bookings ORDER BY id")]

    sent = counts[(KIND, "email", "sent")] + counts[(KIND, "in_app", "sent")]
    others = {k: n for k, n in counts.items() if k[0] == KIND and k[2] != "sent"}
    config = {"MAIL_FROM": MAIL_FROM}
    expected = {message_id(reminder_key(KIND, booking), config) for booking in booking_ids}
    lost = sum(1 for mid in expected if mid not in received)
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    strangers = sum(n for mid, n in received.items() if mid not in expected)
    wall = moments["drained"]
    print(
        f"delivery: {sent} rows sent ({counts[(KIND, 'email', 'sent')]} mails,"
        f" {counts[(KIND, 'in_app', 'sent')]} in-app) in {wall:.1f}s;"
        f" all but leased rows done at {moments['leases']:.1f}s"
        f" ({sent / moments['leases']:.0f} rows/s before the lease wait);"
        f" not sent: {others or 'none'}; sink received {sum(received.values())},"
        f" {strangers} not ours",
        flush=True,
    )
    per_booking = 1000 / max(1, counts[(KIND, "email", "sent")])
    print(
        f"cpu: workers {workers_cpu:.0f}s, postgres {postgres_cpu:.0f}s, sink {sink_cpu:.0f}s"
        f" over {wall:.0f}s ({psutil.cpu_count()} cores); per booking (a mail and its in-app"
        f" copy): workers {workers_cpu * per_booking:.1f} ms, postgres"
        f" {postgres_cpu * per_booking:.1f} ms, sink {sink_cpu * per_booking:.1f} ms",
        flush=True,
    )
    for channel, key, attempts in retried:
        mid = message_id(key, config) if channel == "email" else None
        got = f", received {received[mid]} times" if mid else ""
        print(f"re-claimed after the kill: {channel} {key} attempts={attempts}{got}", flush=True)
    print(
        f"notify: jobs={sent} jobs_per_s={sent / wall:.0f} lost={lost} duplicates={duplicates}",
        flush=True,
    )


if __name__ == "__main__":
    main()
