"""Secrets from files: every secret setting also reads NAME_FILE (Kubernetes Secrets mounted as
files, Vault Agent, a cloud secrets manager's CSI volume)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ROOT, SECRET_SETTINGS, load_config, with_secret_files

STRONG_KEY = "k" * 40
# Names that hold a credential, whatever their area: each must be in SECRET_SETTINGS.
LOOKS_SECRET = re.compile(
    r"SECRET|_PASSWORD$|PRIVATE_KEY|API_KEY|_TOKEN$|_SID$|DSN$|^DATABASE_.*URL$"
)


def test_each_secret_setting_reads_its_file(tmp_path: Path) -> None:
    env = {"INSTANCE_DIR": str(tmp_path)}
    for name in SECRET_SETTINGS:
        path = tmp_path / name.lower()
        path.write_text(f"value-of-{name}\n")
        env[f"{name}_FILE"] = str(path)
    config = load_config(env)
    for name in SECRET_SETTINGS:
        if name in config:  # settings another part of the code reads from the environment
            assert config[name] == f"value-of-{name}", name


def test_every_credential_in_the_config_can_come_from_a_file(tmp_path: Path) -> None:
    config = load_config({"INSTANCE_DIR": str(tmp_path)})
    credentials = {name for name in config if LOOKS_SECRET.search(name)}
    assert credentials - set(SECRET_SETTINGS) == set()


def test_only_the_trailing_line_break_is_dropped(tmp_path: Path) -> None:
    cases = {
        "a\n": "a",
        "a\r\n": "a",
        "a": "a",
        "  spaced  \n": "  spaced  ",
        "two\nlines\n": "two\nlines",
    }
    for content, expected in cases.items():
        (tmp_path / "key").write_bytes(content.encode())
        env = {"STRIPE_SECRET_KEY_FILE": str(tmp_path / "key")}
        with_secret_files(env)
        assert env["STRIPE_SECRET_KEY"] == expected


def test_both_the_variable_and_its_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(STRONG_KEY)
    env = {"INSTANCE_DIR": str(tmp_path), "SECRET_KEY": STRONG_KEY}
    env["SECRET_KEY_FILE"] = str(tmp_path / "key")
    with pytest.raises(RuntimeError, match="set SECRET_KEY or SECRET_KEY_FILE, not both"):
        load_config(env)


def test_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-the-file\n")
    env = {"SENDGRID_API_KEY": "", "SENDGRID_API_KEY_FILE": str(tmp_path / "key")}
    with_secret_files(env)
    assert env["SENDGRID_API_KEY"] == "from-the-file"
    env = {"SENDGRID_API_KEY": "direct", "SENDGRID_API_KEY_FILE": ""}
    with_secret_files(env)
    assert env["SENDGRID_API_KEY"] == "direct"


@pytest.mark.parametrize("kind", ["missing", "directory", "binary"])
def test_a_file_that_cannot_be_read_stops_with_its_name(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "secret"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00")
    env = {"INSTANCE_DIR": str(tmp_path), "TWILIO_AUTH_TOKEN_FILE": str(path)}
    with pytest.raises(RuntimeError, match=rf"^TWILIO_AUTH_TOKEN_FILE: cannot read {path}: \w"):
        load_config(env)


def test_production_checks_apply_to_a_key_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("short\n")
    env = {
        "APP_ENV": "production",
        "INSTANCE_DIR": str(tmp_path),
        "BASE_URL": "https://tickets.example.com",
        "SECRET_KEY_FILE": str(tmp_path / "key"),
    }
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        load_config(env)
    (tmp_path / "key").write_text(STRONG_KEY + "\n")
    assert load_config(env)["SECRET_KEY"] == STRONG_KEY


def test_migrations_run_with_the_database_url_from_a_file(
    database_url: str, tmp_path: Path
) -> None:
    """The Procfile's release step, as a platform runs it, with only DATABASE_URL_FILE set."""
    (tmp_path / "database_url").write_text(database_url + "\n")
    env = {
        "PATH": str(Path(sys.executable).parent),
        "INSTANCE_DIR": str(tmp_path),
        "APP_ENV": "test",
        "DATABASE_URL_FILE": str(tmp_path / "database_url"),
    }
    release = next(
        line.split(":", 1)[1].strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("release:")
    )
    done = subprocess.run(  # noqa: S602 (the Procfile's own command line)
        release, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "database upgraded to head" in done.stdout
