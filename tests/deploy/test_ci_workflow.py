"""The GitHub Actions workflow: actionlint (with shellcheck over its `run:` scripts) finds
nothing, and the pipeline keeps its shape: lint, tests on PostgreSQL, pip-audit, the image built
and pushed, and a deploy by digest on main only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from app.config import ROOT

BIN = Path(sys.executable).parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(job: str) -> list[dict[str, Any]]:
    return workflow()["jobs"][job]["steps"]


def test_actionlint_and_shellcheck_find_nothing() -> None:
    done = subprocess.run(
        [BIN / "actionlint", "-no-color", "-shellcheck", BIN / "shellcheck", WORKFLOW],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_tests_run_against_a_postgresql_service() -> None:
    job = workflow()["jobs"]["test"]
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert job["env"]["DATABASE_URL"].startswith("postgresql://")
    assert any(step.get("run") == "make test" for step in job["steps"])


def test_dependencies_are_audited_from_the_lock() -> None:
    script = "\n".join(step.get("run", "") for step in steps("audit"))
    assert "uv export --locked" in script
    assert "pip-audit" in script and "--require-hashes" in script


def test_the_image_is_pushed_only_from_a_push_and_deployed_by_digest_from_main() -> None:
    jobs = workflow()["jobs"]
    build = next(s for s in jobs["image"]["steps"] if "build-push-action" in s.get("uses", ""))
    assert build["with"]["push"] == "${{ github.event_name == 'push' }}"
    assert set(jobs["image"]["needs"]) == {"lint", "test", "audit"}
    deploy = jobs["deploy"]
    assert deploy["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert deploy["env"]["DIGEST"] == "${{ needs.image.outputs.digest }}"
    script = "\n".join(step.get("run", "") for step in deploy["steps"])
    assert 'image.digest="$DIGEST"' in script
    assert "router.activeColor" in script  # the blue-green switch of the chart
