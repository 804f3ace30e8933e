# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of plugins/module_utils/_release_inspect.py: readiness, the poll loop and the whole inspection
with a fake clock and a fake reader (no cluster, no helm)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils import _release_inspect as ci


# --------------------------------------------------------------------------- fixtures


class FakeClock(object):
    """monotonic() and sleep() of a clock that only moves when slept on (or when a read takes time)."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def deployment(name, wanted=1, available=None, generation=1, observed=1, condition="True"):
    available = wanted if available is None else available
    return {"metadata": {"name": name, "generation": generation},
            "spec": {"replicas": wanted},
            "status": {"observedGeneration": observed, "replicas": wanted, "updatedReplicas": wanted,
                       "availableReplicas": available,
                       "conditions": [{"type": "Available", "status": condition}]}}


def pod(name, phase="Running", ready="True", deleting=False):
    meta = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}}


def service(kind="ClusterIP", addresses=None):
    svc = {"metadata": {"name": "carto-router"}, "spec": {"type": kind}, "status": {}}
    if addresses is not None:
        svc["status"] = {"loadBalancer": {"ingress": addresses}}
    return svc


class Sequence(object):
    """A read returning the given values in turn (the last one forever); an Exception instance is raised."""

    def __init__(self, *values):
        self.values = list(values)
        self.calls = 0

    def __call__(self, *args):
        value = self.values[min(self.calls, len(self.values) - 1)]
        self.calls += 1
        if isinstance(value, Exception):
            raise value
        return value


class FakeReader(object):
    def __init__(self, deployments=None, pods=None, statefulsets=None, service=None, ingress=None):
        self.deployments = deployments or Sequence([deployment("carto-router")])
        self.pods = pods or Sequence([pod("carto-router-1")])
        self.statefulsets = statefulsets or Sequence([{"metadata": {"name": "carto-postgresql"}}])
        self._service = service or Sequence(service_default())
        self._ingress = ingress or Sequence(None)
        self.names = []

    def service(self, name):
        self.names.append(("service", name))
        return self._service()

    def ingress(self, name):
        self.names.append(("ingress", name))
        return self._ingress()


def service_default():
    return service()


MANIFEST = """---
# Source: carto/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: carto-secrets
stringData:
  password: s3cr3t-value
---
# Source: carto/templates/router/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: carto-router
spec:
  replicas: 1
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: carto-postgresql
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: carto-maps-api
---
apiVersion: v1
kind: Service
metadata:
  name: carto-router
---
"""


def status_json(state="deployed", version=3, manifest=MANIFEST):
    return {"name": "carto", "namespace": "carto", "version": version, "manifest": manifest,
            "config": {"secret": "values-secret"},
            "info": {"status": state, "last_deployed": "2026-01-02T03:04:05Z", "description": "Upgrade complete"}}


def run(reader=None, status=None, clock=None, **options):
    clock = clock or FakeClock()
    read_status = status if callable(status) else (lambda: status_json() if status is None else status)
    options.setdefault("wait_timeout", 300)
    options.setdefault("poll_interval", 5)
    result = ci.inspect_release(reader or FakeReader(), read_status, "carto", "carto", clock=clock,
                                sleep=clock.sleep, **options)
    return result, clock


# --------------------------------------------------------------------------- release


def test_manifest_workloads_keeps_only_workloads():
    loads = ci.manifest_workloads(MANIFEST)
    assert [(d["kind"], d["metadata"]["name"]) for d in loads] == [
        ("Deployment", "carto-router"), ("StatefulSet", "carto-postgresql"), ("HorizontalPodAutoscaler", "carto-maps-api")]
    assert "s3cr3t-value" not in json.dumps(loads)


def test_manifest_workloads_accepts_documents_and_nothing():
    docs = [None, "text", {"kind": "Deployment", "metadata": {"name": "a"}}, {"kind": "ConfigMap"}, {"no": "kind"}]
    assert ci.manifest_workloads(docs) == [docs[2]]
    assert ci.manifest_workloads(None) == []
    assert ci.manifest_workloads("") == []


@pytest.mark.parametrize("state", ["deployed", "failed"])
def test_release_summary_found(state):
    release, manifest = ci.release_summary(status_json(state), "carto", "carto")
    assert release == {"found": True, "name": "carto", "namespace": "carto", "status": state, "revision": "3",
                       "updated": "2026-01-02T03:04:05Z", "description": "Upgrade complete", "last_status": state}
    assert len(manifest) == 3
    assert "values-secret" not in json.dumps([release, manifest])


@pytest.mark.parametrize("state", ["pending-upgrade", "pending-install", "pending-rollback", "uninstalled",
                                   "uninstalling", "superseded"])
def test_release_summary_not_listed_is_not_found(state):
    """helm_info finds the release with helm list, which shows only deployed or failed releases."""
    release, manifest = ci.release_summary(status_json(state), "carto", "carto")
    assert (release["found"], release["status"], release["revision"], release["last_status"]) == (
        False, "not found", "", state)
    assert manifest == []


def test_release_summary_absent():
    release, manifest = ci.release_summary(None, "carto", "ns")
    assert release["status"] == "not found" and release["last_status"] is None and release["namespace"] == "ns"
    assert manifest == []


def test_helm_status_runs_helm_and_parses_json():
    calls = []

    def runner(argv):
        calls.append(argv)
        return 0, json.dumps(status_json()), ""

    assert ci.helm_status(runner, "/usr/bin/helm", "carto", "ns")["version"] == 3
    assert calls == [["/usr/bin/helm", "status", "carto", "--namespace", "ns", "--output", "json"]]


def test_helm_status_missing_release_is_none():
    assert ci.helm_status(lambda argv: (1, "", "Error: release: not found\n"), "helm", "carto", "ns") is None


def test_helm_status_errors():
    with pytest.raises(ci.HelmError, match=r"helm status carto -n ns failed with exit code 1: Error: Kubernetes cluster "
                                           r"unreachable"):
        ci.helm_status(lambda argv: (1, "", "Error: Kubernetes cluster unreachable\n"), "helm", "carto", "ns")
    with pytest.raises(ci.HelmError, match="output is not JSON"):
        ci.helm_status(lambda argv: (0, "{oops", ""), "helm", "carto", "ns")


# --------------------------------------------------------------------------- stop conditions


def test_deployments_done():
    assert ci.deployments_done([deployment("a"), deployment("b", wanted=2)])
    assert not ci.deployments_done([])
    assert not ci.deployments_done(None)
    assert not ci.deployments_done([deployment("a")], error="500 boom")
    assert not ci.deployments_done([deployment("a"), deployment("b", wanted=2, available=1)])
    assert not ci.deployments_done([deployment("a", generation=2, observed=1)])
    assert not ci.deployments_done([deployment("a", condition="False")])


def test_pods_done():
    assert ci.pods_done([pod("a"), pod("job", phase="Succeeded", ready="False")])
    assert not ci.pods_done([])
    assert not ci.pods_done([pod("a")], error="timeout")
    assert not ci.pods_done([pod("a"), pod("b", ready="False")])
    assert not ci.pods_done([pod("a", phase="Pending")])
    assert not ci.pods_done([pod("a", deleting=True)])


@pytest.mark.parametrize("svc,error,expected", [
    (None, None, True),                                     # no Service: nothing to wait for
    (service("ClusterIP"), None, True),
    (service("NodePort"), None, True),
    (service("LoadBalancer"), None, False),                 # no status.loadBalancer yet
    (service("LoadBalancer", []), None, False),
    (service("LoadBalancer", [{"ip": "203.0.113.10"}]), None, True),
    (service("LoadBalancer", [{"hostname": "lb.example.com"}]), None, True),
    (service("LoadBalancer", [{}]), None, True),            # like the former until: an entry is enough
    (None, "403 Forbidden", True),                          # unreadable: stop (the report says why)
])
def test_load_balancer_done(svc, error, expected):
    assert ci.load_balancer_done(svc, error) is expected


def test_pods_wait_skipped_only_after_a_timed_out_deployment_wait():
    bad = [deployment("a", available=0)]
    assert ci.pods_wait_skipped({"attempts": 61, "value": bad})
    assert not ci.pods_wait_skipped({"attempts": 1, "value": bad})  # one look only (timeout 0): no shortcut
    assert not ci.pods_wait_skipped({"attempts": 3, "value": [deployment("a")]})
    assert not ci.pods_wait_skipped({"attempts": 61, "value": []})   # no Deployment at all: pods get their wait
    assert not ci.pods_wait_skipped({"attempts": 61, "value": None})  # last read failed


# --------------------------------------------------------------------------- poll


@pytest.mark.parametrize("timeout,interval,attempts,sleeps", [
    (15, 5, 4, [5, 5, 5]),          # until: retries 3, delay 5 -> 4 looks
    (300, 5, 61, [5] * 60),         # the verify defaults: retries 60
    (12, 5, 4, [5, 5, 2]),          # the last look at the timeout, not after it
    (0, 5, 1, []),
    (-3, 5, 1, []),
    (4, 5, 2, [4]),
])
def test_poll_gives_up_at_the_timeout(timeout, interval, attempts, sleeps):
    clock = FakeClock()
    result = ci.poll(lambda: "x", lambda value, error: False, timeout, interval, clock, clock.sleep)
    assert result == {"value": "x", "error": None, "done": False, "attempts": attempts,
                      "seconds": float(max(timeout, 0))}
    assert clock.sleeps == sleeps


def test_poll_stops_when_done():
    clock = FakeClock()
    read = Sequence(1, 2, 3, 4)
    result = ci.poll(read, lambda value, error: value == 3, 300, 5, clock, clock.sleep)
    assert (result["value"], result["done"], result["attempts"], result["seconds"]) == (3, True, 3, 10.0)
    assert clock.sleeps == [5, 5]


def test_poll_counts_the_time_reads_take():
    clock = FakeClock()

    def slow_read():
        clock.now += 2
        return None

    result = ci.poll(slow_read, lambda value, error: False, 10, 5, clock, clock.sleep)
    # looks end at 2, 9, then 12 >= 10: the sleeps shrink to what is left of the timeout
    assert result["attempts"] == 3 and clock.sleeps == [5, 1]


class ApiError(Exception):
    def __init__(self, status, reason, body):
        super(ApiError, self).__init__("(%s)" % status)
        self.status, self.reason, self.body = status, reason, body


def test_poll_retries_errors_and_keeps_the_last_one():
    clock = FakeClock()
    read = Sequence(ApiError(500, "Internal Server Error", '{"message": "etcd timeout"}'), [deployment("a")])
    result = ci.poll(read, ci.deployments_done, 300, 5, clock, clock.sleep)
    assert result["done"] and result["attempts"] == 2 and result["error"] is None
    result = ci.poll(Sequence(ApiError(403, "Forbidden", '{"message": "no"}')), ci.deployments_done, 10, 5,
                     clock, clock.sleep)
    assert (result["value"], result["error"], result["attempts"]) == (None, "403 Forbidden: no", 3)


@pytest.mark.parametrize("exc,expected", [
    (ApiError(404, "Not Found", '{"kind": "Status", "message": "services \\"x\\" not found"}'),
     '404 Not Found: services "x" not found'),
    (ApiError(500, "Internal Server Error", "<html>"), "500 Internal Server Error: <html>"),
    (ApiError(401, "Unauthorized", None), "401 Unauthorized"),
    (ValueError("Invalid kube-config file"), "Invalid kube-config file"),
    (OSError(), "OSError"),
])
def test_api_reason(exc, expected):
    assert ci.api_reason(exc) == expected


# --------------------------------------------------------------------------- inspect_release


def test_everything_ready_is_one_look_each():
    reader = FakeReader()
    result, clock = run(reader)
    assert clock.sleeps == []
    assert result["changed"] is False and result["errors"] == []
    assert result["release"]["status"] == "deployed" and result["release"]["revision"] == "3"
    assert [d["kind"] for d in result["manifest"]] == ["Deployment", "StatefulSet", "HorizontalPodAutoscaler"]
    assert [d["metadata"]["name"] for d in result["deployments"]] == ["carto-router"]
    assert [p["metadata"]["name"] for p in result["pods"]] == ["carto-router-1"]
    assert result["statefulsets"] == [{"metadata": {"name": "carto-postgresql"}}]
    assert result["router_service"]["spec"]["type"] == "ClusterIP"
    assert result["ingress"] is None and reader.names == [("service", "carto-router")]
    assert result["waits"] == {
        "deployments": {"ready": True, "attempts": 1, "seconds": 0.0, "not_available": []},
        "pods": {"ready": True, "attempts": 1, "seconds": 0.0, "waited": True, "not_ready": []},
        "load_balancer": {"ready": False, "waited": False, "attempts": 1, "seconds": 0.0}}
    json.dumps(result)  # a module result


def test_rollout_in_progress_is_waited_for():
    deployments = Sequence([deployment("a", available=0)], [deployment("a", available=0)], [deployment("a")])
    pods = Sequence([pod("a-1", phase="Pending")], [pod("a-1", ready="False")], [pod("a-1")])
    result, clock = run(FakeReader(deployments=deployments, pods=pods))
    assert result["waits"]["deployments"]["attempts"] == 3 and result["waits"]["deployments"]["ready"]
    assert result["waits"]["pods"]["attempts"] == 3 and result["waits"]["pods"]["ready"]
    assert clock.sleeps == [5, 5, 5, 5]


def test_deployment_wait_timed_out_gives_the_pods_one_look():
    deployments = Sequence([deployment("a"), deployment("b", available=0)])
    pods = Sequence([pod("a-1"), pod("b-1", ready="False")])
    result, clock = run(FakeReader(deployments=deployments, pods=pods), wait_timeout=15)
    assert deployments.calls == 4 and pods.calls == 1
    assert clock.sleeps == [5, 5, 5]
    waits = result["waits"]
    assert waits["deployments"] == {"ready": False, "attempts": 4, "seconds": 15.0,
                                    "not_available": ["b (0/1 replicas available)"]}
    assert waits["pods"] == {"ready": False, "attempts": 1, "seconds": 0.0, "waited": False,
                             "not_ready": ["b-1 (Running, not Ready)"]}
    # what is not ready is returned for the report, nothing fails here
    assert [d["metadata"]["name"] for d in result["deployments"]] == ["a", "b"] and result["errors"] == []


def test_pods_wait_on_their_own_after_deployments_are_available():
    pods = Sequence([pod("a-1", ready="False")])
    result, clock = run(FakeReader(pods=pods), wait_timeout=10)
    assert pods.calls == 3 and result["waits"]["pods"]["waited"] and not result["waits"]["pods"]["ready"]
    assert clock.sleeps == [5, 5]


def test_no_deployment_at_all_waits_for_both():
    """Like the former until conditions: no Deployment is not ready; the pods still get their own wait."""
    deployments, pods = Sequence([]), Sequence([])
    result, clock = run(FakeReader(deployments=deployments, pods=pods), wait_timeout=10)
    assert deployments.calls == 3 and pods.calls == 3 and clock.sleeps == [5, 5, 5, 5]
    assert result["deployments"] == [] and result["pods"] == []


def test_one_look_with_timeout_zero():
    deployments = Sequence([deployment("a", available=0)])
    result, clock = run(FakeReader(deployments=deployments), wait_timeout=0, load_balancer_timeout=0)
    assert deployments.calls == 1 and clock.sleeps == [] and result["waits"]["pods"]["waited"]


def test_load_balancer_address_is_waited_for():
    svc = Sequence(service("LoadBalancer"), service("LoadBalancer", []), service("LoadBalancer", [{"ip": "1.2.3.4"}]))
    result, clock = run(FakeReader(service=svc), poll_interval=2)
    assert svc.calls == 3 and clock.sleeps == [2, 2]
    assert result["router_service"]["status"]["loadBalancer"]["ingress"] == [{"ip": "1.2.3.4"}]
    assert result["waits"]["load_balancer"] == {"ready": True, "waited": True, "attempts": 3, "seconds": 4.0}


def test_load_balancer_wait_is_bounded():
    svc = Sequence(service("LoadBalancer"))
    result, clock = run(FakeReader(service=svc), load_balancer_timeout=120)
    assert svc.calls == 25 and sum(clock.sleeps) == 120
    assert result["waits"]["load_balancer"] == {"ready": False, "waited": True, "attempts": 25, "seconds": 120.0}
    assert result["router_service"]["spec"]["type"] == "LoadBalancer"


def test_missing_or_unreadable_router_service_is_not_waited_for():
    result, clock = run(FakeReader(service=Sequence(None)))
    assert result["router_service"] is None and clock.sleeps == [] and result["errors"] == []
    svc = Sequence(ApiError(403, "Forbidden", '{"message": "services is forbidden"}'))
    result, clock = run(FakeReader(service=svc), router_service="my-router")
    assert svc.calls == 1 and clock.sleeps == []
    assert result["router_service"] is None
    assert result["errors"] == ["Service my-router: 403 Forbidden: services is forbidden"]


def test_ingress_is_read_when_asked():
    ingress = {"metadata": {"name": "carto-router"}, "status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}]}}}
    reader = FakeReader(ingress=Sequence(ingress))
    result, _clock = run(reader, ingress=True)
    assert result["ingress"] == ingress
    assert reader.names == [("service", "carto-router"), ("ingress", "carto-router")]
    reader = FakeReader(ingress=Sequence(ApiError(500, "Internal Server Error", "")))
    result, _clock = run(reader, ingress=True)
    assert result["ingress"] is None and result["errors"] == ["Ingress carto-router: 500 Internal Server Error"]


def test_read_errors_are_reported_not_raised():
    down = ApiError(503, "Service Unavailable", '{"message": "apiserver down"}')
    reader = FakeReader(deployments=Sequence(down), pods=Sequence(down), statefulsets=Sequence(down))

    def broken_helm():
        raise ci.HelmError("helm status carto -n carto failed with exit code 1: Error: Kubernetes cluster unreachable")

    result, clock = run(reader, status=broken_helm, wait_timeout=10)
    assert reader.deployments.calls == 3 and reader.pods.calls == 3  # retried while the waits last
    assert result["deployments"] is None and result["pods"] is None and result["statefulsets"] is None
    assert result["release"]["status"] == "not found" and result["manifest"] == []
    assert result["errors"] == [
        "Deployments: 503 Service Unavailable: apiserver down",
        "pods: 503 Service Unavailable: apiserver down",
        "release: helm status carto -n carto failed with exit code 1: Error: Kubernetes cluster unreachable",
        "StatefulSets: 503 Service Unavailable: apiserver down",
    ]


def test_pending_release_reads_like_helm_info():
    result, _clock = run(status=status_json("pending-upgrade"))
    assert result["release"]["status"] == "not found" and result["release"]["last_status"] == "pending-upgrade"
    assert result["manifest"] == []


def test_absent_release():
    result, _clock = run(status=lambda: None)
    assert result["release"]["found"] is False and result["errors"] == []


# --------------------------------------------------------------------------- kubernetes client


class FakeResponse(object):
    def __init__(self, data):
        self.data = json.dumps(data).encode()


def test_release_reader_lists_like_k8s_info(monkeypatch):
    from kubernetes import client as k8s_client
    from kubernetes.client.rest import ApiException

    calls = []

    class FakeApps(object):
        def __init__(self, api_client):
            assert api_client == "api-client"

        def list_namespaced_deployment(self, namespace, label_selector=None, _preload_content=True):
            calls.append(("deployments", namespace, label_selector, _preload_content))
            return FakeResponse({"kind": "DeploymentList", "items": [{"metadata": {
                "name": "carto-router", "managedFields": [{"manager": "helm", "fieldsV1": {"f:spec": {}}}]}}]})

        def list_namespaced_stateful_set(self, namespace, label_selector=None, _preload_content=True):
            return FakeResponse({"kind": "StatefulSetList", "items": None})

    class FakeCore(object):
        def __init__(self, api_client):
            pass

        def list_namespaced_pod(self, namespace, label_selector=None, _preload_content=True):
            return FakeResponse({"items": [{"metadata": {"name": "p"}}]})

        def read_namespaced_service(self, name, namespace, _preload_content=True):
            calls.append(("service", name, namespace, _preload_content))
            if name == "missing":
                raise ApiException(status=404, reason="Not Found")
            if name == "forbidden":
                raise ApiException(status=403, reason="Forbidden")
            return FakeResponse({"kind": "Service", "apiVersion": "v1",
                                 "metadata": {"name": name, "managedFields": [{"manager": "helm"}]}})

    monkeypatch.setattr(k8s_client, "AppsV1Api", FakeApps)
    monkeypatch.setattr(k8s_client, "CoreV1Api", FakeCore)
    built = []

    def make_client():
        built.append(1)
        if len(built) == 1:
            raise ValueError("Invalid kube-config file. No configuration found.")
        return "api-client"

    reader = ci.ReleaseReader(make_client, "carto", "app.kubernetes.io/instance=carto")
    with pytest.raises(ValueError):
        reader.deployments()
    assert reader.deployments() == [{"apiVersion": "apps/v1", "kind": "Deployment",
                                     "metadata": {"name": "carto-router"}}]
    assert reader.pods() == [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}]
    assert reader.statefulsets() == []
    assert reader.service("carto-router") == {"kind": "Service", "apiVersion": "v1",
                                              "metadata": {"name": "carto-router"}}
    assert reader.service("missing") is None
    with pytest.raises(ApiException):
        reader.service("forbidden")
    assert len(built) == 2  # built again after the failure, then kept
    assert calls[0] == ("deployments", "carto", "app.kubernetes.io/instance=carto", False)
    assert calls[1] == ("service", "carto-router", "carto", False)


def test_without_managed_fields():
    obj = {"kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}, "managedFields": [{"manager": "x"}]},
           "spec": {}}
    assert ci.without_managed_fields(obj) == {"kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
                                              "spec": {}}
    assert "managedFields" in obj["metadata"]  # the input is left alone
    plain = {"metadata": {"name": "p"}}
    assert ci.without_managed_fields(plain) is plain
    assert ci.without_managed_fields({"kind": "x"}) == {"kind": "x"}
