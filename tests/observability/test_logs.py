"""JSON log lines with a request id: echoed to the client, on every line of the request, and
on the worker's lines about the jobs the request queued."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app.domain.outbox import OutboxMessage
from app.observability import logs
from jobs.worker import Worker


@pytest.fixture
def json_logs(app: Flask) -> Iterator[None]:
    logs.configure({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"})
    yield
    logs.configure(app.config)


def json_lines(text: str) -> list[dict]:
    """Every line written, parsed: a line that is not JSON fails the test here."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_valid_incoming_request_id_is_kept_and_echoed(client) -> None:  # noqa: ANN001
    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.91:b"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.91:b"


@pytest.mark.parametrize("offered", [None, "", "has spaces", "x" * 129, "semi;colon", "é"])
def test_a_missing_or_implausible_request_id_is_replaced(client, offered) -> None:  # noqa: ANN001
    headers = {} if offered is None else {"X-Request-ID": offered}
    first = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    second = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert first != second and len(first) == 32 and int(first, 16) >= 0


@pytest.mark.usefixtures("json_logs")
def test_request_lines_are_json_with_route_status_duration_and_user(
    db, client, make_user, login_as, capsys
) -> None:  # noqa: ANN001
    user = make_user()
    login_as(client, user)
    capsys.readouterr()
    response = client.get("/account/bookings", headers={"X-Request-ID": "req-json-1"})
    assert response.status_code == 200
    lines = json_lines(capsys.readouterr().err)
    [line] = [x for x in lines if x["logger"] == "eventhall.request"]
    assert line["request_id"] == "req-json-1" and line["user_id"] == user.id
    assert line["route"] == "/account/bookings" and line["method"] == "GET"
    assert line["status"] == 200 and line["duration_ms"] > 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    assert line["message"] == "GET /account/bookings 200"


@pytest.mark.usefixtures("json_logs")
def test_the_request_id_follows_the_job_the_request_queued(
    app: Flask, db, client, make_user, capsys
) -> None:  # noqa: ANN001
    make_user(email="reset@example.test")
    db.commit()
    response = client.post(
        "/forgot", data={"email": "reset@example.test"}, headers={"X-Request-ID": "req-reset-42"}
    )
    assert response.status_code in (200, 303)
    [message] = db.scalars(select(OutboxMessage)).all()
    assert message.request_id == "req-reset-42"
    capsys.readouterr()

    worker = Worker(app.config)
    try:
        worker.run_outbox_message(message.id)
    finally:
        worker.database.engine.dispose()
    handled = [
        line
        for line in json_lines(capsys.readouterr().err)
        if line["logger"] == "jobs.relay" and line.get("outbox_id") == message.id
    ]
    assert handled and handled[0]["request_id"] == "req-reset-42"
    assert handled[0]["topic"] == message.topic and "handled" in handled[0]["message"]
    assert logs.request_id.get() is None  # the job's context ended with it


def test_text_format_for_a_terminal(capsys) -> None:  # noqa: ANN001
    logs.configure({"LOG_FORMAT": "text"})
    try:
        with logs.context(request="req-text"):
            logging.getLogger("eventhall.test").warning("plain %s", "words")
    finally:
        logs.configure({"LOG_FORMAT": "json"})
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("WARNING eventhall.test [req-text]: plain words")


def test_exceptions_stay_on_one_json_line(capsys) -> None:  # noqa: ANN001
    logs.configure({"LOG_FORMAT": "json"})
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("eventhall.test").exception("it failed")
    [line] = json_lines(capsys.readouterr().err)
    assert line["message"] == "it failed" and "ValueError: broken" in line["exception"]
