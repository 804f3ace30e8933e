"""The local control plane's metrics pipeline: kwok's emulated kubelet resource metrics, scraped by the real
metrics-server (sigs.k8s.io/metrics-server v0.8.0) behind the APIService v1beta1.metrics.k8s.io, read by
``kubectl top`` and by the HorizontalPodAutoscaler controller of kube-controller-manager.

A pod's usage comes from its annotations kwok.x-k8s.io/usage-cpu / -memory (tools/localcluster/kwok-metrics.yaml).
"""

import json
import time

import cluster as localcluster

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "busy"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "busy"}}, "template": {
        "metadata": {"labels": {"app": "busy"},
                     "annotations": {"kwok.x-k8s.io/usage-cpu": "150m", "kwok.x-k8s.io/usage-memory": "96Mi"}},
        "spec": {"containers": [{"name": "busy", "image": "registry.example.invalid/busy:1",
                                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}},
}
# 150m used of 100m requested is 150 % against a target of 75 %: the HPA scales 1 -> 2 (ceil(1 * 150 / 75)).
HPA = {
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "busy"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "busy"},
             "minReplicas": 1, "maxReplicas": 2,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                                           "target": {"type": "Utilization", "averageUtilization": 75}}}]},
}


def _until(what, probe, timeout=90):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(1)
    raise AssertionError("timed out after %d s waiting for %s (last: %r)" % (timeout, what, last))


def test_kubectl_top_and_hpa_read_kwok_usage(local_cluster, namespace):
    local_cluster.kubectl("create", "namespace", namespace)
    apiservice = local_cluster.get_json("apiservice", localcluster.METRICS_APISERVICE)
    assert apiservice["spec"]["service"]["name"] == "metrics-server", apiservice
    localcluster.wait_for_metrics()

    nodes = local_cluster.kubectl("top", "nodes", "--no-headers").stdout.split("\n")
    assert len([line for line in nodes if line.startswith("kwok-node-")]) >= 3, nodes

    local_cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(DEPLOYMENT))
    local_cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(HPA))

    def top_pods():
        proc = local_cluster.kubectl("top", "pods", "-n", namespace, "--no-headers", check=False)
        rows = [line.split() for line in proc.stdout.splitlines() if line.startswith("busy-")]
        return rows if proc.returncode == 0 and rows else None

    rows = _until("kubectl top pods", top_pods)
    # kwok reports the annotated usage; metrics-server's CPU is a rate over two scrapes, so allow rounding.
    assert all(140 <= int(row[1].rstrip("m")) <= 160 and row[2] == "96Mi" for row in rows), rows

    def scaled():
        hpa = local_cluster.get_json("hpa", "busy", "-n", namespace)
        status = (hpa or {}).get("status", {})
        current = [m for m in status.get("currentMetrics") or [] if m.get("type") == "Resource"]
        return status if current and status.get("desiredReplicas") == 2 else None

    status = _until("the HPA to read CPU utilization and scale to 2", scaled)
    utilization = status["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
    assert 140 <= utilization <= 160, status
    active = [c for c in status["conditions"] if c["type"] == "ScalingActive"]
    assert active and active[0]["status"] == "True" and active[0]["reason"] == "ValidMetricFound", status
