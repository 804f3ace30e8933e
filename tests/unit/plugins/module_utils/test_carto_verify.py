"""Verification checks (plugins/module_utils/carto_verify.py) from a manifest and live objects."""

from ansible_collections.carto.selfhosted.plugins.module_utils import carto_verify as cv


def manifest():
    def dep(name, init=()):
        return {"kind": "Deployment", "metadata": {"name": name},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                         "template": {"spec": {"containers": [{"name": "c"}],
                                               "initContainers": [{"name": i} for i in init]}}}}
    return [dep("carto-router"), dep("carto-workspace-api", init=("workspace-migrations",)),
            {"kind": "StatefulSet", "metadata": {"name": "carto-redis-master"},
             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "redis"}}, "template": {"spec": {}}}}]


def live_dep(name, ok=True):
    return {"metadata": {"name": name, "generation": 1},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                       "availableReplicas": 1 if ok else 0,
                       "conditions": [{"type": "Available", "status": "True" if ok else "False"}]}}


def live_pod(name, app, ready=True, restarts=0, migrations_exit=None):
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
              "containerStatuses": [{"name": "c", "ready": ready, "restartCount": restarts}]}
    if migrations_exit is not None:
        status["initContainerStatuses"] = [{"name": "workspace-migrations", "restartCount": 0,
                                            "state": {"terminated": {"exitCode": migrations_exit}}}]
    return {"metadata": {"name": name, "labels": {"app": app}}, "spec": {"containers": [{"name": "c"}]},
            "status": status}


def data(**over):
    base = {
        "manifest": manifest(),
        "deployments": [live_dep("carto-router"), live_dep("carto-workspace-api")],
        "statefulsets": [{"metadata": {"name": "carto-redis-master"}, "spec": {"replicas": 1},
                          "status": {"readyReplicas": 1, "updatedReplicas": 1}}],
        "pods": [live_pod("carto-router-1", "carto-router"),
                 live_pod("carto-workspace-api-1", "carto-workspace-api", migrations_exit=0),
                 live_pod("carto-redis-master-0", "redis")],
        "services": [{"metadata": {"name": "carto-router"}, "spec": {"type": "ClusterIP"}}],
        "expected_service_type": "ClusterIP", "domain": "carto.example.test",
        "endpoint_checks": [{"name": "endpoint_http", "status": "passed", "message": "200", "required": True}],
    }
    base.update(over)
    return base


def by_name(report):
    return dict((c["name"], c) for c in report["checks"])


def test_all_good():
    report = cv.build_report(data())
    assert report["verdict"] == "passed", report["checks"]
    checks = by_name(report)
    assert checks["deployment carto-router"]["status"] == "passed"
    assert checks["statefulset carto-redis-master"]["status"] == "passed"
    assert checks["workspace_migrations"]["status"] == "passed"
    assert checks["load_balancer"]["status"] == "skipped"


def test_not_ready_component_is_named():
    report = cv.build_report(data(
        deployments=[live_dep("carto-router", ok=False), live_dep("carto-workspace-api")],
        pods=[live_pod("carto-router-1", "carto-router", ready=False),
              live_pod("carto-workspace-api-1", "carto-workspace-api", migrations_exit=0),
              live_pod("carto-redis-master-0", "redis")]))
    assert report["verdict"] == "failed"
    assert "deployment carto-router" in report["failed"] and "pods carto-router" in report["failed"]
    assert "carto-router-1 (Running, not Ready)" in by_name(report)["pods carto-router"]["message"]


def test_missing_workload_restarts_and_migrations_exit_code():
    report = cv.build_report(data(
        deployments=[live_dep("carto-workspace-api")],
        pods=[live_pod("carto-workspace-api-1", "carto-workspace-api", restarts=9, migrations_exit=1),
              live_pod("carto-redis-master-0", "redis")]))
    checks = by_name(report)
    assert "not in the cluster" in checks["deployment carto-router"]["message"]
    assert "restarted more than 3 times" in checks["pods carto-workspace-api"]["message"]
    assert checks["workspace_migrations"]["status"] == "failed" and "exit code 1" in checks["workspace_migrations"]["message"]


def test_load_balancer_address_and_dns_record():
    svc = {"metadata": {"name": "carto-router"}, "spec": {"type": "LoadBalancer"},
           "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}}
    report = cv.build_report(data(services=[svc], expected_service_type="LoadBalancer"))
    assert by_name(report)["load_balancer"]["status"] == "passed"
    assert report["exposure"]["dns_record"]["line"] == "carto.example.test. 300 IN A 203.0.113.7"
    pending = dict(svc, status={})
    assert by_name(cv.build_report(data(services=[pending], expected_service_type="LoadBalancer")))[
        "load_balancer"]["status"] == "failed"
    wrong = by_name(cv.build_report(data(services=[svc], expected_service_type="ClusterIP")))["router_service"]
    assert wrong["status"] == "failed" and "configured ClusterIP" in wrong["message"]


def test_hostname_gives_cname():
    assert cv.dns_record("carto.example.test", "lb.elb.example")["type"] == "CNAME"


def test_ingress_address():
    ing = {"metadata": {"name": "carto-router"}, "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.4"}]}}}
    report = cv.build_report(data(ingress_enabled=True, ingresses=[ing]))
    assert by_name(report)["ingress"]["status"] == "passed"
    assert by_name(report)["ingress_certificate"]["status"] == "skipped"


def test_endpoint_not_run_is_skipped_not_passed():
    report = cv.build_report(data(endpoint_checks=[], endpoint_skip_reason="no domain"))
    assert by_name(report)["endpoint"] == {"name": "endpoint", "status": "skipped", "message": "no domain",
                                           "required": True}


def test_empty_manifest_fails():
    report = cv.build_report(data(manifest=[]))
    assert "release_manifest" in report["failed"]


def test_endpoint_target():
    lb = {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example"}]}}}
    assert cv.endpoint_target("auto", "d", lb) == {"mode": "direct", "address": "lb.example"}
    assert cv.endpoint_target("auto", "d", {"spec": {"type": "ClusterIP"}}) == {"mode": "port_forward"}
    assert cv.endpoint_target("port_forward", "d", lb) == {"mode": "port_forward"}
    assert cv.endpoint_target("direct", "d", {"spec": {"type": "ClusterIP"}})["mode"] == "skip"
    assert cv.endpoint_target("auto", "", lb)["mode"] == "skip"
    assert cv.endpoint_target("auto", "d", lb, address="10.0.0.1")["address"] == "10.0.0.1"


# --------------------------------------------------------------------------- secret rotation


def _rot_pod(name, checksum, labels=None, deleting=False):
    meta = {"name": name, "labels": labels or {"app.kubernetes.io/component": "workspace-api"},
            "annotations": {"checksum/secrets": checksum}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": "Running"}}


ROTATION = {"secrets_changed": ["carto-postgresql"], "secrets_added": [],
            "workloads_rolled": ["Deployment/carto-workspace-api"], "unmanaged": [],
            "components": {"workspaceApi": {"checksum": "new", "secrets": {"carto-postgresql": "ab"},
                                            "workloads": ["Deployment/carto-workspace-api"], "changed": True},
                           "router": {"checksum": "tls", "secrets": {"carto-tls": "cd"},
                                      "workloads": ["Deployment/carto-router"], "changed": False}}}
ROT_DEPLOYMENTS = [{"metadata": {"name": "carto-workspace-api"},
                    "spec": {"selector": {"matchLabels": {"app.kubernetes.io/component": "workspace-api"}}}}]


def test_secret_rotation_check_passes_when_every_pod_has_the_new_checksum():
    pods = [_rot_pod("a", "new"), _rot_pod("b", "new"), _rot_pod("old", "old", deleting=True),
            _rot_pod("other", "x", labels={"app.kubernetes.io/component": "router"})]
    result = cv.check_secret_rotation(ROTATION, ROT_DEPLOYMENTS, [], pods)
    assert result["status"] == cv.PASSED, result
    assert "carto-postgresql" in result["message"] and "Deployment/carto-workspace-api" in result["message"]
    assert "2 pod(s)" in result["message"]


def test_secret_rotation_check_fails_on_a_pod_with_the_old_checksum():
    pods = [_rot_pod("a", "new"), _rot_pod("b", "old")]
    result = cv.check_secret_rotation(ROTATION, ROT_DEPLOYMENTS, [], pods)
    assert result["status"] == cv.FAILED and "b (Deployment/carto-workspace-api)" in result["message"]


def test_secret_rotation_absent_means_no_check_and_an_empty_summary():
    assert cv.check_secret_rotation({}, [], [], []) is None
    assert cv.check_secret_rotation(None, [], [], []) is None
    summary = cv.secret_rotation_summary(ROTATION)
    assert summary["secrets_changed"] == ["carto-postgresql"]
    assert summary["workloads_rolled"] == ["Deployment/carto-workspace-api"]
    assert summary["checksums"] == {"router": "tls", "workspaceApi": "new"}
    assert cv.secret_rotation_summary(None)["workloads_rolled"] == []
