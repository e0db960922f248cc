"""The operations side of the deployment files (README "Operating Maca"):
Prometheus finds the metrics port and nobody else reaches it, a CronJob
backs up to a volume, readiness asks /readyz, and the Grafana dashboard
asks only for metrics Maca exposes."""

from __future__ import annotations

import json
import re
from typing import Any

import kubernetes_validate
import yaml

from server.platform import metrics
from server.settings import Settings
from tests.deploy.test_deploy_files import DEPLOY, K8S, KUBERNETES_VERSION, k8s, pod_containers

# What the metrics endpoint serves beside the workers' families
# (server/platform/metrics_server.py).
READ_AT_SCRAPE = {
    "maca_metrics_database_up",
    "maca_open_audits_with_immediate_concerns",
    "maca_immediate_concerns_open",
    "maca_jobs_queued",
    "maca_job_oldest_queued_age_seconds",
    "maca_notifications_undelivered",
    "maca_build_info",
}


def exposed_names() -> set[str]:
    names = set(READ_AT_SCRAPE)
    for family in metrics.families().registry.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
        names |= {family.name + suffix for suffix in suffixes}
    return names


def configmap() -> dict[str, str]:
    data: dict[str, str] = k8s("ConfigMap")["data"]
    return data


def test_prometheus_is_told_where_the_metrics_are_and_the_service_does_not_carry_them() -> None:
    deployment = k8s("Deployment", "deployment.yaml")
    port = int(configmap()["MACA_METRICS_PORT"])
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == port
    assert annotations["prometheus.io/path"] == "/metrics"
    [container] = pod_containers(deployment)
    assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in container["ports"]
    assert configmap()["MACA_METRICS_HOST"] == "0.0.0.0"  # noqa: S104 - the pod's address, for the scraper
    service = k8s("Service")
    assert "metrics" not in {p.get("targetPort") for p in service["spec"]["ports"]}
    # Outside a cluster, only this machine reaches it.
    assert Settings().metrics_host == "127.0.0.1" and Settings().metrics_port == port


def test_only_the_monitoring_namespace_reaches_the_metrics_port() -> None:
    policy = k8s("NetworkPolicy")
    rules = [rule for rule in policy["spec"]["ingress"] if any(p["port"] == "metrics" for p in rule["ports"])]
    [rule] = rules
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def test_readiness_asks_readyz_and_logs_are_json_lines() -> None:
    [container] = pod_containers(k8s("Deployment", "deployment.yaml"))
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert configmap()["MACA_LOG_FORMAT"] == "json"


def test_a_cronjob_backs_up_as_the_owner_to_a_volume_and_keeps_the_newest() -> None:
    cronjob = k8s("CronJob")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"][0] == "backup" and "--keep" in container["args"]
    assert container["image"] == pod_containers(k8s("Deployment", "deployment.yaml"))[0]["image"]
    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "MIGRATE_DATABASE_URL"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    backups = next(name for name, path in mounts.items() if path == env["MACA_BACKUP_DIR"]["value"])
    claim = volumes[backups]["persistentVolumeClaim"]["claimName"]
    assert k8s("PersistentVolumeClaim")["metadata"]["name"] == claim
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_prometheus_operator_files_select_the_metrics_port() -> None:
    folder = K8S / "monitoring"
    listed = set(yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
    service = yaml.safe_load((folder / "metrics-service.yaml").read_text())
    kubernetes_validate.validate(service, KUBERNETES_VERSION, strict=True)
    labels = k8s("Deployment", "deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == "metrics" and port["port"] == int(configmap()["MACA_METRICS_PORT"])
    monitor = yaml.safe_load((folder / "servicemonitor.yaml").read_text())
    assert monitor["kind"] == "ServiceMonitor"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == port["name"]


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DEPLOY / "grafana" / "maca-dashboard.json").read_text())
    return document


def test_the_dashboard_asks_only_for_metrics_maca_exposes_and_shows_each_family() -> None:
    expressions = [target["expr"] for panel in dashboard()["panels"] for target in panel.get("targets", [])]
    asked = {name for expression in expressions for name in re.findall(r"\bmaca_[a-z0-9_]+", expression)}
    assert asked - exposed_names() == set()
    for family in (
        "maca_http_requests_total",
        "maca_http_request_duration_seconds_bucket",
        "maca_db_pool_connections",
        "maca_db_pool_waiting_requests",
        "maca_sign_in_refusals_total",
        "maca_jobs_queued",
        "maca_jobs_finished_total",
        "maca_open_audits_with_immediate_concerns",
        "maca_immediate_concerns_open",
        "maca_notifications_undelivered",
    ):
        assert family in asked, f"no panel shows {family}"


def test_the_dashboard_is_importable_grafana_json() -> None:
    document = dashboard()
    assert document["uid"] and document["title"] == "Maca"
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids))
    for panel in document["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert any(v["type"] == "datasource" for v in document["templating"]["list"])


def test_the_readme_lists_every_metric_maca_exposes_and_only_those() -> None:
    readme = (DEPLOY.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Operating Maca", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(maca_[a-z0-9_]+)`(?:, `(maca_[a-z0-9_]+)`)?", section, re.MULTILINE))
    names = {name for pair in documented for name in pair if name}
    families = {re.sub(r"_(bucket|count|sum)$", "", name) for name in exposed_names()}
    assert names == families


def test_the_readme_configuration_names_the_operating_settings() -> None:
    readme = (DEPLOY.parent / "README.md").read_text(encoding="utf-8")
    for variable in (
        "MACA_LOG_FORMAT",
        "MACA_METRICS_HOST",
        "MACA_METRICS_PORT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_SERVICE_NAME",
        "MACA_BACKUP_DIR",
    ):
        assert f"| `{variable}` |" in readme, variable
