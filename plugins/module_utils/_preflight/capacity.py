# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Will the release's pods fit on the nodes as they are now? A first-fit of the rendered pods onto each node's
free capacity.

Free capacity of a node = ``status.allocatable`` (CPU in cores, memory in bytes, pod count) minus the requests of
the pods already bound to it (``spec.nodeName``) that are not finished (``status.phase`` not ``Succeeded`` /
``Failed``). On an upgrade the release's own pods (namespace of the release, label
``app.kubernetes.io/instance=<release>``, the label Helm charts built on Bitnami's ``common`` put on every pod) are
not counted: the rollout replaces them.

A pod fits on a node when, as kube-scheduler's filters decide
(https://kubernetes.io/docs/concepts/scheduling-eviction/kube-scheduler/#kube-scheduler-implementation):

- the node is Ready and not cordoned (``spec.unschedulable``);
- every ``NoSchedule`` / ``NoExecute`` taint of the node is tolerated by the pod
  (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/);
- the node's labels match the pod's ``nodeSelector`` and its required node affinity
  (``requiredDuringSchedulingIgnoredDuringExecution``, operators In, NotIn, Exists, DoesNotExist, Gt, Lt);
- a required pod anti-affinity on ``kubernetes.io/hostname`` whose selector matches the pod's own labels keeps two
  replicas of the workload off the same node;
- the node's free CPU, memory and pod count cover the pod's requests (the larger of the sum of the containers and the
  largest init container, as the scheduler computes a pod's effective request).

Pods are placed largest CPU request first, each on the first node that fits (first-fit decreasing; the scheduler
spreads, so a first-fit that fails is a strong signal, and one that succeeds may still be tight). Everything is a
pure function of the API's JSON, unit-tested without a cluster.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils.carto_checks import (
    FAILED, PASSED, SKIPPED, check)
from ansible_collections.carto.selfhosted.plugins.module_utils._preflight.quantity import (
    cpu_milli, human_cpu, parse_quantity, pod_requests)

DOC_SCHEDULING = ("Kubernetes: kube-scheduler filtering "
                  "(https://kubernetes.io/docs/concepts/scheduling-eviction/kube-scheduler/); CARTO: "
                  "docs.carto.com, Self-Hosted, Kubernetes requirements")
INSTANCE_LABEL = "app.kubernetes.io/instance"


def _human_mem(num):
    if num >= 1024 ** 3:
        return "%.1f GiB" % (num / 1024.0 ** 3)
    return "%d MiB" % int(num / 1024 ** 2)


def tolerates(tolerations, taint):
    """Whether one of ``tolerations`` tolerates ``taint`` (Kubernetes' ToleratesTaint)."""
    for tol in tolerations or []:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        operator = tol.get("operator") or "Equal"
        if not tol.get("key") and operator == "Exists":
            return True
        if tol.get("key") != taint.get("key"):
            continue
        if operator == "Exists" or (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _match_expression(labels, expr):
    key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt"):
        try:
            have, want = int(labels[key]), int(values[0])
        except (KeyError, IndexError, ValueError):
            return False
        return have > want if operator == "Gt" else have < want
    return False


def node_matches(pod_spec, labels):
    """None when the node's ``labels`` satisfy the pod's nodeSelector and required node affinity, else why not."""
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return "nodeSelector %s=%s" % (key, value)
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if terms and not any(all(_match_expression(labels, e) for e in term.get("matchExpressions") or [])
                         for term in terms):
        return "required node affinity"
    return None


def _selector_matches(selector, labels):
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_match_expression(labels, e) for e in selector.get("matchExpressions") or [])


def self_anti_affinity(pod_spec, labels):
    """Whether a required pod anti-affinity on the hostname keeps the workload's replicas on distinct nodes."""
    anti = (pod_spec.get("affinity") or {}).get("podAntiAffinity") or {}
    return any(term.get("topologyKey") == "kubernetes.io/hostname"
               and _selector_matches(term.get("labelSelector") or {}, labels)
               for term in anti.get("requiredDuringSchedulingIgnoredDuringExecution") or [])


def _ready(node):
    ready = [c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]
    return bool(ready) and ready[0].get("status") == "True"


def free_capacity(nodes, pods, release=None, namespace=None):
    """Per node: ``{"name", "labels", "taints", "usable" (None or why not), "cpu", "memory", "pods"}`` free
    (millicores, bytes, count) after the requests of the pods bound there, without the release's own pods."""
    out = []
    index = {}
    for node in nodes or []:
        meta = node.get("metadata") or {}
        spec = node.get("spec") or {}
        alloc = (node.get("status") or {}).get("allocatable") or {}
        usable = None
        if spec.get("unschedulable"):
            usable = "cordoned"
        elif not _ready(node):
            usable = "not Ready"
        entry = {"name": meta.get("name"), "labels": meta.get("labels") or {}, "taints": spec.get("taints") or [],
                 "usable": usable, "cpu": cpu_milli(alloc.get("cpu", 0)),
                 "memory": parse_quantity(alloc.get("memory", 0)), "pods": int(parse_quantity(alloc.get("pods", 110)))}
        out.append(entry)
        index[entry["name"]] = entry
    for pod in pods or []:
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        node = index.get(spec.get("nodeName"))
        if node is None or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        if release and meta.get("namespace") == namespace and (meta.get("labels") or {}).get(INSTANCE_LABEL) == release:
            continue
        cpu, mem = pod_requests(spec)
        node["cpu"] -= cpu
        node["memory"] -= mem
        node["pods"] -= 1
    return out


def release_pods(loads):
    """The pods the rendered release asks for: one entry per replica of each workload of
    ``carto_preflight.workloads`` (its replicas, requests, ``pod_spec`` and ``pod_labels``)."""
    out = []
    for load in loads:
        spread = self_anti_affinity(load["pod_spec"], load["pod_labels"])
        for index in range(load["replicas"]):
            out.append({"workload": "%s %s" % (load["kind"], load["name"]), "replica": index + 1,
                        "replicas": load["replicas"], "spec": load["pod_spec"], "cpu": load["cpu_milli"],
                        "memory": load["memory_bytes"], "spread": spread})
    return out


def _why_not(pod, node, placed):
    if node["usable"]:
        return node["usable"]
    for taint in node["taints"]:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod["spec"].get("tolerations"), taint):
            value = "=" + taint["value"] if taint.get("value") else ""
            return "taint %s%s:%s not tolerated" % (taint.get("key"), value, taint.get("effect"))
    mismatch = node_matches(pod["spec"], node["labels"])
    if mismatch:
        return "%s not matched" % mismatch
    if pod["spread"] and pod["workload"] in placed.get(node["name"], ()):
        return "required anti-affinity (a replica is already there)"
    short = []
    if node["cpu"] < pod["cpu"]:
        short.append("%s CPU free" % human_cpu(max(node["cpu"], 0)))
    if node["memory"] < pod["memory"]:
        short.append("%s memory free" % _human_mem(max(node["memory"], 0)))
    if node["pods"] < 1:
        short.append("no pod slot free")
    return ", ".join(short) or None


def fit(nodes, pods, release=None, namespace=None, loads=()):
    """First-fit decreasing of ``release_pods(loads)`` onto ``free_capacity(nodes, pods, ...)``.

    Returns ``{"placed": {node: [workload, ...]}, "unplaced": [{"workload", "replica", "replicas", "cpu",
    "memory", "reasons": {node: why}}], "nodes": [free capacity before placing]}``.
    """
    capacity = free_capacity(nodes, pods, release, namespace)
    before = [dict(n) for n in capacity]
    wanted = sorted(release_pods(loads), key=lambda p: (-p["cpu"], -p["memory"], p["workload"], p["replica"]))
    placed = {}
    unplaced = []
    for pod in wanted:
        reasons = {}
        for node in capacity:
            why = _why_not(pod, node, placed)
            if why is None:
                node["cpu"] -= pod["cpu"]
                node["memory"] -= pod["memory"]
                node["pods"] -= 1
                placed.setdefault(node["name"], []).append(pod["workload"])
                break
            reasons[node["name"]] = why
        else:
            entry = dict((k, pod[k]) for k in ("workload", "replica", "replicas", "cpu", "memory"))
            entry["reasons"] = reasons
            unplaced.append(entry)
    return {"placed": placed, "unplaced": unplaced, "nodes": before}


def check_node_capacity(nodes, pods, loads, release=None, namespace=None):
    """The ``node_capacity`` preflight check: every pod of the release fits on some node's free capacity.

    ``nodes`` / ``pods``: the API's Node and Pod objects (None when they could not be read: skipped);
    ``loads``: the rendered release's workloads (``carto_preflight.workloads``). Failed names each pod that does not fit (workload, replica, its
    requests) and, per node, why not.
    """
    if nodes is None or pods is None:
        return check("node_capacity", SKIPPED, "the nodes or the pods could not be read", doc=DOC_SCHEDULING)
    result = fit(nodes, pods, release, namespace, loads)
    total = sum(len(v) for v in result["placed"].values()) + len(result["unplaced"])
    free = "; ".join("%s %s CPU / %s free" % (n["name"], human_cpu(max(n["cpu"], 0)), _human_mem(max(n["memory"], 0)))
                     for n in result["nodes"] if not n["usable"])
    if not result["unplaced"]:
        return check("node_capacity", PASSED, "all %d pod(s) of the release fit on the nodes' free capacity (%s)"
                     % (total, free or "no usable node"), doc=DOC_SCHEDULING)
    grouped = {}
    for pod in result["unplaced"]:
        grouped.setdefault(pod["workload"], []).append(pod)
    parts = []
    for workload, missing in sorted(grouped.items()):
        first = missing[0]
        reasons = "; ".join("%s: %s" % (node, why) for node, why in sorted(first["reasons"].items())) or "no node"
        parts.append("%s: %d of %d replica(s) (each %s CPU, %s) fit nowhere (%s)"
                     % (workload, len(missing), first["replicas"], human_cpu(first["cpu"]),
                        _human_mem(first["memory"]), reasons))
    return check("node_capacity", FAILED,
                 "%d of %d pod(s) of the release do not fit on the nodes' free capacity (the requests of the pods "
                 "already running are counted, the release's own are not): %s"
                 % (len(result["unplaced"]), total, " | ".join(parts)),
                 fix="free capacity (scale down or move other workloads), add nodes, lower the replicas or "
                     "resources.requests of the named components, or fix their nodeSelector / tolerations",
                 doc=DOC_SCHEDULING)
