"""The Helm chart (deploy/helm/eventhall), without a cluster: Helm's own Go SDK (helm-python-sdk
binds the real library) lints and renders it, values.schema.json checks the values, and every
rendered object is validated against Kubernetes' JSON schemas (kubernetes-validate, strict: no
unknown fields) at the oldest version the chart supports and the newest one known."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from app.config import ROOT

CHART = ROOT / "deploy" / "helm" / "eventhall"
KUBE_VERSIONS = ("1.27.0", kubernetes_validate.latest_version())
DIGEST = "sha256:" + "ab" * 32
ROUTER_ONLY = {"web": {"enabled": False}, "worker": {"enabled": False}}
ROUTER_ONLY["migrations"] = {"enabled": False}


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice (the API server would keep one of them silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        doubled = {k for k in keys if keys.count(k) > 1}
        if doubled:
            raise yaml.constructor.ConstructorError(None, None, f"keys twice: {doubled}")
        return super().construct_mapping(node, deep=deep)


def render(values: dict[str, Any], release: str = "eventhall-blue") -> dict[tuple[str, str], Any]:
    """The release's objects by (kind, name), each checked against the Kubernetes schemas."""
    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render(values, name=release, namespace="tickets", is_install=True)
    objects: dict[tuple[str, str], Any] = {}
    for text in files.values():
        for doc in yaml.load_all(text, Loader=UniqueKeyLoader):  # noqa: S506 (a SafeLoader)
            if doc:
                for version in KUBE_VERSIONS:
                    kubernetes_validate.validate(doc, version, strict=True)
                key = (doc["kind"], doc["metadata"]["name"])
                assert key not in objects
                objects[key] = doc
    return objects


def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name: shlex.split(command) for name, command in (ln.split(":", 1) for ln in lines)}


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from obj["spec"]["template"]["spec"]["containers"]


def color(name: str, **values: Any) -> dict[str, Any]:
    return {"color": name, **values}


def test_helm_lint_finds_no_error() -> None:
    report = helm.lint(str(CHART), strict=True)
    assert report["errors"] == []
    # Severity 1 is INFO (Helm asks for an icon, which this chart has none of).
    assert [m for m in report["messages"] if m["severity"] > 1] == []


def test_a_color_release_runs_web_worker_and_migrations() -> None:
    objects = render(color("blue"))
    assert set(objects) == {
        ("Deployment", "eventhall-blue-web"),
        ("Deployment", "eventhall-blue-worker"),
        ("HorizontalPodAutoscaler", "eventhall-blue-web"),
        ("PodDisruptionBudget", "eventhall-blue-web"),
        ("Job", "eventhall-blue-migrate"),
    }
    commands = procfile()
    web = objects[("Deployment", "eventhall-blue-web")]
    (web_container,) = containers(web)
    assert web_container["command"] == commands["web"]
    assert web_container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web_container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["spec"]["template"]["metadata"]["labels"]["eventhall.io/color"] == "blue"
    assert web["spec"]["selector"]["matchLabels"]["eventhall.io/color"] == "blue"
    assert "replicas" not in web["spec"]  # the autoscaler owns it
    hpa = objects[("HorizontalPodAutoscaler", "eventhall-blue-web")]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "eventhall-blue-web",
    }
    (worker,) = containers(objects[("Deployment", "eventhall-blue-worker")])
    assert worker["command"] == commands["worker"]
    job = objects[("Job", "eventhall-blue-migrate")]
    (migrate,) = containers(job)
    assert migrate["command"] == commands["release"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    for obj in (web, objects[("Deployment", "eventhall-blue-worker")], job):
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
        (container,) = pod["containers"]
        assert container["envFrom"] == [{"secretRef": {"name": "eventhall"}}]
        assert {"name": "APP_ENV", "value": "production"} in container["env"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["image"] == "ghcr.io/eventhall/eventhall:0.1.0"


def test_blue_and_green_run_side_by_side_without_sharing_an_object() -> None:
    blue = render(color("blue"), "eventhall-blue")
    green = render(
        color("green", image={"repository": "ghcr.io/x/y", "digest": DIGEST}), "eventhall-green"
    )
    assert not set(blue) & set(green)
    (container,) = containers(green[("Deployment", "eventhall-green-web")])
    assert container["image"] == f"ghcr.io/x/y@{DIGEST}"  # CI deploys by digest


@pytest.mark.parametrize("active", ["blue", "green"])
def test_the_router_sends_traffic_to_the_active_color_only(active: str) -> None:
    router = render(
        {"router": {"enabled": True, "activeColor": active}, **ROUTER_ONLY}, "eventhall"
    )
    assert set(router) == {("Service", "eventhall")}
    selector = router[("Service", "eventhall")]["spec"]["selector"]
    assert selector["eventhall.io/color"] == active
    for name in ("blue", "green"):
        release = render(color(name), f"eventhall-{name}")
        web_pods = release[("Deployment", f"eventhall-{name}-web")]["spec"]["template"]
        worker_pods = release[("Deployment", f"eventhall-{name}-worker")]["spec"]["template"]
        selected = selector.items() <= web_pods["metadata"]["labels"].items()
        assert selected == (name == active)
        assert not selector.items() <= worker_pods["metadata"]["labels"].items()


def test_the_switch_changes_the_selector_and_nothing_else() -> None:
    def service(active: str) -> dict[str, Any]:
        values = {"router": {"enabled": True, "activeColor": active}, **ROUTER_ONLY}
        return render(values, "eventhall")[("Service", "eventhall")]

    blue, green = service("blue"), service("green")
    assert blue["spec"]["selector"] != green["spec"]["selector"]
    for obj in (blue, green):
        obj["spec"].pop("selector")
        obj["metadata"]["annotations"].pop("eventhall.io/active-color")
    assert blue == green


def test_secrets_as_files_set_name_file_and_mount_the_secret() -> None:
    files = ["SECRET_KEY", "DATABASE_URL", "STRIPE_WEBHOOK_SECRET"]
    objects = render(
        {"secrets": {"existingSecret": "tickets-prod", "asFiles": True, "files": files}}
    )
    web = objects[("Deployment", "eventhall-blue-web")]["spec"]["template"]["spec"]
    (container,) = web["containers"]
    assert "envFrom" not in container
    env = {item["name"]: item.get("value") for item in container["env"]}
    for name in files:
        assert env[f"{name}_FILE"] == f"/run/secrets/eventhall/{name}"
        assert name not in env
    assert {"name": "secrets", "mountPath": "/run/secrets/eventhall", "readOnly": True} in (
        container["volumeMounts"]
    )
    volume = next(v for v in web["volumes"] if v["name"] == "secrets")
    assert volume["secret"]["secretName"] == "tickets-prod"


def test_without_autoscaling_the_deployment_keeps_its_replicas() -> None:
    objects = render({"web": {"enabled": True, "replicas": 3, "autoscaling": {"enabled": False}}})
    assert ("HorizontalPodAutoscaler", "eventhall-blue-web") not in objects
    assert objects[("Deployment", "eventhall-blue-web")]["spec"]["replicas"] == 3


@pytest.mark.parametrize(
    "values",
    [
        {"color": "red"},
        {"router": {"enabled": True, "activeColor": "purple"}},
        {"secrets": {"existingSecret": ""}},
        {"secrets": {"existingSecret": "s", "asFiles": True}},
        {"secrets": {"existingSecret": "s", "files": ["lower_case"]}},
        {"config": {"SECRET_KEY": "never in values"}},
        {"config": {"APP_ENV": "development"}},
        {"config": {"DATABASE_DIRECT_URL": "postgresql://u:p@db/eh"}},
        {"image": {"repository": "r", "digest": "sha256:short"}},
        {"web": {"enabled": True, "replicas": -1}},
        {"worker": {"enabled": "yes"}},
        {"colour": "blue"},
    ],
)
def test_the_values_schema_refuses_bad_values(values: dict[str, Any]) -> None:
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmValuesError):
        chart.render(values, name="eventhall-blue", namespace="tickets", is_install=True)
