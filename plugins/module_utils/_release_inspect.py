# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Everything the verification reads from the cluster, in one module run (carto.selfhosted.carto_release_inspect).

The reads and bounded waits the verify role used to make with one module run each (kubernetes.core
helm_info and k8s_info with ``until``/``retries``), in the same order and with the same stop
conditions:

1. wait until every Deployment of the release is Available (``wait_rollout``);
2. wait until every pod is Running and Ready, except after a Deployment wait that timed out with
   Deployments not Available (one look then: the report names what is not ready);
3. ``helm status``: release status, revision and the workloads of its manifest (``release_summary``);
4. read the StatefulSets;
5. wait (bounded) for the router Service LoadBalancer address (``load_balancer_done``);
6. read the router Ingress when it is enabled.

The pure functions (manifest filter, release summary, stop conditions, ``poll`` with an injected
clock and sleep, ``inspect_release`` over a reader object) have no I/O and are unit tested;
``ReleaseReader`` reads with the kubernetes client and ``helm_status`` runs the helm CLI through
kubernetes.core's ``AnsibleHelmModule`` (kubeconfig/context handling).

Sources (CARTO's public docs): https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes "Install CARTO" (``kubectl get pods``, every
pod Running, it can take up to 5 minutes), "Configure an HTTPS endpoint" (the router LoadBalancer
EXTERNAL-IP, ``kubectl get svc -w carto-router``);
https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster (the load balancer
is created asynchronously and published in the Service's ``.status.loadBalancer``; LoadBalancer vs
Ingress); https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md "Troubleshooting" > "Ingress" (the Ingress address).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible_collections.carto.selfhosted.plugins.module_utils._yaml import LOADER as _YAML_LOADER, yaml

from ansible_collections.carto.selfhosted.plugins.module_utils import k8s_status

#: Kinds of the release manifest the verification checks (carto_verify.verify_checks).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "HorizontalPodAutoscaler")
#: States in which ``helm list`` (and so kubernetes.core.helm_info) shows a release by default.
LISTED_STATES = ("deployed", "failed")
NOT_FOUND = "not found"


# --------------------------------------------------------------------------- release


def manifest_workloads(manifest):
    """The Deployments, StatefulSets and HorizontalPodAutoscalers of a release manifest, nothing else.

    ``manifest`` is the YAML text of ``helm get manifest`` (or the list of its documents). The rest of the
    manifest, Secrets included, is dropped here and never returned.
    """
    if manifest is None:
        return []
    if isinstance(manifest, (bytes, str)):
        docs = yaml.load_all(manifest, Loader=_YAML_LOADER)
    else:
        docs = manifest
    return [doc for doc in docs if isinstance(doc, dict) and doc.get("kind") in WORKLOAD_KINDS]


def release_summary(status, name, namespace):
    """(release, workloads) from ``helm status -o json`` (a dict, or None when the release does not exist).

    Like kubernetes.core.helm_info, which lists the release with ``helm list``: the release is found only
    when its last revision is ``deployed`` or ``failed`` (the states ``helm list`` shows by default);
    otherwise (absent, ``pending-*``, ``uninstalled``...) its status is ``not found``, its revision
    empty and its workloads ``[]``. ``last_status`` keeps the status of the last revision in every case.
    The revision is a string, as ``helm list`` prints it.
    """
    release = {"found": False, "name": name, "namespace": namespace, "status": NOT_FOUND, "revision": "",
               "updated": None, "description": None, "last_status": None}
    if not status:
        return release, []
    info = status.get("info") or {}
    release["last_status"] = info.get("status")
    if info.get("status") not in LISTED_STATES:
        return release, []
    release.update(found=True, status=info["status"], revision=str(status.get("version", "")),
                   updated=info.get("last_deployed"), description=info.get("description"))
    return release, manifest_workloads(status.get("manifest") or "")


class HelmError(Exception):
    pass


def helm_status(run, helm_binary, name, namespace):
    """``helm status <name> -n <namespace> -o json`` as a dict; None when the release does not exist.

    ``run(argv)`` returns (rc, stdout, stderr). Raises HelmError on any other failure.
    """
    argv = [helm_binary, "status", name, "--namespace", namespace, "--output", "json"]
    rc, out, err = run(argv)
    if rc != 0:
        if "not found" in (err or "").lower():
            return None
        raise HelmError("helm status %s -n %s failed with exit code %s: %s"
                        % (name, namespace, rc, (err or out or "").strip()))
    try:
        return json.loads(out or "null")
    except ValueError as exc:
        raise HelmError("helm status %s -n %s: output is not JSON: %s" % (name, namespace, exc))


# --------------------------------------------------------------------------- stop conditions


def deployments_done(deployments, error=None):
    """At least one Deployment, and every one rolled out and Available (k8s_status.deployment_problem)."""
    return error is None and bool(deployments) and not k8s_status.deployments_not_available(deployments)


def pods_done(pods, error=None):
    """At least one pod, and every one Running and Ready (Succeeded pods ignored; k8s_status.pod_problem)."""
    return error is None and bool(pods) and not k8s_status.pods_not_ready(pods)


def load_balancer_address_count(service):
    return len((((service or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress") or [])


def load_balancer_done(service, error=None):
    """Stop waiting for the router Service when it could not be read, does not exist, is not a
    LoadBalancer, or its ``status.loadBalancer.ingress`` has an entry."""
    if error is not None or service is None:
        return True
    if (service.get("spec") or {}).get("type") != "LoadBalancer":
        return True
    return load_balancer_address_count(service) > 0


def pods_wait_skipped(deployments_poll):
    """Whether the pods get one look only: the Deployment wait took more than one attempt and ended with
    Deployments still not Available (it timed out; waiting again would only double the time to fail)."""
    return deployments_poll["attempts"] > 1 and bool(
        k8s_status.deployments_not_available(deployments_poll["value"] or []))


# --------------------------------------------------------------------------- polling


def api_reason(exc):
    """A short reason for a failed API call: ``<status> <reason>: <message>`` or the exception text."""
    status = getattr(exc, "status", None)
    if status is None:
        return str(exc) or exc.__class__.__name__
    message = ""
    body = getattr(exc, "body", None)
    if body:
        try:
            message = (json.loads(body) or {}).get("message") or ""
        except (TypeError, ValueError, AttributeError):
            message = str(body)[:300]
    return ("%s %s: %s" % (status, getattr(exc, "reason", "") or "", message)).strip().rstrip(":")


def poll(read, done, timeout, interval, clock=time.monotonic, sleep=time.sleep):
    """Call ``read()`` until ``done(value, error)`` or ``timeout`` seconds passed.

    Looks at 0, ``interval``, 2 x ``interval``... seconds, the last one at ``timeout`` at the latest: with
    instant reads, ``ceil(timeout / interval) + 1`` attempts, as many as an Ansible ``until`` loop with
    ``retries: ceil(timeout / interval)`` and ``delay: interval``. A ``timeout`` <= 0 means one look.
    An exception of ``read`` is an ``error`` (its reason) with value None, passed to ``done``.

    Returns ``{'value', 'error', 'done', 'attempts', 'seconds'}`` (of the last attempt; seconds waited).
    """
    start = clock()
    attempts = 0
    while True:
        attempts += 1
        try:
            value, error = read(), None
        except Exception as exc:  # pylint: disable=broad-except  # any API or connection error: look again
            value, error = None, api_reason(exc)
        finished = bool(done(value, error))
        elapsed = clock() - start
        if finished or elapsed >= timeout:
            return {"value": value, "error": error, "done": finished, "attempts": attempts,
                    "seconds": round(max(elapsed, 0.0), 1)}
        sleep(min(interval, timeout - elapsed))


def _once(read):
    """(value, error) of one read."""
    result = poll(read, lambda value, error: True, 0, 1)
    return result["value"], result["error"]


# --------------------------------------------------------------------------- all reads


def inspect_release(reader, read_status, release_name, namespace, wait_timeout=300, poll_interval=5,
                    router_service=None, load_balancer_timeout=120, ingress=False,
                    clock=time.monotonic, sleep=time.sleep):
    """Every read of the verification (see the module docstring for the order). Returns the module result.

    ``reader`` has ``deployments()``, ``pods()``, ``statefulsets()`` (lists), ``service(name)`` and
    ``ingress(name)`` (an object, or None when it does not exist); its methods raise on API errors.
    ``read_status()`` returns ``helm status -o json`` as a dict (None: no release) or raises.
    A list or object that could not be read is None and its reason is in ``errors``; nothing raises.
    """
    errors = []
    router = router_service or "%s-router" % release_name

    deployments = poll(reader.deployments, deployments_done, wait_timeout, poll_interval, clock, sleep)
    skipped = pods_wait_skipped(deployments)
    pods = poll(reader.pods, pods_done, 0 if skipped else wait_timeout, poll_interval, clock, sleep)
    for what, result in (("Deployments", deployments), ("pods", pods)):
        if result["error"]:
            errors.append("%s: %s" % (what, result["error"]))

    try:
        status = read_status()
    except Exception as exc:  # pylint: disable=broad-except  # kubernetes.core.helm_info failing = no release
        status = None
        errors.append("release: %s" % (exc,))
    release, manifest = release_summary(status, release_name, namespace)

    statefulsets, error = _once(reader.statefulsets)
    if error:
        errors.append("StatefulSets: %s" % error)

    balancer = poll(lambda: reader.service(router), load_balancer_done, load_balancer_timeout, poll_interval,
                    clock, sleep)
    service = balancer["value"]
    if balancer["error"]:
        errors.append("Service %s: %s" % (router, balancer["error"]))
    lb_type = ((service or {}).get("spec") or {}).get("type") == "LoadBalancer"

    found_ingress = None
    if ingress:
        found_ingress, error = _once(lambda: reader.ingress(router))
        if error:
            errors.append("Ingress %s: %s" % (router, error))

    return {
        "changed": False,
        "release": release,
        "manifest": manifest,
        "deployments": deployments["value"] if not deployments["error"] else None,
        "pods": pods["value"] if not pods["error"] else None,
        "statefulsets": statefulsets,
        "router_service": service,
        "ingress": found_ingress,
        "waits": {
            "deployments": {"ready": deployments["done"], "attempts": deployments["attempts"],
                            "seconds": deployments["seconds"],
                            "not_available": k8s_status.deployments_not_available(deployments["value"] or [])},
            "pods": {"ready": pods["done"], "attempts": pods["attempts"], "seconds": pods["seconds"],
                     "waited": not skipped, "not_ready": k8s_status.pods_not_ready(pods["value"] or [])},
            "load_balancer": {"ready": bool(lb_type and load_balancer_address_count(service)),
                              "waited": lb_type, "attempts": balancer["attempts"], "seconds": balancer["seconds"]},
        },
        "errors": errors,
    }


# --------------------------------------------------------------------------- kubernetes client


def without_managed_fields(obj):
    """The object without ``metadata.managedFields`` (server-side apply bookkeeping, hidden by ``kubectl get``
    too): about a third of a Deployment or pod, and nothing the verification looks at."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    out = dict(obj)
    out["metadata"] = dict((key, value) for key, value in meta.items() if key != "managedFields")
    return out


class ReleaseReader(object):
    """The release's objects through the kubernetes client, as the API serves them but without
    ``metadata.managedFields`` (``without_managed_fields``).

    List items get ``apiVersion`` and ``kind`` like kubernetes.core.k8s_info returns them. The client is
    built on first use, and again on the next read when building it failed (a kubeconfig that cannot be
    loaded is an error of that read, retried like any other, as each k8s_info attempt loaded it again).
    ``make_client()`` returns a kubernetes ``ApiClient``.
    """

    def __init__(self, make_client, namespace, selector):
        self._make_client = make_client
        self._client = None
        self.namespace = namespace
        self.selector = selector

    def _apis(self):
        from kubernetes import client as k8s_client

        if self._client is None:
            self._client = self._make_client()
        return k8s_client, self._client

    @staticmethod
    def _json(response):
        return json.loads(response.data) if response.data else None

    def _list(self, api_name, method, api_version, kind):
        k8s_client, api_client = self._apis()
        api = getattr(k8s_client, api_name)(api_client)
        response = getattr(api, method)(self.namespace, label_selector=self.selector, _preload_content=False)
        items = (self._json(response) or {}).get("items") or []
        return [without_managed_fields(dict([("apiVersion", api_version), ("kind", kind)] + list(item.items())))
                for item in items]

    def _read(self, api_name, method, name):
        from kubernetes.client.rest import ApiException

        k8s_client, api_client = self._apis()
        api = getattr(k8s_client, api_name)(api_client)
        try:
            found = self._json(getattr(api, method)(name, self.namespace, _preload_content=False))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return without_managed_fields(found) if found else found

    def deployments(self):
        return self._list("AppsV1Api", "list_namespaced_deployment", "apps/v1", "Deployment")

    def pods(self):
        return self._list("CoreV1Api", "list_namespaced_pod", "v1", "Pod")

    def statefulsets(self):
        return self._list("AppsV1Api", "list_namespaced_stateful_set", "apps/v1", "StatefulSet")

    def service(self, name):
        return self._read("CoreV1Api", "read_namespaced_service", name)

    def ingress(self, name):
        return self._read("NetworkingV1Api", "read_namespaced_ingress", name)
