"""The load test's workload (bench/locustfile.py) against the test server, so it cannot rot:
every task of every user class runs once, through locust's own HTTP client, on data seeded as
`make bench-load` seeds it (bench/mixed_load.py), and no request fails.

locust patches the standard library for gevent when imported, so it runs in a process of its
own, never in the test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from app.config import ROOT
from app.domain.accounts.models import User
from bench.mixed_load import Accounts, seed_workload
from tests.conftest import LiveServer
from tests.factories.accounts import DEFAULT_PASSWORD

# Signs in each user class (on_start) and runs each of its tasks once, then reports.
ONE_ITERATION = """
import json, sys
import locust
from locust.env import Environment
from bench import locustfile as workload

requests, failures = [], []

@locust.events.request.add_listener
def seen(request_type, name, exception, **_):
    requests.append(f"{request_type} {name}")
    if exception is not None:
        failures.append(f"{request_type} {name}: {exception}")

classes = [workload.Visitor, workload.Buyer, workload.DoorStaff, workload.ApiClient]
env = Environment(user_classes=classes, host=sys.argv[1], events=locust.events)
ran = []
for cls in classes:
    cls.host = sys.argv[1]
    user = cls(env)
    user.on_start()
    for work in dict.fromkeys(cls.tasks):
        work(user)
        ran.append(f"{cls.__name__}.{work.__name__}")
print(json.dumps({"ran": ran, "failures": failures, "requests": sorted(set(requests))}))
"""


def test_every_task_of_every_user_class_runs_clean(
    live_server: LiveServer, db: Session, make_user: Callable[..., User], tmp_path: Path
) -> None:
    def emails(count: int) -> list[str]:
        return [make_user().email for _ in range(count)]

    accounts = Accounts(
        password=DEFAULT_PASSWORD,
        buyers=emails(1),
        staff=emails(1),
        api=emails(1),
        attendees=emails(2),
    )
    data = seed_workload(db, accounts, events=3, scarce_units=5, per_attendee=1)
    db.commit()
    data_file = tmp_path / "load.json"
    data_file.write_text(json.dumps(data))
    failures_file = tmp_path / "failures.jsonl"

    done = subprocess.run(
        [sys.executable, "-c", ONE_ITERATION, live_server.url],
        cwd=ROOT,
        env={**os.environ, "LOAD_DATA": str(data_file), "LOAD_FAILURES": str(failures_file)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failures"] == [], report
    assert not failures_file.exists() or failures_file.read_text() == ""
    assert report["ran"] == [
        "Visitor.listing",
        "Visitor.search",
        "Visitor.event_page",
        "Buyer.buy",
        "Buyer.my_bookings",
        "DoorStaff.scan",
        "ApiClient.read_events",
        "ApiClient.book",
    ]
    # Every step of each flow was taken (a flow stops early at an unexpected answer).
    assert {
        "POST /pay/demo/[ref] (choice)",
        "GET /account/bookings/[ref]/payment",
        "POST /checkin/[id]/scan",
        "GET /api/v1/bookings/[ref]",
        "GET /events?q=[term]",
    } <= set(report["requests"])
