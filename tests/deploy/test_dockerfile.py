"""The container image, checked without a container runtime (none exists here): hadolint on the
Dockerfile, its rules (uv.lock's hashes, no compilers at run time, a non-root user), and the
files .dockerignore lets into the image run the release step and serve /readyz on their own."""

from __future__ import annotations

import fnmatch
import os
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from app.config import ROOT
from tests.smtp_sink import free_port
from tests.waiting import wait_until

BIN = Path(sys.executable).parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPILERS = {"gcc", "g++", "cc", "clang", "make", "build-essential", "cargo", "rustc"}


def stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by stage name."""
    joined = DOCKERFILE.replace("\\\n", " ")
    result: dict[str, list[str]] = {}
    current: list[str] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            current = result.setdefault(line.split()[-1], [])
        current.append(line)
    return result


def admitted(path: str) -> bool:
    """Whether .dockerignore lets `path` into the build context (last matching rule wins)."""
    verdict = True
    for rule in (ROOT / ".dockerignore").read_text().splitlines():
        rule = rule.strip()
        if not rule or rule.startswith("#"):
            continue
        negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        pattern = pattern.removeprefix("**/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes) or any(
            fnmatch.fnmatch(part, pattern) for part in parts
        ):
            verdict = negate
    return verdict


def test_hadolint_finds_nothing() -> None:
    done = subprocess.run(
        [BIN / "hadolint", "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dependencies_come_from_the_lock_with_their_hashes() -> None:
    builder = " ".join(stages()["builder"])
    assert "pip install --require-hashes -r requirements-uv.txt" in builder
    assert "uv sync --locked" in builder
    assert "--extra" not in builder  # no dev tools in the image


def test_the_runtime_has_no_compiler_and_runs_as_a_user() -> None:
    runtime = stages()["runtime"]
    installed = {
        word
        for line in runtime
        if "apt-get install" in line
        for word in shlex.split(line.split("apt-get install", 1)[1].split("&&")[0])
        if not word.startswith("-")
    }
    assert installed >= {"libpango-1.0-0", "libpangoft2-1.0-0"}  # WeasyPrint's
    assert not installed & COMPILERS
    assert not {w for w in installed if w.endswith("-dev")}
    user = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    assert runtime[-1].startswith("CMD ")


def test_only_the_application_enters_the_build_context() -> None:
    for secret in ("instance/secret_key", ".venv/bin/python", ".git/config", "tests/conftest.py"):
        assert not admitted(secret), secret
    for line in DOCKERFILE.replace("\\\n", " ").splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources = [w for w in line.split()[1:-1] if not w.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), source
                assert admitted(source), f"{source} is copied but .dockerignore leaves it out"


@pytest.fixture
def image_files(tmp_path: Path) -> Path:
    """What the image's COPY lines can see: the tracked files .dockerignore admits."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    context = tmp_path / "context"
    for name in tracked:
        if admitted(name) and (ROOT / name).is_file():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, context / name)
    return context


def test_the_image_files_migrate_and_serve(image_files: Path, database_url: str) -> None:
    port = free_port()
    env = {
        "PATH": str(BIN),
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "BASE_URL": "https://tickets.example.com",
        "INSTANCE_DIR": str(image_files.parent / "state"),
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "1",
    }
    procfile = dict(
        line.split(":", 1) for line in (image_files / "Procfile").read_text().splitlines()
    )
    release = subprocess.run(  # noqa: S602 (the Procfile's own command lines)
        procfile["release"], shell=True, cwd=image_files, env=env, capture_output=True, timeout=90
    )
    assert release.returncode == 0, release.stderr
    web = subprocess.Popen(  # noqa: S602
        procfile["web"], shell=True, cwd=image_files, env=env, start_new_session=True
    )
    try:

        def ready() -> bytes | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                    return r.read()
            except OSError:
                assert web.poll() is None, "gunicorn exited"
                return None

        assert b'"ready"' in wait_until(ready, what="/readyz from the image's files")
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
