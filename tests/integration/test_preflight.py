"""Preflight on the local control plane: one table of checks, all failures at once, nothing changed."""

import json
import re


def test_preflight_fails_before_any_change(local_cluster, base_vars, namespace):
    extra = dict(base_vars, prerequisites_min_cpu="1000", prerequisites_min_memory="10Ti",
                 carto_values_overrides={"gateway": {"enabled": True}})
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc != 0, result
    out = result.output
    assert "CHECK" in out and "kubernetes_version     passed" in out
    assert "Preflight failed 2 check(s)" in out, result
    assert "cluster_resources" in out and "CPU short by" in out
    assert "gateway_api_crds" in out and "httproutes.gateway.networking.k8s.io" in out
    assert "default_storageclass   passed" in out
    assert "Nothing in the cluster was changed" in out
    assert local_cluster.get_json("namespace", namespace) is None
    assert "Write a support bundle" not in out or "skipping" in out


def test_kinds_the_cluster_does_not_serve_are_refused_before_any_change(local_cluster, base_vars, namespace):
    """GKE Ingress on a cluster without GKE's CRDs: named with the customization, before the namespace exists
    (helm would fail later with `no matches for kind "BackendConfig"`)."""
    extra = dict(base_vars, carto_ingress={"enabled": True, "certificate": "google_managed",
                                           "static_ip_name": "carto-ip"})
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc != 0, result
    out = " ".join(result.output.split())
    assert "Preflight failed 1 check(s): served_kinds" in out, result
    assert "cloud.google.com/v1 BackendConfig (carto-service-backend-config), brought by the GKE Ingress" in out
    assert "networking.gke.io/v1 ManagedCertificate" in out and "networking.gke.io/v1beta1 FrontendConfig" in out
    assert local_cluster.get_json("namespace", namespace) is None


def test_free_capacity_of_a_busy_cluster_is_what_counts(local_cluster, base_vars, namespace):
    """Other workloads request 15 of each node's 16 CPUs: the cluster's total allocatable (48 CPU) would still pass
    cluster_resources, but the release's pods do not fit the 1 CPU left per node, and nothing is created."""
    hog = "hog-" + namespace
    local_cluster.kubectl("create", "namespace", hog)
    try:
        local_cluster.kubectl("apply", "-n", hog, "-f", "-", stdin=json.dumps({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hog"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "hog"}},
                     "template": {"metadata": {"labels": {"app": "hog"}}, "spec": {
                         "nodeSelector": {"type": "kwok"},
                         "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists"}],
                         "containers": [{"name": "hog", "image": "hog", "resources": {
                             "requests": {"cpu": "15"}}}]}}}}))
        local_cluster.kubectl("rollout", "status", "-n", hog, "deployment/hog", "--timeout=60s")
        result = local_cluster.run_playbook("playbooks/install.yml", dict(base_vars, carto_support_bundle_on_failure=False))
    finally:
        local_cluster.kubectl("delete", "namespace", hog, "--wait=false", check=False)
    assert result.rc != 0
    out = " ".join(result.output.split())
    assert re.search(r"cluster_resources +passed", result.output)
    assert re.search(r"Preflight failed \d check\(s\): (.*\| )?node_capacity: ", out), str(result)
    assert re.search(r"fit nowhere \(kwok-node-0: \d+m? CPU free; kwok-node-1: \d+m? CPU free", out), out[-3000:]
    assert local_cluster.get_json("namespace", namespace) is None
