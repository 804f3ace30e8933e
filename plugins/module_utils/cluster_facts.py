# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Everything the preflight checks read, in one process (carto.selfhosted.carto_cluster_facts).

The reads are those of https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes "Requirements" and "Install
CARTO" (Helm v3, kubectl, the cluster version, nodes, a default StorageClass, Gateway API CRDs when
the chart's gateway is on, metrics-server when autoscaling is on: "Autoscaling" in
https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) plus a ``helm template`` of the release to size it. Each
read is independent: a failure is recorded next to it (``error``) and the others still run, so
the preflight table shows every problem of the run at once. ``gather`` takes the readers as
arguments so it is unit tested without a cluster.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

GATEWAY_CRD_SUFFIX = ".gateway.networking.k8s.io"


def read_list(call):
    """Run a list call; returns {'api_found': bool, 'resources': [...], 'error': str}."""
    try:
        return {"api_found": True, "resources": call(), "error": ""}
    except Exception as exc:  # pylint: disable=broad-except
        status = getattr(exc, "status", None)
        if status == 404:
            return {"api_found": False, "resources": [], "error": ""}
        return {"api_found": False, "resources": [], "error": describe(exc)}


def describe(exc):
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None)
    body = getattr(exc, "body", None)
    if status:
        message = ""
        try:
            message = (json.loads(body) or {}).get("message", "") if body else ""
        except (TypeError, ValueError):
            message = str(body)[:300]
        return ("%s %s: %s" % (status, reason or "", message)).strip().rstrip(":")
    return str(exc) or exc.__class__.__name__


def gather(cluster, cli, want_gateway=False, want_metrics=False, metrics_apiservice="v1beta1.metrics.k8s.io",
           render=None, namespace=None, dry_run=False, dry_run_namespace="default"):
    """Read what the preflight needs.

    ``cluster`` has ``version()``, ``nodes()``, ``storage_classes()``, ``crds()``, ``api_service(name)``
    ``pod_metrics()``, ``namespace(name)``, ``served_resources()``, ``pods()`` and ``dry_run_apply(path, body)``
    (the last three only after a successful render; ``dry_run_apply`` only with ``dry_run``: see
    ``_preflight.api_validation``); ``cli`` has ``helm_version()`` and ``kubectl_version()`` returning
    (rc, stdout, stderr); ``render`` returns (rc, stdout, stderr) of ``helm template`` or is None.
    """
    facts = {"helm": _run(cli.helm_version), "kubectl": _run(cli.kubectl_version),
             "cluster": {"version": None, "error": ""}, "nodes": None, "storage_classes": None, "crds": None,
             "metrics_apiservice": None, "metrics": {"answered": False, "error": ""}, "render": None,
             "namespace": None}
    try:
        facts["cluster"]["version"] = cluster.version()
    except Exception as exc:  # pylint: disable=broad-except
        facts["cluster"]["error"] = describe(exc)
    reachable = facts["cluster"]["version"] is not None
    if reachable:
        if namespace:
            found = read_list(lambda: [cluster.namespace(namespace)])
            facts["namespace"] = {"name": namespace, "exists": bool(found["resources"]), "error": found["error"],
                                  "labels": ((found["resources"] or [{}])[0].get("metadata") or {}).get("labels")
                                  or {}}
        facts["nodes"] = read_list(cluster.nodes)
        facts["storage_classes"] = read_list(cluster.storage_classes)
        if want_gateway:
            facts["crds"] = read_list(cluster.crds)
        if want_metrics:
            service = read_list(lambda: [cluster.api_service(metrics_apiservice)])
            facts["metrics_apiservice"] = service["resources"][0] if service["resources"] else None
            if facts["metrics_apiservice"] is not None:
                metrics = read_list(cluster.pod_metrics)
                facts["metrics"] = {"answered": metrics["api_found"] and not metrics["error"],
                                    "error": metrics["error"] or ("" if metrics["api_found"] else
                                                                  "the metrics.k8s.io API is not served")}
    if render is not None and facts["helm"]["rc"] != 0:
        facts["render"] = {"rc": 127, "stdout": "", "stderr": "helm is not runnable: %s" % facts["helm"]["stderr"]}
    elif render is not None:
        rc, out, err = render()
        facts["render"] = {"rc": rc, "stdout": out if rc == 0 else "", "stderr": (err or "").strip()}
        if rc == 0 and reachable and hasattr(cluster, "served_resources"):
            served = read_list(cluster.served_resources)
            facts["served_kinds"] = dict(served, resources=sorted(set(
                "%s %s" % (r["apiVersion"], r["kind"]) for r in served["resources"])))
            facts["pods"] = read_list(cluster.pods)
            if dry_run and served["api_found"]:
                facts["dry_run"] = _dry_run(cluster, out, served["resources"], namespace, dry_run_namespace,
                                            facts.get("namespace"))
    return facts


def _dry_run(cluster, manifest, resources, namespace, fallback, found):
    """The server-side dry run of every rendered object (``_preflight.api_validation``): into ``namespace`` when it
    exists, else into ``fallback``. Returns ``{"refused": [...], "namespace", "into", "error"}``."""
    from ansible_collections.carto.selfhosted.plugins.module_utils._preflight import api_validation
    from ansible_collections.carto.selfhosted.plugins.module_utils.carto_preflight import load_manifest

    into = namespace if (found or {}).get("exists") else fallback
    result = {"refused": None, "namespace": namespace, "into": into, "error": ""}
    try:
        result["refused"] = api_validation.run(cluster.dry_run_apply, load_manifest(manifest), resources, into)
    except Exception as exc:  # pylint: disable=broad-except
        result["error"] = describe(exc)
    return result


def _run(call):
    try:
        rc, out, err = call()
    except Exception as exc:  # pylint: disable=broad-except
        # the binary is missing or not executable
        return {"rc": 127, "stdout": "", "stderr": str(exc)}
    return {"rc": rc, "stdout": (out or "").strip(), "stderr": (err or "").strip()}


def preflight_input(facts):
    """The ``cluster``-side keys of carto.selfhosted.preflight_checks' input, from ``gather``'s facts."""
    def resources(read):
        return read["resources"] if read and read["api_found"] else None

    render = facts.get("render")
    version = (facts["cluster"].get("version") or {}).get("gitVersion")
    return {
        "kubernetes_version": version,
        "nodes": resources(facts.get("nodes")),
        "storage_classes": resources(facts.get("storage_classes")),
        "crd_names": [c.get("metadata", {}).get("name") for c in facts["crds"]["resources"]]
        if facts.get("crds") and facts["crds"]["api_found"] else None,
        "manifest": render["stdout"] if render and render["rc"] == 0 else None,
        "render_error": render["stderr"] or "helm template failed (rc %s)" % render["rc"]
        if render and render["rc"] != 0 else "",
        "served_kinds": resources(facts.get("served_kinds")),
        "pods": resources(facts.get("pods")),
        "dry_run": facts.get("dry_run"),
        "metrics_apiservice": facts.get("metrics_apiservice"),
        "metrics_answered": facts["metrics"]["answered"],
        "metrics_error": facts["metrics"]["error"],
    }


class KubernetesReader(object):
    """The reads of ``gather`` through the kubernetes Python client (the API's own JSON)."""

    def __init__(self, api_client):
        from kubernetes import client as k8s_client

        self.client = api_client
        self.k8s = k8s_client

    def _get(self, path):
        response = self.client.call_api(path, "GET", header_params={"Accept": "application/json"},
                                        auth_settings=["BearerToken"], _preload_content=False,
                                        _return_http_data_only=True, response_type=None, _request_timeout=30)
        return json.loads(response.data or b"null")

    def version(self):
        return self._get("/version")

    def _items(self, path):
        return (self._get(path) or {}).get("items") or []

    def namespace(self, name):
        return self._get("/api/v1/namespaces/%s" % name)

    def nodes(self):
        return self._items("/api/v1/nodes")

    def storage_classes(self):
        return self._items("/apis/storage.k8s.io/v1/storageclasses")

    def crds(self):
        return self._items("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")

    def api_service(self, name):
        return self._get("/apis/apiregistration.k8s.io/v1/apiservices/%s" % name)

    def served_resources(self):
        """``{"apiVersion", "kind", "resource" (plural), "namespaced"}`` of every resource the cluster serves:
        aggregated discovery (``/api`` and ``/apis`` as ``APIGroupDiscoveryList``, Kubernetes >= 1.30), else the
        per-version legacy discovery. Subresources are left out."""
        accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        out = []
        for root in ("/api", "/apis"):
            doc = self.client.call_api(root, "GET", header_params={"Accept": accept}, auth_settings=["BearerToken"],
                                       _preload_content=False, _return_http_data_only=True, response_type=None,
                                       _request_timeout=30)
            doc = json.loads(doc.data or b"null") or {}
            if doc.get("kind") == "APIGroupDiscoveryList":
                for group in doc.get("items") or []:
                    name = (group.get("metadata") or {}).get("name") or ""
                    for version in group.get("versions") or []:
                        api_version = "%s/%s" % (name, version["version"]) if name else version["version"]
                        out.extend({"apiVersion": api_version, "kind": r["responseKind"]["kind"],
                                    "resource": r.get("resource"), "namespaced": r.get("scope") == "Namespaced"}
                                   for r in version.get("resources") or [] if (r.get("responseKind") or {}).get("kind"))
                continue
            versions = doc.get("versions") if root == "/api" else [
                v["groupVersion"] for g in doc.get("groups") or [] for v in g.get("versions") or []]
            for version in versions or []:
                path = ("/api/%s" if root == "/api" else "/apis/%s") % version
                listing = self._get(path) or {}
                out.extend({"apiVersion": version, "kind": r["kind"], "resource": r["name"],
                            "namespaced": bool(r.get("namespaced"))}
                           for r in listing.get("resources") or [] if "/" not in r.get("name", ""))
        return out

    def pods(self):
        """Every pod of the cluster that is not finished (for the free capacity of each node)."""
        return self._items("/api/v1/pods?fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed")

    def dry_run_apply(self, path, body):
        """A server-side apply of ``body`` at ``path`` with ``dryRun=All``: (HTTP status, the API's response)."""
        from kubernetes.client.exceptions import ApiException

        query = [("dryRun", "All"), ("fieldManager", "carto-selfhosted-preflight"), ("force", "true")]
        try:
            response = self.client.call_api(path, "PATCH", query_params=query, body=body,
                                            header_params={"Accept": "application/json",
                                                           "Content-Type": "application/apply-patch+yaml"},
                                            auth_settings=["BearerToken"], _preload_content=False,
                                            _return_http_data_only=False, response_type=None, _request_timeout=30)
        except ApiException as exc:
            try:
                return exc.status, json.loads(exc.body or "null")
            except (TypeError, ValueError):
                return exc.status, {"message": str(exc.body or exc.reason)[:500]}
        # Read the body (the dry-run object, unused): an unread response keeps its connection out of the pool, and
        # every request then opened a new TLS connection to the API server.
        getattr(response[0], "data", None)  # reading it releases the connection
        return response[1], {}

    def pod_metrics(self):
        return self._items("/apis/metrics.k8s.io/v1beta1/pods")
