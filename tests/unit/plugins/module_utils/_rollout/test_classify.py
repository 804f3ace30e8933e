# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of plugins/module_utils/_rollout/classify.py: each failure class, the thresholds, readiness."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils._rollout import classify


def _snapshot(*objects, **kwargs):
    snap = classify.Snapshot()
    for obj in objects:
        snap.apply(obj["kind"], "ADDED", obj)
    for event in kwargs.get("events", []):
        snap.apply("Event", "ADDED", event)
    return snap


def _deployment(name="carto-router", revision="2", **status):
    return {"kind": "Deployment", "metadata": {"name": name, "generation": 1,
                                               "annotations": {"deployment.kubernetes.io/revision": revision}},
            "spec": {"replicas": 1}, "status": dict({"observedGeneration": 1}, **status)}


def _rs(name="carto-router-abc", deployment="carto-router", revision="2", **status):
    return {"kind": "ReplicaSet", "metadata": {
        "name": name, "annotations": {"deployment.kubernetes.io/revision": revision},
        "ownerReferences": [{"kind": "Deployment", "name": deployment, "controller": True}]}, "status": status}


def _pod(name="carto-router-abc-1", rs="carto-router-abc", conditions=(), init=(), containers=(), volumes=(),
         restart_policy="Always", owner_kind="ReplicaSet"):
    return {"kind": "Pod", "metadata": {"name": name, "ownerReferences": [
        {"kind": owner_kind, "name": rs, "controller": True}]},
        "spec": {"restartPolicy": restart_policy, "volumes": list(volumes)},
        "status": {"conditions": list(conditions), "initContainerStatuses": list(init),
                   "containerStatuses": list(containers)}}


def _waiting(name, reason, message="", restarts=0, image="img:1", last_exit=None):
    status = {"name": name, "image": image, "restartCount": restarts,
              "state": {"waiting": {"reason": reason, "message": message}}}
    if last_exit is not None:
        status["lastState"] = {"terminated": {"exitCode": last_exit, "reason": "Error"}}
    return status


def _ids(snap, restarts=2):
    return [(f["id"], f["reason"], f["kind"], f["name"]) for f in classify.findings(snap, restarts)]


UNSCHEDULABLE = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                 "message": "0/3 nodes are available: 3 Insufficient cpu."}


def test_unschedulable_pod_names_the_scheduler_message_and_its_deployment():
    snap = _snapshot(_deployment(), _rs(), _pod(conditions=[UNSCHEDULABLE]))
    (found,) = classify.findings(snap)
    assert (found["id"], found["reason"], found["owner"]) == ("unschedulable", "Unschedulable",
                                                              "Deployment/carto-router")
    assert found["message"] == "0/3 nodes are available: 3 Insufficient cpu."
    assert not found["immediate"]
    assert not classify.terminal(found, first_seen=100.0, now=104.9, grace=5)
    assert classify.terminal(found, first_seen=100.0, now=105.0, grace=5)


def test_unschedulable_with_a_triggered_scale_up_is_progress():
    event = {"involvedObject": {"kind": "Pod", "name": "carto-router-abc-1"}, "reason": "TriggeredScaleUp",
             "lastTimestamp": "2026-01-01T00:00:00Z"}
    snap = _snapshot(_deployment(), _rs(), _pod(conditions=[UNSCHEDULABLE]), events=[event])
    assert classify.findings(snap) == []


def test_pods_of_an_old_replicaset_are_ignored():
    snap = _snapshot(_deployment(revision="3"), _rs(revision="2"), _pod(conditions=[UNSCHEDULABLE]))
    assert classify.findings(snap) == []


def test_unbound_claim_makes_the_pvc_the_culprit():
    claim = {"kind": "PersistentVolumeClaim", "metadata": {"name": "data-carto-postgresql-0"},
             "spec": {"storageClassName": "standard"}, "status": {"phase": "Pending"}}
    pod = _pod("carto-postgresql-0", "carto-postgresql", owner_kind="StatefulSet", conditions=[dict(
        UNSCHEDULABLE, message="0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind.")],
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-carto-postgresql-0"}}])
    (found,) = classify.findings(_snapshot(claim, pod))
    assert (found["id"], found["kind"], found["name"]) == ("pvc_not_bound", "PersistentVolumeClaim",
                                                           "data-carto-postgresql-0")
    assert "didn't find available persistent volumes to bind" in found["message"]
    assert found["detail"]["pod"] == "carto-postgresql-0"


def test_pvc_provisioning_failed_event_and_missing_storage_class():
    failed = {"kind": "PersistentVolumeClaim", "metadata": {"name": "a"}, "spec": {"storageClassName": "fast"},
              "status": {"phase": "Pending"}}
    missing = {"kind": "PersistentVolumeClaim", "metadata": {"name": "b"}, "spec": {"storageClassName": "nope"},
               "status": {"phase": "Pending"}}
    fast = {"kind": "StorageClass", "metadata": {"name": "fast"}, "provisioner": "ebs.csi.aws.com"}
    event = {"involvedObject": {"kind": "PersistentVolumeClaim", "name": "a"}, "reason": "ProvisioningFailed",
             "message": "failed to provision volume: UnauthorizedOperation", "lastTimestamp": "2026-01-01T00:00:01Z"}
    out = {f["name"]: f for f in classify.findings(_snapshot(failed, missing, fast, events=[event]))}
    assert out["a"]["reason"] == "ProvisioningFailed" and "UnauthorizedOperation" in out["a"]["message"]
    assert out["b"]["message"] == 'storageclass.storage.k8s.io "nope" not found'


def test_pvc_with_a_working_provisioner_is_progress():
    claim = {"kind": "PersistentVolumeClaim", "metadata": {"name": "a"}, "spec": {"storageClassName": "fast"},
             "status": {"phase": "Pending"}}
    fast = {"kind": "StorageClass", "metadata": {"name": "fast"}, "provisioner": "ebs.csi.aws.com"}
    events = [{"involvedObject": {"kind": "PersistentVolumeClaim", "name": "a"}, "reason": "ProvisioningFailed",
               "message": "transient", "lastTimestamp": "2026-01-01T00:00:01Z"},
              {"involvedObject": {"kind": "PersistentVolumeClaim", "name": "a"}, "reason": "Provisioning",
               "message": "External provisioner is provisioning volume", "lastTimestamp": "2026-01-01T00:00:02Z"}]
    assert classify.findings(_snapshot(claim, fast, events=events)) == []


def test_image_pull_failures_grace_and_invalid_name_at_once():
    pod = _pod(containers=[_waiting("router", "ImagePullBackOff", 'Back-off pulling image "x:1"')])
    (found,) = classify.findings(_snapshot(_deployment(), _rs(), pod))
    assert (found["id"], found["reason"], found["container"]) == ("image_pull", "ImagePullBackOff", "router")
    assert not classify.terminal(found, 0.0, 4.0, grace=5)
    invalid = _pod(containers=[_waiting("router", "InvalidImageName", 'couldn\'t parse image name "x::1"')])
    (found,) = classify.findings(_snapshot(_deployment(), _rs(), invalid))
    assert found["immediate"] and classify.terminal(found, 0.0, 0.0, grace=5)


def test_crash_loop_tolerates_one_restart_and_fails_at_the_threshold():
    one = _pod(init=[_waiting("workspace-migrations", "CrashLoopBackOff", "back-off 10s", restarts=1, last_exit=1)])
    (found,) = classify.findings(_snapshot(_deployment(), _rs(), one))
    assert found["id"] == "container_crash" and found["init"] and found["detail"]["migrations"]
    assert not classify.terminal(found, 0.0, 1000.0, grace=5)  # one restart: never terminal by time alone
    two = _pod(init=[_waiting("workspace-migrations", "CrashLoopBackOff", "back-off 20s", restarts=2, last_exit=1)])
    (found,) = classify.findings(_snapshot(_deployment(), _rs(), two))
    assert classify.terminal(found, 0.0, 0.0, grace=5)
    assert "last exit code 1" in found["message"]


def test_a_container_running_again_after_a_crash_is_not_a_finding():
    status = {"name": "router", "restartCount": 3, "state": {"running": {}},
              "lastState": {"terminated": {"exitCode": 1}}}
    assert classify.findings(_snapshot(_deployment(), _rs(), _pod(containers=[status]))) == []


def test_init_containers_come_first():
    pod = _pod(init=[_waiting("workspace-migrations", "CrashLoopBackOff", restarts=3, last_exit=1)],
               containers=[_waiting("workspace-api", "PodInitializing")])
    other = _pod("carto-router-abc-2", containers=[_waiting("router", "ImagePullBackOff")])
    ordered = classify.culprit_first(classify.findings(_snapshot(_deployment(), _rs(), other, pod)))
    assert [f["container"] for f in ordered] == ["router", "workspace-migrations"]  # image pull sorts first
    ordered = classify.culprit_first([f for f in ordered if f["id"] == "container_crash"])
    assert ordered[0]["init"]


def test_missing_secret_and_key_are_parsed():
    assert classify.missing_reference('secret "carto-pg" not found') == ("Secret", "carto-pg", None)
    assert classify.missing_reference("couldn't find key password in Secret ns/carto-pg") == (
        "Secret", "carto-pg", "password")
    assert classify.missing_reference('configmap "cfg" not found') == ("ConfigMap", "cfg", None)
    pod = _pod(containers=[_waiting("api", "CreateContainerConfigError", 'secret "carto-pg" not found')])
    (found,) = classify.findings(_snapshot(_deployment(), _rs(), pod))
    assert found["id"] == "container_config" and found["detail"]["missing"]["name"] == "carto-pg"


def test_failed_create_progress_deadline_and_jobs():
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
               "message": 'pods "x" is forbidden: exceeded quota: pods'}
    rs = _rs(conditions=[failure])
    deadline = _deployment(conditions=[{"type": "Progressing", "status": "False",
                                        "reason": "ProgressDeadlineExceeded",
                                        "message": 'ReplicaSet "carto-router-abc" has timed out progressing.'}])
    hook = {"kind": "Job", "metadata": {"name": "carto-pre-install", "annotations": {
        "helm.sh/hook": "pre-install, pre-upgrade"}}, "status": {"failed": 1, "conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "backoff limit"}]}}
    hook_pod = _pod("carto-pre-install-x", "carto-pre-install", owner_kind="Job", restart_policy="Never",
                    containers=[{"name": "check", "restartCount": 0, "state": {"terminated": {"exitCode": 1}}}])
    found = {f["id"]: f for f in classify.findings(_snapshot(deadline, rs, hook, hook_pod))}
    assert found["create_failed"]["owner"] == "Deployment/carto-router"
    assert found["progress_deadline"]["immediate"]
    assert found["hook_failed"]["detail"]["hook"] == "pre-install, pre-upgrade" and found["hook_failed"]["immediate"]
    crash = found["container_crash"]
    assert crash["folded"] and not classify.terminal(crash, 0.0, 100.0, grace=5)  # the Job decides


def test_job_with_repeated_pod_failures_before_its_backoff_limit():
    job = {"kind": "Job", "metadata": {"name": "migrate"}, "status": {"failed": 2}}
    (found,) = classify.findings(_snapshot(job), restarts_threshold=2)
    assert (found["id"], found["immediate"]) == ("job_failed", True)
    assert classify.findings(_snapshot(dict(job, status={"failed": 1})), restarts_threshold=2) == []


def test_workload_readiness():
    assert classify.workload_ready("Deployment", _deployment(updatedReplicas=1, availableReplicas=1,
                                                             readyReplicas=1, replicas=1)) is None
    assert classify.workload_ready("Deployment", _deployment(updatedReplicas=1, availableReplicas=0)) == \
        "0/1 availableReplicas"
    sts = {"metadata": {"generation": 2}, "spec": {"replicas": 1},
           "status": {"observedGeneration": 2, "readyReplicas": 1, "currentRevision": "a", "updateRevision": "b"}}
    assert classify.workload_ready("StatefulSet", sts) == "update to b in progress"
    assert classify.workload_ready("Job", {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}) is None
    snap = _snapshot(_deployment(updatedReplicas=0))
    assert classify.not_ready(snap) == ["Deployment/carto-router: 0/1 updatedReplicas"]
