"""The mixed workload of `make bench-load` (bench/mixed_load.py runs it; locust drives it).

Four kinds of visitor, each through the site's real pages and endpoints:

- `Visitor` (anonymous): the home page, the listing, a search, an event page.
- `Buyer`: signs in through the login form, opens an event page, holds tickets with its
  booking form, pays with the demo provider (its hosted checkout, "succeed"; one in ten cards
  is declined) and looks at the payment's status page. The worker then delivers the provider's
  webhook, which confirms the booking and queues its confirmation mail. A third of the holds
  go to a scarce tier that sells out during the run: "not enough tickets left" is the site's
  right answer then, not a failure.
- `DoorStaff`: signs in, opens the door page of an event whose tickets were sold before the
  run and scans codes as the scanner script does (`Accept: application/json`).
- `ApiClient`: an app with a personal access token: event search, an event, its tiers, then
  `POST /api/v1/bookings` (an Idempotency-Key each) on a free tier, and the booking.

The data (accounts, their password, tokens, event and tier ids, ticket codes) comes from the
JSON file named by LOAD_DATA, written by whoever seeded the site (bench/mixed_load.py,
tests/bench/test_locustfile.py). When LOAD_FAILURES names a file, every failed request is
appended to it as a JSON line (when it started, how long it took, its HTTP status, 0 for no
answer at all, whether the connection broke, and the error), so a fault run can tell which
errors the killed process caused.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import random
import uuid
from collections.abc import Callable
from http.client import HTTPException
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser


def _csrf_reader() -> Callable[[str], str]:
    """app/web/csrf_token.py's reader, loaded from its file alone: importing it through its
    package would load the whole app (seconds of CPU) into the load generator."""
    path = Path(__file__).resolve().parent.parent / "app" / "web" / "csrf_token.py"
    spec = importlib.util.spec_from_file_location("csrf_token", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.csrf_token_from


csrf_token_from = _csrf_reader()

SOLD_OUT = "not enough tickets left"
DECLINE_ONE_IN = 10
SCARCE_SHARE = 0.3
LOGIN_ATTEMPTS = 3
# The connection broke before a whole answer came: closed or reset, or a response cut short
# (geventhttpclient's parse errors are http.client's HTTPException). A 4xx or 5xx, a timeout
# or an answer the locustfile refuses is not one of these.
CUT = (HTTPException, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


def _load_data() -> dict[str, Any]:
    path = os.environ.get("LOAD_DATA")
    if not path:
        raise RuntimeError("LOAD_DATA must name the workload's data file (bench/mixed_load.py)")
    with open(path) as handle:
        return json.load(handle)


def _failure_log() -> TextIO | None:
    path = os.environ.get("LOAD_FAILURES")
    return open(path, "a") if path else None  # noqa: SIM115 - written to for the whole run


DATA = _load_data()
_failures = _failure_log()
# Each signed-in visitor takes the next account of its kind, each visitor the next address.
_NEXT = {"buyers": itertools.count(), "staff": itertools.count(), "api_tokens": itertools.count()}
_addresses = itertools.count(1)


def _next_address() -> str:
    n = next(_addresses)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _next(kind: str) -> Any:
    pool = DATA[kind]
    return pool[next(_NEXT[kind]) % len(pool)]


@events.request.add_listener
def _record_failure(
    name: str,
    response_time: float,
    exception: BaseException | None,
    start_time: float | None = None,
    response: Any = None,
    **_: Any,
) -> None:
    if exception is None or _failures is None:
        return
    line = {
        "start": start_time,
        "seconds": response_time / 1000,
        "name": name,
        "status": getattr(response, "status_code", 0) or 0,
        "cut": isinstance(exception, CUT),
        "error": f"{type(exception).__name__}: {exception}"[:300],
    }
    _failures.write(json.dumps(line) + "\n")
    _failures.flush()


def _redirect(answer: Any) -> str:
    """The path (and query) a redirect names ("" for none): the site's absolute URLs name its
    BASE_URL, which need not be the address the load reaches it at."""
    parts = urlsplit((answer.headers or {}).get("Location") or "")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _refuse(answer: Any, message: str) -> None:
    """Fail a caught answer with `message`; when no answer came at all, its own error (the
    broken connection) is what counts, so it is left as it is."""
    if answer.status_code:
        answer.failure(message)


class Client(FastHttpUser):
    """A visitor from a network of its own: the site runs behind one trusted proxy
    (TRUSTED_PROXIES=1, as behind a production load balancer), which names the client in
    X-Forwarded-For. The limits the site counts per network (logins, holds, the API) then see
    separate visitors, not one machine sending everything."""

    abstract = True

    def __init__(self, environment: Any) -> None:
        self.default_headers = {"X-Forwarded-For": _next_address()}
        super().__init__(environment)


class SignedIn(Client):
    """A visitor who signs in through the login form (a GET for its CSRF token, a POST)."""

    abstract = True
    pool = ""

    def on_start(self) -> None:
        email = _next(self.pool)
        for _attempt in range(LOGIN_ATTEMPTS):
            if self._log_in(email):
                return
        raise StopUser()

    def _log_in(self, email: str) -> bool:
        page = self.client.get("/login", name="/login")
        if page.status_code != 200:
            return False
        form = {
            "email": email,
            "password": DATA["password"],
            "csrf_token": csrf_token_from(page.text or ""),
        }
        with self.client.post(
            "/login", data=form, allow_redirects=False, name="/login", catch_response=True
        ) as answer:
            if answer.status_code in (302, 303):
                return True
            _refuse(answer, f"login of {email} answered {answer.status_code}")
            return False


class Visitor(Client):
    """Anonymous: the listing, a search, an event page."""

    weight = 5
    wait_time = between(0.5, 2)

    @task(2)
    def listing(self) -> None:
        self.client.get("/", name="/")
        self.client.get("/events", name="/events")

    @task(2)
    def search(self) -> None:
        term = random.choice(DATA["searches"])
        self.client.get(f"/events?q={term}", name="/events?q=[term]")

    @task(3)
    def event_page(self) -> None:
        event_id = random.choice(DATA["events"])
        # /events/<id> redirects to the event's canonical address, as a listing links to it.
        self.client.get(f"/events/{event_id}", name="/events/[id]")


class Buyer(SignedIn):
    """Holds tickets and pays for them with the demo provider."""

    weight = 3
    wait_time = between(0.5, 2)
    pool = "buyers"

    @task(4)
    def buy(self) -> None:
        sale = DATA["sale"]
        event_id = sale["event_id"]
        page = self.client.get(f"/events/{event_id}", name="/events/[id]")
        if page.status_code != 200:
            return
        scarce = random.random() < SCARCE_SHARE
        form = {
            "csrf_token": csrf_token_from(page.text or ""),
            "tier_id": sale["scarce_tier_id" if scarce else "tier_id"],
            "quantity": random.randint(1, 3),
        }
        with self.client.post(
            f"/events/{event_id}/book",
            data=form,
            allow_redirects=False,
            name="/events/[id]/book",
            catch_response=True,
        ) as held:
            if held.status_code == 409 and SOLD_OUT in (held.text or ""):
                held.success()  # the scarce tier sold out: the right answer
                return
            booking = _redirect(held)
            if held.status_code != 303 or not booking.startswith("/account/bookings/"):
                _refuse(held, f"hold answered {held.status_code} to {booking or 'nowhere'}")
                return
        reference = booking.rstrip("/").rsplit("/", 1)[1]
        self.client.get(booking, name="/account/bookings/[ref]")
        with self.client.post(
            f"/account/bookings/{reference}/pay",
            data={"csrf_token": form["csrf_token"], "provider": "demo"},
            allow_redirects=False,
            name="/account/bookings/[ref]/pay",
            catch_response=True,
        ) as started:
            checkout = _redirect(started)
            if started.status_code != 303 or not checkout.startswith("/pay/demo/"):
                _refuse(
                    started, f"paying answered {started.status_code} to {checkout or 'nowhere'}"
                )
                return
        page = self.client.get(checkout, name="/pay/demo/[ref]")
        if page.status_code != 200:
            return
        choice = "fail" if random.randrange(DECLINE_ONE_IN) == 0 else "succeed"
        with self.client.post(
            checkout,
            data={"csrf_token": csrf_token_from(page.text or ""), "choice": choice},
            allow_redirects=False,
            name="/pay/demo/[ref] (choice)",
            catch_response=True,
        ) as paid:
            status_page = _redirect(paid)
            if paid.status_code != 303 or not status_page:
                _refuse(paid, f"the checkout answered {paid.status_code}")
                return
        self.client.get(status_page, name="/account/bookings/[ref]/payment")

    @task(1)
    def my_bookings(self) -> None:
        self.client.get("/account/bookings", name="/account/bookings")


class DoorStaff(SignedIn):
    """Scans tickets at the door, as the scanner script does."""

    weight = 1
    wait_time = between(0.5, 1.5)
    pool = "staff"

    def on_start(self) -> None:
        super().on_start()
        door = DATA["door"]
        self.scan_url = f"/checkin/{door['event_id']}/scan"
        page = self.client.get(f"/checkin/{door['event_id']}", name="/checkin/[id]")
        self.token = csrf_token_from(page.text or "")
        # Each phone scans every code in an order of its own: a code another phone scanned
        # first answers "already checked in", as at a real door.
        self.codes = itertools.cycle(random.sample(door["codes"], len(door["codes"])))
        self.gate = f"Gate {random.randint(1, 4)}"

    @task
    def scan(self) -> None:
        form = {"code": next(self.codes), "gate": self.gate, "scan_id": uuid.uuid4().hex}
        headers = {"Accept": "application/json", "X-CSRFToken": self.token}
        with self.client.post(
            self.scan_url,
            data=form,
            headers=headers,
            name="/checkin/[id]/scan",
            catch_response=True,
        ) as answer:
            if answer.status_code == 200 and "result" not in (answer.json() or {}):
                answer.failure("a scan answer without a result")


class ApiClient(Client):
    """An app with a personal access token (scopes events:read and bookings:write)."""

    weight = 2
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {_next('api_tokens')}"}

    @task(2)
    def read_events(self) -> None:
        self.client.get("/api/v1/events?limit=20", headers=self.auth, name="/api/v1/events")
        event_id = random.choice(DATA["events"])
        self.client.get(f"/api/v1/events/{event_id}", headers=self.auth, name="/api/v1/events/[id]")
        self.client.get(
            f"/api/v1/events/{event_id}/tiers", headers=self.auth, name="/api/v1/events/[id]/tiers"
        )

    @task(1)
    def book(self) -> None:
        free = DATA["free"]
        body = {"event_id": free["event_id"], "tier_id": free["tier_id"], "quantity": 1}
        headers = {**self.auth, "Idempotency-Key": str(uuid.uuid4())}
        made = self.client.post(
            "/api/v1/bookings", json=body, headers=headers, name="/api/v1/bookings"
        )
        if made.status_code == 201:
            reference = made.json()["reference"]
            self.client.get(
                f"/api/v1/bookings/{reference}", headers=self.auth, name="/api/v1/bookings/[ref]"
            )
