# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Readiness and terminal failures of a release's objects, from the Kubernetes API's own JSON.

Everything here is a pure function of a ``Snapshot`` (dicts as the API returns them) and the clock,
so it is unit-tested without a cluster. The reason strings are the ones Kubernetes publishes:

- pod condition ``PodScheduled=False`` reason ``Unschedulable`` (kube-scheduler's message,
  https://kubernetes.io/docs/concepts/scheduling-eviction/kube-scheduler/);
- container ``state.waiting.reason``: ``ErrImagePull``, ``ImagePullBackOff``, ``InvalidImageName``,
  ``CrashLoopBackOff``, ``CreateContainerConfigError``, ``CreateContainerError``, ``RunContainerError``
  (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-states);
- PersistentVolumeClaim events ``ProvisioningFailed`` / ``FailedBinding``
  (https://kubernetes.io/docs/concepts/storage/persistent-volumes/);
- Deployment / ReplicaSet condition ``ReplicaFailure`` reason ``FailedCreate`` and controller events ``FailedCreate``
  (quota, LimitRange, admission webhooks, Pod Security);
- Deployment condition ``Progressing=False`` reason ``ProgressDeadlineExceeded``
  (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#failed-deployment);
- Job condition ``Failed`` (``BackoffLimitExceeded``...), for Helm hooks (``helm.sh/hook`` annotation,
  https://helm.sh/docs/topics/charts_hooks/).

A finding is a dict: ``id`` (stable reason id, below), ``reason`` (Kubernetes' reason string), ``kind``/``name`` (the
culprit object), ``owner`` (``Kind/name`` of the workload, or None), ``container``, ``init`` (bool), ``image``,
``message`` (Kubernetes' text), ``key`` (identity used to time it), ``immediate`` (terminal at once, no grace),
``restarts`` (int) and ``detail`` (dict). Reason ids: ``unschedulable``, ``pvc_not_bound``, ``image_pull``,
``container_crash``, ``container_config``, ``create_failed``, ``progress_deadline``, ``hook_failed``, ``job_failed``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

REASON_IDS = ("unschedulable", "pvc_not_bound", "image_pull", "container_crash", "container_config", "create_failed",
              "progress_deadline", "hook_failed", "job_failed")
IMAGE_PULL = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "RegistryUnavailable")
IMAGE_INVALID = ("InvalidImageName",)
CONFIG_ERRORS = ("CreateContainerConfigError", "CreateContainerError", "RunContainerError")
HOOK_ANNOTATION = "helm.sh/hook"
MIGRATIONS_CONTAINER = "workspace-migrations"
PVC_MESSAGE = re.compile(r"persistentvolumeclaim|persistent volume|volume node affinity|unbound immediate", re.I)
MISSING_REF = (
    (re.compile(r'secret "([^"]+)" not found', re.I), "Secret", None),
    (re.compile(r'configmap "([^"]+)" not found', re.I), "ConfigMap", None),
    (re.compile(r"couldn't find key (\S+) in Secret [^/\s]+/(\S+)", re.I), "Secret", "key"),
    (re.compile(r"couldn't find key (\S+) in ConfigMap [^/\s]+/(\S+)", re.I), "ConfigMap", "key"),
)


class Snapshot(object):
    """The release's objects as last seen: ``objects[kind][name] = obj`` and ``events`` (a list)."""

    KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "PersistentVolumeClaim",
             "StorageClass")

    def __init__(self):
        self.objects = {kind: {} for kind in self.KINDS}
        self.events = {}

    def apply(self, kind, event_type, obj):
        name = (obj.get("metadata") or {}).get("name")
        if kind == "Event":
            uid = (obj.get("metadata") or {}).get("uid") or name
            if event_type == "DELETED":
                self.events.pop(uid, None)
            else:
                self.events[uid] = obj
            return
        if event_type == "DELETED":
            self.objects[kind].pop(name, None)
        else:
            self.objects[kind][name] = obj

    def events_for(self, kind, name, since=None):
        out = []
        for event in self.events.values():
            involved = event.get("involvedObject") or event.get("regarding") or {}
            if involved.get("kind") == kind and involved.get("name") == name:
                if since is None or (event_time(event) or "") >= since:
                    out.append(event)
        return sorted(out, key=lambda e: event_time(e) or "")


def event_time(event):
    return (event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
            or (event.get("metadata") or {}).get("creationTimestamp"))


def _meta(obj):
    return obj.get("metadata") or {}


def _conditions(obj):
    return {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or []}


def owner_of(obj):
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller", True):
            return ref.get("kind"), ref.get("name")
    return None, None


# --------------------------------------------------------------------------- readiness


def workload_ready(kind, obj):
    """None when the workload is rolled out and ready, else why not (text). ``kubectl rollout status`` semantics."""
    meta, spec, status = _meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet") and \
            status.get("observedGeneration", 0) < meta.get("generation", 0):
        return "spec not observed yet"
    if kind == "Deployment":
        wanted = spec.get("replicas", 1)
        for field in ("updatedReplicas", "availableReplicas", "readyReplicas"):
            if status.get(field, 0) < wanted:
                return "%d/%d %s" % (status.get(field, 0), wanted, field)
        if status.get("replicas", 0) > status.get("updatedReplicas", 0):
            return "%d old replicas pending termination" % (status["replicas"] - status["updatedReplicas"])
        return None
    if kind == "StatefulSet":
        wanted = spec.get("replicas", 1)
        if status.get("readyReplicas", 0) < wanted:
            return "%d/%d readyReplicas" % (status.get("readyReplicas", 0), wanted)
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy == "RollingUpdate" and status.get("updateRevision") and \
                status.get("currentRevision") != status.get("updateRevision"):
            return "update to %s in progress" % status.get("updateRevision")
        return None
    if kind == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        for field in ("updatedNumberScheduled", "numberReady", "numberAvailable"):
            if status.get(field, 0) < desired:
                return "%d/%d %s" % (status.get(field, 0), desired, field)
        return None
    if kind == "Job":
        conditions = _conditions(obj)
        if (conditions.get("Complete") or {}).get("status") == "True":
            return None
        return "not complete (%d succeeded)" % status.get("succeeded", 0)
    return None


def not_ready(snapshot):
    """``Kind/name: why`` for every Deployment, StatefulSet, DaemonSet and non-hook Job not ready yet."""
    out = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        for name, obj in sorted(snapshot.objects[kind].items()):
            if kind == "Job" and HOOK_ANNOTATION in (_meta(obj).get("annotations") or {}):
                continue
            why = workload_ready(kind, obj)
            if why:
                out.append("%s/%s: %s" % (kind, name, why))
    return out


# --------------------------------------------------------------------------- findings


REVISION = "deployment.kubernetes.io/revision"


def _rs_and_deployment(snapshot, rs_name):
    """(ReplicaSet, name of its Deployment or None) from the snapshot; (None, None) when the ReplicaSet is unknown."""
    rs = snapshot.objects["ReplicaSet"].get(rs_name)
    dkind, dname = owner_of(rs) if rs else (None, None)
    return rs, dname if dkind == "Deployment" else None


def _newest_replicaset(snapshot, rs, deployment_name):
    """True when ``rs`` carries its Deployment's current revision (or the Deployment is not known yet)."""
    deployment = snapshot.objects["Deployment"].get(deployment_name)
    if deployment is None:
        return True
    return (_meta(rs).get("annotations") or {}).get(REVISION) == (_meta(deployment).get("annotations") or {}).get(
        REVISION)


def _current_pod(snapshot, pod):
    """False for pods of an old ReplicaSet or an old StatefulSet revision (being replaced by the rollout)."""
    kind, name = owner_of(pod)
    if kind == "ReplicaSet":
        rs, deployment = _rs_and_deployment(snapshot, name)
        if rs and deployment:
            return _newest_replicaset(snapshot, rs, deployment)
    if kind == "StatefulSet":
        sts = snapshot.objects["StatefulSet"].get(name)
        update = ((sts or {}).get("status") or {}).get("updateRevision")
        if update:
            return (_meta(pod).get("labels") or {}).get("controller-revision-hash") in (None, update)
    return True


def _workload_of(snapshot, pod):
    kind, name = owner_of(pod)
    if kind == "ReplicaSet":
        deployment = _rs_and_deployment(snapshot, name)[1]
        if deployment:
            return "Deployment/%s" % deployment
    return "%s/%s" % (kind, name) if kind else None


def _finding(rid, reason, kind, name, message, key, owner=None, container=None, init=False, image=None,
             immediate=False, restarts=0, **detail):
    return {"id": rid, "reason": reason, "kind": kind, "name": name, "owner": owner, "container": container,
            "init": init, "image": image, "message": (message or "").strip(), "key": key, "immediate": immediate,
            "restarts": restarts, "detail": detail}


def missing_reference(message):
    """(kind, name, key) of the Secret/ConfigMap a CreateContainerConfigError names, or None."""
    for pattern, kind, has_key in MISSING_REF:
        match = pattern.search(message or "")
        if match:
            if has_key:
                return kind, match.group(2), match.group(1)
            return kind, match.group(1), None
    return None


def _pod_claims(pod):
    return [v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or []
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


def pvc_problem(snapshot, pvc, since=None):
    """A pvc_not_bound finding for a Pending claim whose binding cannot progress, or None.

    Progressing (None): an external provisioner is working on it (``ExternalProvisioning``/``Provisioning``
    events with no ``ProvisioningFailed`` after them), or it waits for its first consumer to be scheduled.
    """
    meta, spec = _meta(pvc), pvc.get("spec") or {}
    if (pvc.get("status") or {}).get("phase") != "Pending":
        return None
    name = meta.get("name")
    key = "PersistentVolumeClaim/%s/pending" % name
    events = snapshot.events_for("PersistentVolumeClaim", name)
    failures = [e for e in events if e.get("reason") in ("ProvisioningFailed", "FailedBinding")]
    last = events[-1] if events else None
    if failures and last is failures[-1]:
        return _finding("pvc_not_bound", failures[-1].get("reason"), "PersistentVolumeClaim", name,
                        failures[-1].get("message"), key, storage_class=spec.get("storageClassName"))
    class_name = spec.get("storageClassName")
    if class_name:
        storage_class = snapshot.objects["StorageClass"].get(class_name)
        if snapshot.objects["StorageClass"] and storage_class is None:
            return _finding("pvc_not_bound", "ProvisioningFailed", "PersistentVolumeClaim", name,
                            'storageclass.storage.k8s.io "%s" not found' % class_name, key,
                            storage_class=class_name)
        if storage_class and storage_class.get("provisioner") == "kubernetes.io/no-provisioner" and \
                storage_class.get("volumeBindingMode", "Immediate") == "Immediate" and not spec.get("volumeName"):
            return _finding("pvc_not_bound", "FailedBinding", "PersistentVolumeClaim", name,
                            "StorageClass %s has no provisioner (kubernetes.io/no-provisioner) and no "
                            "PersistentVolume matches the claim" % class_name, key, storage_class=class_name)
    return None


def _container_findings(pod, owner, restarts_threshold):
    meta, status = _meta(pod), pod.get("status") or {}
    name = meta.get("name")
    out = []
    groups = ((True, status.get("initContainerStatuses") or []), (False, status.get("containerStatuses") or []))
    for init, statuses in groups:
        for cs in statuses:
            container = cs.get("name")
            waiting = (cs.get("state") or {}).get("waiting") or {}
            terminated = (cs.get("state") or {}).get("terminated") or {}
            last_term = (cs.get("lastState") or {}).get("terminated") or {}
            restarts = cs.get("restartCount", 0)
            reason = waiting.get("reason")
            key = "Pod/%s/%s/%s" % (name, container, reason)
            common = dict(owner=owner, container=container, init=init, image=cs.get("image"), restarts=restarts)
            if reason in IMAGE_PULL or reason in IMAGE_INVALID:
                out.append(_finding("image_pull", reason, "Pod", name, waiting.get("message"), key,
                                    immediate=reason in IMAGE_INVALID, **common))
            elif reason in CONFIG_ERRORS:
                ref = missing_reference(waiting.get("message"))
                detail = {"missing": {"kind": ref[0], "name": ref[1], "key": ref[2]}} if ref else {}
                out.append(_finding("container_config", reason, "Pod", name, waiting.get("message"), key,
                                    **dict(common, **detail)))
            elif reason == "CrashLoopBackOff" or (terminated.get("exitCode") not in (None, 0) and restarts and
                                                  (pod.get("spec") or {}).get("restartPolicy") != "Never"):
                # A container that is running again after a crash is not a finding: only one that is down now.
                exit_info = last_term or terminated
                message = waiting.get("message") or ""
                if exit_info:
                    message = ("%s (last exit code %s, %s)" % (
                        message, exit_info.get("exitCode"), exit_info.get("reason") or "Error")).strip()
                out.append(_finding("container_crash", reason or "Error", "Pod", name, message,
                                    "Pod/%s/%s/crash" % (name, container),
                                    immediate=restarts >= restarts_threshold, exit_code=exit_info.get("exitCode"),
                                    migrations=container == MIGRATIONS_CONTAINER, **common))
            elif terminated.get("exitCode") not in (None, 0) and \
                    (pod.get("spec") or {}).get("restartPolicy") == "Never":
                out.append(_finding("container_crash", terminated.get("reason") or "Error", "Pod", name,
                                    "exit code %s" % terminated.get("exitCode"), "Pod/%s/%s/exit" % (name, container),
                                    immediate=True, exit_code=terminated.get("exitCode"),
                                    migrations=container == MIGRATIONS_CONTAINER, **common))
    return out


def pod_findings(snapshot, pod, restarts_threshold):
    """Findings of one pod (scheduling, its PVCs, its containers; init containers first)."""
    meta = _meta(pod)
    if meta.get("deletionTimestamp") or not _current_pod(snapshot, pod):
        return []
    owner = _workload_of(snapshot, pod)
    name = meta.get("name")
    scheduled = _conditions(pod).get("PodScheduled") or {}
    out = []
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        message = scheduled.get("message") or ""
        scale_up = [e for e in snapshot.events_for("Pod", name) if e.get("reason") == "TriggeredScaleUp"]
        pending = [c for c in _pod_claims(pod)
                   if ((snapshot.objects["PersistentVolumeClaim"].get(c) or {}).get("status") or {}).get("phase")
                   != "Bound"]
        if pending and PVC_MESSAGE.search(message):
            for claim in pending:
                pvc = snapshot.objects["PersistentVolumeClaim"].get(claim) or {"metadata": {"name": claim}}
                found = pvc_problem(snapshot, pvc) or _finding(
                    "pvc_not_bound", "Unschedulable", "PersistentVolumeClaim", claim,
                    "claim %s is not bound and pod %s cannot be scheduled: %s" % (claim, name, message),
                    "PersistentVolumeClaim/%s/unschedulable" % claim,
                    storage_class=(pvc.get("spec") or {}).get("storageClassName"))
                found["owner"] = owner
                found["detail"]["pod"] = name
                out.append(found)
        elif not scale_up:
            out.append(_finding("unschedulable", "Unschedulable", "Pod", name, message,
                                "Pod/%s/Unschedulable" % name, owner=owner))
    return out + _container_findings(pod, owner, restarts_threshold)


def _workload_findings(snapshot, restarts_threshold):
    out = []
    for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        for name, obj in snapshot.objects[kind].items():
            conditions = _conditions(obj)
            owner = "%s/%s" % (kind, name)
            progressing = conditions.get("Progressing") or {}
            if kind == "Deployment" and progressing.get("status") == "False" and \
                    progressing.get("reason") == "ProgressDeadlineExceeded":
                out.append(_finding("progress_deadline", "ProgressDeadlineExceeded", kind, name,
                                    progressing.get("message"), owner + "/ProgressDeadlineExceeded", owner=owner,
                                    immediate=True))
            failure = conditions.get("ReplicaFailure") or {}
            if kind == "ReplicaSet":
                deployment = _rs_and_deployment(snapshot, name)[1]
                if deployment:
                    if not _newest_replicaset(snapshot, obj, deployment):
                        continue  # an old ReplicaSet, scaled down by the rollout
                    owner = "Deployment/%s" % deployment
            if failure.get("status") == "True" and kind in ("Deployment", "ReplicaSet"):
                out.append(_finding("create_failed", failure.get("reason") or "FailedCreate", kind, name,
                                    failure.get("message"), "%s/%s/FailedCreate" % (kind, name), owner=owner))
            elif kind in ("StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
                events = [e for e in snapshot.events_for(kind, name) if e.get("reason") == "FailedCreate"]
                if events:
                    out.append(_finding("create_failed", "FailedCreate", kind, name, events[-1].get("message"),
                                        "%s/%s/FailedCreate" % (kind, name), owner=owner))
            if kind == "Job":
                hook = (_meta(obj).get("annotations") or {}).get(HOOK_ANNOTATION)
                failed = conditions.get("Failed") or {}
                failed_pods = (obj.get("status") or {}).get("failed", 0)
                if failed.get("status") == "True" or failed_pods >= restarts_threshold:
                    message = failed.get("message") or "%d pod(s) failed" % failed_pods
                    out.append(_finding("hook_failed" if hook else "job_failed",
                                        failed.get("reason") or "PodsFailed", kind, name, message,
                                        owner + "/Failed", owner=owner, immediate=True, restarts=failed_pods,
                                        hook=hook))
    return out


def findings(snapshot, restarts_threshold=2):
    """Every current problem of the release (terminal or not yet); hook/Job pod exits are folded into the Job."""
    out = _workload_findings(snapshot, restarts_threshold)
    jobs = {f["name"] for f in out if f["kind"] == "Job"}
    for pod in snapshot.objects["Pod"].values():
        for item in pod_findings(snapshot, pod, restarts_threshold):
            if item["owner"] and item["owner"].startswith("Job/") and item["id"] == "container_crash":
                # The Job's own Failed condition / failed count decides; the pod stays a finding for its logs.
                item["immediate"] = False
                item["folded"] = item["owner"][4:] in jobs
            out.append(item)
    claimed = {f["name"] for f in out if f["kind"] == "PersistentVolumeClaim"}
    for pvc in snapshot.objects["PersistentVolumeClaim"].values():
        if _meta(pvc).get("name") not in claimed:
            found = pvc_problem(snapshot, pvc)
            if found:
                out.append(found)
    return out


def terminal(found, first_seen, now, grace):
    """True when the finding is a verdict: immediate ones at once, the others once seen for ``grace`` seconds.

    A crashing container is terminal at ``restarts_threshold`` restarts (one restart is tolerated by default);
    a failing Job at ``restarts_threshold`` failed pods or its ``Failed`` condition.
    """
    if found.get("folded"):
        return False
    if found["immediate"]:
        return True
    if found["id"] in ("container_crash", "job_failed", "hook_failed", "progress_deadline"):
        return False  # terminal only as ``immediate`` (restarts_threshold reached, or the Job/Deployment condition)
    return now - first_seen >= grace


ORDER = {"hook_failed": 0, "container_config": 1, "image_pull": 2, "container_crash": 3, "pvc_not_bound": 4,
         "unschedulable": 5, "create_failed": 6, "job_failed": 7, "progress_deadline": 8}


def culprit_first(items):
    """Findings sorted so that the cause comes first: init containers before containers, then by class."""
    return sorted(items, key=lambda f: (ORDER.get(f["id"], 9), not f.get("init"), f["kind"], f["name"]))
