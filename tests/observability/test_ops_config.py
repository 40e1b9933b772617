"""The monitoring files in ops/ are valid and speak of metrics the app really has.

promtool and amtool come from Debian's packages (`make test` puts them in .tools/monitoring):
the rules, their unit tests, the scrape configuration and Alertmanager's routing are checked
by the tools Prometheus and Alertmanager themselves use. Every query of the Grafana dashboard
is checked by the same PromQL parser (as a recording rule), and every eventhall_* name in the
rules and the dashboard must be one the app exposes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from app.config import ROOT
from app.observability.exposition import scrape

OPS = ROOT / "ops"
RULES = OPS / "prometheus" / "alerts.yml"
DASHBOARD = OPS / "grafana" / "eventhall.json"
METRIC_NAME = re.compile(r"\beventhall_[a-z0-9_]+")
# Grafana's own variables, as Grafana would fill them in.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "${datasource}": "x"}


def tool(name: str) -> str:
    found = ROOT / ".tools" / "monitoring" / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        pytest.fail(f"{name} is missing: `make test` installs it (Makefile, $(PROMTOOL))")
    return on_path


def check(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            query = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                query = query.replace(variable, value)
            queries.append(query)
    return queries


@pytest.fixture(scope="module")
def exposed(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every series name the app can expose (a labelled metric nobody used yet included)."""
    data_dir = tmp_path_factory.mktemp("pgdata")
    text = scrape(app.extensions["db"].engine, str(data_dir)).decode()
    names = set()
    for family in text_string_to_metric_families(text):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
        names |= {family.name + s for s in suffixes.get(family.type, [""])}
    return names


def test_alert_rules_pass_promtool_and_their_unit_tests() -> None:
    assert "SUCCESS: 11 rules found" in check(tool("promtool"), "check", "rules", str(RULES))
    check(tool("promtool"), "test", "rules", str(OPS / "prometheus" / "alerts.test.yml"))


def test_every_alert_the_issue_asks_for_is_there() -> None:
    alerts = {
        rule["alert"]: rule["expr"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }
    for needed in (
        'eventhall_http_request_duration_seconds_count{status=~"5.."}',  # error rate
        "histogram_quantile(0.99",  # p99 latency
        "eventhall_queue_oldest_age_seconds",
        'eventhall_payment_events_total{outcome="failed"}',
        "eventhall_webhook_signature_failures_total",
        "eventhall_database_disk_free_bytes",
    ):
        assert any(needed in expr for expr in alerts.values()), needed


def test_the_scrape_configuration_and_alertmanager_routing_are_valid() -> None:
    # --syntax-only: the bearer token's file exists on the Prometheus server, not here.
    scrape_config = OPS / "prometheus" / "prometheus.yml"
    check(tool("promtool"), "check", "config", "--syntax-only", str(scrape_config))
    out = check(tool("amtool"), "check-config", str(OPS / "alertmanager" / "alertmanager.yml"))
    assert "2 receivers" in out
    routing = yaml.safe_load((OPS / "alertmanager" / "alertmanager.yml").read_text())
    receivers = {r["name"]: r for r in routing["receivers"]}
    assert "pagerduty_configs" in receivers["pagerduty"]
    assert "opsgenie_configs" in receivers["opsgenie"]


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    queries = dashboard_queries()
    assert len(queries) >= 20
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": q} for i, q in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))
    check(tool("promtool"), "check", "rules", str(path))


def test_rules_and_dashboard_name_only_metrics_the_app_exposes(exposed: set[str]) -> None:
    named = set(METRIC_NAME.findall(RULES.read_text()))
    named |= {name for query in dashboard_queries() for name in METRIC_NAME.findall(query)}
    named |= set(METRIC_NAME.findall((OPS / "prometheus" / "alerts.test.yml").read_text()))
    assert named - exposed == set()
    # And the other way round: nothing the app measures is left off the dashboard.
    shown = {name for query in dashboard_queries() for name in METRIC_NAME.findall(query)}
    bases = {re.sub(r"_(bucket|count|sum)$", "", name) for name in shown}
    unshown = {
        name
        for name in exposed
        if name.startswith("eventhall_") and re.sub(r"_(bucket|count|sum)$", "", name) not in bases
    }
    assert unshown == set()


def test_the_exposition_passes_promtool_lint(app: Flask, tmp_path: Path) -> None:
    text = scrape(app.extensions["db"].engine, str(tmp_path))
    done = subprocess.run(
        [tool("promtool"), "check", "metrics"], input=text, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
