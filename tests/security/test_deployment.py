"""Deployment safety: production settings that cannot be weakened, HSTS, development mode kept
on the developer's own machine (its bind address and its conveniences)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.config import ROOT, load_config
from app.serving import UnsafeBind, check_bind, is_loopback
from tests.conftest import _test_config

STRONG_KEY = "k" * 32


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "INSTANCE_DIR": str(tmp_path),
        "BASE_URL": "https://tickets.example.com",
        **extra,
    }


def test_production_refuses_a_missing_or_short_secret_key(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        load_config(production_env(tmp_path))
    for short in ("secret", "k" * 31, "é" * 15):  # 15 two-byte characters: 30 bytes
        with pytest.raises(RuntimeError, match="at least 32 bytes"):
            load_config(production_env(tmp_path, SECRET_KEY=short))
    assert load_config(production_env(tmp_path, SECRET_KEY=STRONG_KEY))["SECRET_KEY"]
    assert not (tmp_path / "secret_key").exists()  # no development key written either


def test_production_refuses_a_missing_base_url(tmp_path: Path) -> None:
    for base_url in ("", "/", "tickets.example.com"):
        env = production_env(tmp_path, SECRET_KEY=STRONG_KEY, BASE_URL=base_url)
        with pytest.raises(RuntimeError, match="BASE_URL must be set in production"):
            load_config(env)
    env = production_env(tmp_path, SECRET_KEY=STRONG_KEY, BASE_URL="https://tickets.example.com/")
    assert load_config(env)["BASE_URL"] == "https://tickets.example.com"
    development = load_config({"INSTANCE_DIR": str(tmp_path)})
    assert development["BASE_URL"] == "http://127.0.0.1:5000"


def test_production_cookies_are_secure_whatever_the_setting_says(tmp_path: Path) -> None:
    config = load_config(production_env(tmp_path, SECRET_KEY=STRONG_KEY, SESSION_COOKIE_SECURE="0"))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    development = load_config({"INSTANCE_DIR": str(tmp_path)})
    assert development["SESSION_COOKIE_SECURE"] is False  # plain http://127.0.0.1 works


def test_production_answers_with_hsts(database_url: str, tmp_path: Path, app: Flask) -> None:
    from app import create_app

    production = create_app(_test_config(database_url, tmp_path, APP_ENV="production"))
    try:
        response = production.test_client().get("/healthz")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        production.config["HSTS_SECONDS"] = 0
        assert "Strict-Transport-Security" not in production.test_client().get("/healthz").headers
    finally:
        production.extensions["db"].engine.dispose()
    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.5", False),
        ("203.0.113.9", False),
        ("::ffff:203.0.113.9", False),
        ("2001:db8::1", False),
        ("", False),
        (None, False),
        ("localhost", False),  # a client address is never a name
    ],
)
def test_loopback_clients(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback


DEV = {"APP_ENV": "development", "ALLOW_DEV_ON_NETWORK": False}


@pytest.mark.parametrize(
    "addresses",
    [[("127.0.0.1", 5000)], [("localhost", 5000)], [("::1", 5000)], ["eh.sock"], [3]],
)
def test_development_may_listen_on_this_machine(addresses: list[object]) -> None:
    check_bind(addresses, DEV)


EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - what these tests try and expect refused


@pytest.mark.parametrize("host", [EVERY_INTERFACE, "::", "", "10.0.0.5", "203.0.113.9"])
def test_development_refuses_to_listen_on_the_network(host: str) -> None:
    with pytest.raises(UnsafeBind, match="ALLOW_DEV_ON_NETWORK=1"):
        check_bind([("127.0.0.1", 5000), (host, 5000)], DEV)
    check_bind([(host, 5000)], {**DEV, "ALLOW_DEV_ON_NETWORK": True})
    check_bind([(host, 5000)], {"APP_ENV": "production", "ALLOW_DEV_ON_NETWORK": False})


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port this test already listens on (every interface), so that a server that wrongly
    starts cannot bind it either and soon gives up."""
    with socket.socket() as sock:
        sock.bind((EVERY_INTERFACE, 0))
        sock.listen()
        yield sock.getsockname()[1]


def _run(argv: list[str], tmp_path: Path, port: int, **env: str) -> tuple[int, str]:
    """Run a server command; (exit status, stderr). Its whole process group is killed if it is
    still running after a minute (a server that wrongly started)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"APP_ENV", "ALLOW_DEV_ON_NETWORK"}}
    process = subprocess.Popen(
        [sys.executable, *argv],
        cwd=ROOT,
        env={
            **clean,
            "INSTANCE_DIR": str(tmp_path),
            "PORT": str(port),
            # Nothing listens there: a launcher that wrongly goes on fails at once.
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate()
    return process.returncode, stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        # A command-line bind overrides HOST: what gunicorn will really bind is what counts.
        ["-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", "0.0.0.0:{port}", "wsgi:app"],
        ["-m", "app.launcher", "run"],
    ],
)
def test_development_servers_refuse_a_network_address(
    argv: list[str], tmp_path: Path, taken_port: int
) -> None:
    argv = [arg.format(port=taken_port) for arg in argv]
    host = "127.0.0.1" if "-b" in argv else EVERY_INTERFACE
    status, stderr = _run(argv, tmp_path, taken_port, HOST=host)
    assert status != 0
    assert "ALLOW_DEV_ON_NETWORK=1" in stderr, stderr
    assert "Traceback" not in stderr


def test_gunicorn_refuses_production_with_a_short_secret_key(
    tmp_path: Path, taken_port: int
) -> None:
    argv = ["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    status, stderr = _run(
        argv, tmp_path, taken_port, APP_ENV="production", SECRET_KEY="short", HOST=EVERY_INTERFACE
    )
    assert status != 0
    assert "at least 32 bytes" in stderr, stderr


def test_the_dev_outbox_answers_only_loopback_clients(app: Flask, client) -> None:  # noqa: ANN001
    app.config["APP_ENV"] = "development"
    try:
        assert client.get("/dev/outbox").status_code == 200
        assert client.get("/dev/outbox", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
        for remote in ("203.0.113.9", "10.1.2.3", "::ffff:192.0.2.1"):
            response = client.get("/dev/outbox", environ_base={"REMOTE_ADDR": remote})
            assert response.status_code == 404, remote
        forged = {"REMOTE_ADDR": "203.0.113.9"}
        headers = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}
        assert client.get("/dev/outbox", environ_base=forged, headers=headers).status_code == 404
    finally:
        app.config["APP_ENV"] = "test"
    assert client.get("/dev/outbox").status_code == 404  # and never outside development
