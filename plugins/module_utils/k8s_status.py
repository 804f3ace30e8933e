# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Read rollout state from Kubernetes objects as returned by kubernetes.core.k8s_info.

Source: https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, "Install CARTO" (the ``kubectl get pods``
list) and "Post-installation checks" (``kubectl logs ... -c workspace-migrations``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime


def _conditions(obj):
    return {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or []}


def deployment_problem(deployment):
    """Why a Deployment is not rolled out and Available, or None.

    Rolled out = observedGeneration caught up, updatedReplicas == availableReplicas == spec.replicas
    and condition Available=True (what ``kubectl rollout status`` waits for).
    """
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    meta = deployment.get("metadata") or {}
    wanted = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return "spec not observed yet"
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    if updated < wanted:
        return "%d/%d replicas updated" % (updated, wanted)
    if available < wanted:
        return "%d/%d replicas available" % (available, wanted)
    if status.get("replicas", 0) > updated:
        return "%d old replicas pending termination" % (status["replicas"] - updated)
    available_cond = _conditions(deployment).get("Available")
    if wanted and (not available_cond or available_cond.get("status") != "True"):
        return "condition Available is not True"
    return None


def deployments_not_available(deployments):
    """``name (reason)`` for each Deployment that is not rolled out."""
    out = []
    for item in deployments or []:
        problem = deployment_problem(item)
        if problem:
            out.append("%s (%s)" % (item["metadata"]["name"], problem))
    return sorted(out)


def pod_problem(pod):
    """Why a pod is not Running and Ready, or None. Terminating pods count as not ready."""
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    phase = status.get("phase", "Unknown")
    if phase != "Running":
        return phase
    ready = _conditions(pod).get("Ready")
    if not ready or ready.get("status") != "True":
        return "Running, not Ready"
    return None


def pods_not_ready(pods):
    """``name (reason)`` for each pod that is not Running and Ready (Succeeded job pods are ignored)."""
    out = []
    for item in pods or []:
        if (item.get("status") or {}).get("phase") == "Succeeded":
            continue
        problem = pod_problem(item)
        if problem:
            out.append("%s (%s)" % (item["metadata"]["name"], problem))
    return sorted(out)


def _parse_time(value):
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def human_age(seconds):
    """Age like kubectl prints it: 45s, 3m6s, 8h, 2d."""
    seconds = max(int(seconds), 0)
    if seconds < 120:
        return "%ds" % seconds
    minutes = seconds // 60
    if minutes < 10:
        return "%dm%ds" % (minutes, seconds % 60)
    if minutes < 180:
        return "%dm" % minutes
    hours = minutes // 60
    if hours < 48:
        return "%dh" % hours
    return "%dd" % (hours // 24)


def pod_row(pod, now=None):
    """A ``kubectl get pods`` row: NAME, READY, STATUS, RESTARTS, AGE."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or containers)
    ready = sum(1 for c in containers if c.get("ready"))
    started = _parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
    phase = "Terminating" if (pod.get("metadata") or {}).get("deletionTimestamp") else status.get("phase", "Unknown")
    return {
        "NAME": pod["metadata"]["name"],
        "READY": "%d/%d" % (ready, total),
        "STATUS": phase,
        "RESTARTS": str(sum(c.get("restartCount", 0) for c in containers)),
        "AGE": human_age((now - started).total_seconds()) if started else "?",
    }


def pod_table(pods, now=None):
    return [pod_row(p, now=now) for p in sorted(pods or [], key=lambda p: p["metadata"]["name"])]


def format_table(rows, columns):
    """Lines of a left-aligned table with ``columns`` as header, like kubectl's output."""
    widths = [max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in columns]
    lines = []
    for row in [dict(zip(columns, columns))] + list(rows):
        lines.append("   ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths)).rstrip())
    return lines


def pods_with_container(pods, container):
    """Names of the pods with a container or init container called ``container``."""
    names = []
    for pod in pods or []:
        spec = pod.get("spec") or {}
        if any(c.get("name") == container for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])):
            names.append(pod["metadata"]["name"])
    return sorted(names)


def recent_events(events, count=30):
    """The ``count`` most recent events as ``LAST SEEN  TYPE  REASON  OBJECT  MESSAGE`` lines, newest last."""
    def when(event):
        return (event.get("lastTimestamp") or event.get("eventTime") or
                (event.get("metadata") or {}).get("creationTimestamp") or "")

    rows = []
    for event in sorted(events or [], key=when)[-int(count):]:
        obj = event.get("involvedObject") or {}
        rows.append({
            "LAST SEEN": (when(event) or "?")[:19],
            "TYPE": event.get("type", ""),
            "REASON": event.get("reason", ""),
            "OBJECT": "%s/%s" % ((obj.get("kind") or "").lower(), obj.get("name", "")),
            "MESSAGE": (event.get("message") or "").strip(),
        })
    return format_table(rows, ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]) if rows else ["no events"]
