"""Rollout state read from Kubernetes objects (plugins/module_utils/k8s_status.py)."""

import datetime

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils import k8s_status

NOW = datetime.datetime(2026, 11, 21, 12, 0, 0, tzinfo=datetime.timezone.utc)


def deployment(name="carto-maps-api", replicas=2, updated=2, available=2, total=None, generation=3, observed=3,
               available_cond="True"):
    status = {"observedGeneration": observed, "updatedReplicas": updated, "availableReplicas": available,
              "replicas": total if total is not None else updated}
    if available_cond is not None:
        status["conditions"] = [{"type": "Available", "status": available_cond}]
    return {"metadata": {"name": name, "generation": generation}, "spec": {"replicas": replicas}, "status": status}


def pod(name="carto-router-1", phase="Running", ready="True", containers=2, ready_containers=2, restarts=(0, 0),
        created="2026-11-21T11:56:54Z", deleting=False):
    meta = {"name": name, "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-21T11:59:00Z"
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "c%d" % i} for i in range(containers)]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": ready}],
            "containerStatuses": [{"name": "c%d" % i, "ready": i < ready_containers, "restartCount": restarts[i]}
                                  for i in range(containers)],
        },
    }


@pytest.mark.parametrize("kwargs,reason", [
    ({}, None),
    ({"observed": 2}, "spec not observed yet"),
    ({"updated": 1}, "1/2 replicas updated"),
    ({"available": 1}, "1/2 replicas available"),
    ({"total": 3}, "1 old replicas pending termination"),
    ({"available_cond": "False"}, "condition Available is not True"),
    ({"available_cond": None}, "condition Available is not True"),
    ({"replicas": 0, "updated": 0, "available": 0, "available_cond": None}, None),
])
def test_deployment_problem(kwargs, reason):
    assert k8s_status.deployment_problem(deployment(**kwargs)) == reason


def test_deployments_not_available_names_each_with_reason_sorted():
    out = k8s_status.deployments_not_available([
        deployment("carto-router"), deployment("carto-workspace-api", available=0), deployment("carto-b", updated=1)])
    assert out == ["carto-b (1/2 replicas updated)", "carto-workspace-api (0/2 replicas available)"]


@pytest.mark.parametrize("kwargs,reason", [
    ({}, None),
    ({"phase": "Pending"}, "Pending"),
    ({"ready": "False"}, "Running, not Ready"),
    ({"deleting": True}, "Terminating"),
])
def test_pod_problem(kwargs, reason):
    assert k8s_status.pod_problem(pod(**kwargs)) == reason


def test_pods_not_ready_ignores_succeeded_pods():
    out = k8s_status.pods_not_ready([pod("a"), pod("b", phase="Succeeded", ready="False"), pod("c", ready="False")])
    assert out == ["c (Running, not Ready)"]


def test_pod_row_like_kubectl():
    row = k8s_status.pod_row(pod(ready_containers=1, restarts=(2, 1)), now=NOW)
    assert row == {"NAME": "carto-router-1", "READY": "1/2", "STATUS": "Running", "RESTARTS": "3", "AGE": "3m6s"}


@pytest.mark.parametrize("seconds,text", [(45, "45s"), (119, "119s"), (186, "3m6s"), (700, "11m"),
                                          (8 * 3600, "8h"), (3 * 86400, "3d")])
def test_human_age(seconds, text):
    assert k8s_status.human_age(seconds) == text


def test_format_table_aligns_columns():
    lines = k8s_status.format_table([{"NAME": "carto-router-1", "READY": "2/2"}, {"NAME": "x", "READY": "1/1"}],
                                    ["NAME", "READY"])
    assert lines == ["NAME             READY", "carto-router-1   2/2", "x                1/1"]


def test_pods_with_container_finds_init_containers():
    api = pod("carto-workspace-api-1")
    api["spec"]["initContainers"] = [{"name": "workspace-migrations"}]
    assert k8s_status.pods_with_container([pod("r"), api], "workspace-migrations") == ["carto-workspace-api-1"]


def test_recent_events_keeps_the_newest_last():
    events = [
        {"lastTimestamp": "2026-11-21T11:00:0%dZ" % i, "type": "Warning", "reason": "R%d" % i,
         "involvedObject": {"kind": "Pod", "name": "p%d" % i}, "message": "m%d " % i}
        for i in (3, 1, 2)
    ]
    lines = k8s_status.recent_events(events, count=2)
    assert lines[0].startswith("LAST SEEN")
    assert "R2" in lines[1] and "pod/p2" in lines[1] and lines[1].endswith("m2")
    assert "R3" in lines[2]
    assert len(lines) == 3
    assert k8s_status.recent_events([]) == ["no events"]
