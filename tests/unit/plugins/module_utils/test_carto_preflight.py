"""Preflight rules (plugins/module_utils/carto_preflight.py): version, resources, nodes, storage, gateway, package."""

import json

import pytest
import yaml

from ansible_collections.carto.selfhosted.plugins.module_utils import carto_checks, carto_preflight as pf


def node(name, cpu="16", memory="64Gi", ready="True", unschedulable=False, taints=None):
    return {"metadata": {"name": name}, "spec": {"unschedulable": unschedulable, "taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": memory},
                       "conditions": [{"type": "Ready", "status": ready}]}}


def deployment(name, replicas=1, cpu="500m", memory="1Gi", anti=None, init=()):
    pod_spec = {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}],
                "initContainers": [{"name": i} for i in init]}
    if anti == "required":
        pod_spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {}}]}}
    elif anti == "preferred":
        pod_spec["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}
    spec = {"template": {"spec": pod_spec}, "selector": {"matchLabels": {"app": name}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"kind": "Deployment", "metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize("quantity,expected", [("500m", 0.5), ("2", 2), ("16Gi", 16 * 1024 ** 3), ("1e3", 1000),
                                               ("128974848", 128974848), ("129M", 129e6)])
def test_parse_quantity(quantity, expected):
    assert pf.parse_quantity(quantity) == pytest.approx(expected)


def test_parse_quantity_rejects_garbage():
    with pytest.raises(ValueError):
        pf.parse_quantity("lots")


@pytest.mark.parametrize("version,status", [("v1.28.9", "failed"), ("v1.29.3", "warning"), ("v1.36.3", "passed"),
                                            (None, "skipped"), ("v1.30.0-gke.1", "passed")])
def test_kubernetes_version(version, status):
    assert pf.check_kubernetes_version(version)["status"] == status


def test_workloads_from_manifest_text_with_hpa_replicas():
    docs = [deployment("carto-a", replicas=2), deployment("carto-b", replicas=None),
            {"kind": "HorizontalPodAutoscaler", "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "carto-b"},
                                                         "minReplicas": 3, "maxReplicas": 5}},
            {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "djE="}}]
    loads = pf.workloads(yaml.safe_dump_all(docs))
    assert [(w["name"], w["replicas"], w["max_replicas"]) for w in loads] == [("carto-a", 2, 2), ("carto-b", 3, 5)]
    assert loads[0]["cpu_milli"] == 500


def test_resources_pass_and_floor_at_chart_minimum():
    loads = pf.workloads([deployment("carto-a")])
    checks = pf.check_resources([node("n0", cpu="4", memory="8Gi"), node("n1", cpu="4", memory="8Gi")], loads)
    assert checks[0]["status"] == "passed"  # 8 CPU / 16 GiB >= 6 / 16 GiB
    checks = pf.check_resources([node("n0", cpu="4", memory="8Gi")], loads)
    assert checks[0]["status"] == "failed"
    assert "CPU short by 2" in checks[0]["message"] and "memory short by 8.0 GiB" in checks[0]["message"]


def test_resources_ignore_unschedulable_nodes_and_count_profile_requests():
    loads = pf.workloads([deployment("carto-big", replicas=10, cpu="2", memory="4Gi")])
    nodes = [node("n0"), node("n1", unschedulable=True), node("n2", taints=[{"effect": "NoSchedule"}]),
             node("n3", ready="False")]
    checks = pf.check_resources(nodes, loads)
    assert checks[0]["status"] == "failed"
    assert "1 schedulable node(s)" in checks[0]["message"] and "CPU short by 4" in checks[0]["message"]


def test_required_anti_affinity_needs_one_node_per_replica():
    loads = pf.workloads([deployment("carto-router", replicas=3, anti="required")])
    checks = pf.check_resources([node("n0"), node("n1")], loads)
    assert checks[1]["name"] == "node_count" and checks[1]["status"] == "failed"
    assert "carto-router (3 replicas)" in checks[1]["message"]
    assert pf.check_resources([node("n%d" % i) for i in range(3)], loads)[1]["status"] == "passed"


def test_preferred_anti_affinity_is_a_warning():
    loads = pf.workloads([deployment("carto-router", replicas=3, anti="preferred")])
    assert pf.check_resources([node("n0")], loads)[1]["status"] == "warning"


def test_storage_class():
    default = {"metadata": {"name": "std", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}
    other = {"metadata": {"name": "slow"}}
    assert pf.check_storage_class({}, [default])["status"] == "passed"
    failed = pf.check_storage_class({}, [other])
    assert failed["status"] == "failed" and "internalPostgresql, internalRedis" in failed["message"]
    external = {"internalPostgresql": {"enabled": False}, "internalRedis": {"enabled": False}}
    assert pf.check_storage_class(external, [])["status"] == "skipped"
    assert pf.check_storage_class({"global": {"storageClass": "slow"}}, [other])["status"] == "passed"
    assert pf.check_storage_class({}, None)["status"] == "skipped"


def test_gateway_crds():
    assert pf.check_gateway_crds({}, [])["status"] == "skipped"
    on = {"gateway": {"enabled": True}}
    missing = pf.check_gateway_crds(on, ["gateways.gateway.networking.k8s.io"])
    assert missing["status"] == "failed" and "httproutes.gateway.networking.k8s.io" in missing["message"]
    assert pf.check_gateway_crds(on, list(pf.GATEWAY_CRDS))["status"] == "passed"


def test_metrics_server():
    available = {"status": {"conditions": [{"type": "Available", "status": "True"}]}}
    assert pf.check_metrics_server(False, None, False)["status"] == "skipped"
    assert pf.check_metrics_server(True, available, True)["status"] == "passed"
    failed = pf.check_metrics_server(True, None, False)
    assert failed["status"] == "failed" and "APIService missing" in failed["message"]


def _package(tmp_path, project="carto-tnt-onp-a", sa_project="carto-tnt-onp-a"):
    values = tmp_path / "carto-values.yaml"
    secrets = tmp_path / "carto-secrets.yaml"
    values.write_text(yaml.safe_dump({"cartoConfigValues": {"selfHostedTenantId": "onp-a",
                                                            "selfHostedGcpProjectId": project}}))
    sa = json.dumps({"project_id": sa_project, "private_key": "SECRET-KEY-MATERIAL"})
    secrets.write_text(yaml.safe_dump({"cartoSecrets": {"defaultGoogleServiceAccount": {"value": sa}}}))
    return str(values), str(secrets)


def test_package_same_customer(tmp_path):
    assert pf.check_package(*_package(tmp_path))["status"] == "passed"


def test_package_different_customers_never_prints_secrets(tmp_path):
    result = pf.check_package(*_package(tmp_path, sa_project="carto-tnt-onp-b"))
    assert result["status"] == "failed" and "carto-tnt-onp-b" in result["message"]
    assert "SECRET-KEY-MATERIAL" not in json.dumps(result)


def test_package_missing_and_unparseable(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cartoSecrets: [unclosed\n")
    result = pf.check_package(str(tmp_path / "nope.yaml"), str(bad))
    assert result["status"] == "failed"
    assert "does not exist" in result["message"] and "not valid YAML" in result["message"]


def test_preflight_checks_all_at_once_and_table(tmp_path):
    values_file, secrets_file = _package(tmp_path)
    checks = pf.preflight_checks({
        "kubernetes_version": "v1.28.0", "nodes": [node("n0", cpu="2", memory="4Gi")],
        "manifest": [deployment("carto-a")], "values": {}, "storage_classes": [], "crd_names": [],
        "package_values_file": values_file, "package_secrets_file": secrets_file})
    summary = carto_checks.summarize(checks)
    assert summary["verdict"] == "failed"
    assert set(summary["failed"]) == {"kubernetes_version", "cluster_resources", "default_storageclass"}
    assert "gateway_api_crds" in summary["skipped"] and "metrics_server" in summary["skipped"]
    lines = carto_checks.format_checks(checks)
    assert lines[0].split() == ["CHECK", "STATUS", "DETAIL"]
    assert lines[-1].startswith("FAILED: 3 passed, 3 failed") or lines[-1].startswith("FAILED:")
    message = carto_checks.failure_message(checks, "Preflight")
    assert "kubernetes_version" in message and "Fix:" in message


def test_preflight_render_error_skips_sizing():
    checks = pf.preflight_checks({"render_error": "boom", "kubernetes_version": "v1.36.0"})
    by = dict((c["name"], c["status"]) for c in checks)
    assert by["chart_render"] == "failed" and by["cluster_resources"] == "skipped"


SERVED = ["v1 Service", "v1 Secret", "apps/v1 Deployment", "networking.k8s.io/v1 Ingress"]


def test_served_kinds_names_each_missing_kind_with_its_customization():
    manifest = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "carto-router"}},
                {"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig", "metadata": {"name": "carto-bc"}},
                {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}]
    result = pf.check_served_kinds(manifest, SERVED)
    assert result["status"] == "failed"
    assert "cloud.google.com/v1 BackendConfig (carto-bc), brought by the GKE Ingress customization" in result["message"]
    assert "example.com/v1 Widget (w), brought by the values that render it" in result["message"]
    assert "apps/v1 Deployment" not in result["message"]


def test_served_kinds_pass_and_skip():
    manifest = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "carto-router"}}]
    assert pf.check_served_kinds(manifest, SERVED)["status"] == "passed"
    assert pf.check_served_kinds(manifest, None)["status"] == "skipped"
