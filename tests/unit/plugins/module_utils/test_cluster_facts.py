# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Unit tests of plugins/module_utils/cluster_facts.py (fake cluster and CLIs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils import cluster_facts as cf


class ApiError(Exception):
    def __init__(self, status, reason, body=None):
        super(ApiError, self).__init__(reason)
        self.status = status
        self.reason = reason
        self.body = body


class Cluster(object):
    def __init__(self, **overrides):
        self.calls = []
        self.overrides = overrides

    def _answer(self, name, default):
        self.calls.append(name)
        value = self.overrides.get(name, default)
        if isinstance(value, Exception):
            raise value
        return value

    def version(self):
        return self._answer("version", {"gitVersion": "v1.36.3"})

    def namespace(self, name):
        return self._answer("namespace", {"metadata": {"name": name, "labels": {"team": "gis"}}})

    def nodes(self):
        return self._answer("nodes", [{"metadata": {"name": "n1"}}])

    def storage_classes(self):
        return self._answer("storage_classes", [{"metadata": {"name": "standard"}}])

    def crds(self):
        return self._answer("crds", [{"metadata": {"name": "gateways.gateway.networking.k8s.io"}}])

    def api_service(self, name):
        return self._answer("api_service", {"metadata": {"name": name}})

    def pod_metrics(self):
        return self._answer("pod_metrics", [])


class Cli(object):
    def __init__(self, helm=(0, "v3.18.0+g1\n", ""), kubectl=(0, '{"clientVersion": {}}', "")):
        self.helm, self.kubectl = helm, kubectl

    def helm_version(self):
        if isinstance(self.helm, Exception):
            raise self.helm
        return self.helm

    def kubectl_version(self):
        return self.kubectl


def test_everything_is_read_and_mapped_to_the_preflight_input():
    cluster = Cluster()
    facts = cf.gather(cluster, Cli(), want_gateway=True, want_metrics=True, namespace="carto",
                      render=lambda: (0, "kind: Deployment\n", ""))
    assert facts["helm"] == {"rc": 0, "stdout": "v3.18.0+g1", "stderr": ""}
    assert facts["namespace"] == {"name": "carto", "exists": True, "labels": {"team": "gis"}, "error": ""}
    assert facts["metrics"] == {"answered": True, "error": ""}
    data = cf.preflight_input(facts)
    assert data["kubernetes_version"] == "v1.36.3"
    assert data["nodes"] == [{"metadata": {"name": "n1"}}]
    assert data["crd_names"] == ["gateways.gateway.networking.k8s.io"]
    assert data["manifest"] == "kind: Deployment\n" and data["render_error"] == ""
    assert data["metrics_answered"] is True


def test_optional_reads_are_skipped():
    cluster = Cluster()
    facts = cf.gather(cluster, Cli())
    assert "crds" not in cluster.calls and "api_service" not in cluster.calls and "namespace" not in cluster.calls
    data = cf.preflight_input(facts)
    assert data["crd_names"] is None and data["manifest"] is None and data["metrics_apiservice"] is None


def test_an_unreachable_cluster_skips_the_cluster_reads_but_not_the_render():
    cluster = Cluster(version=ConnectionRefusedError("[Errno 111] Connection refused"))
    facts = cf.gather(cluster, Cli(), render=lambda: (0, "x: 1\n", ""))
    assert facts["cluster"] == {"version": None, "error": "[Errno 111] Connection refused"}
    assert cluster.calls == ["version"]
    assert cf.preflight_input(facts)["nodes"] is None
    assert facts["render"]["rc"] == 0


def test_errors_are_recorded_next_to_their_read():
    body = '{"kind": "Status", "message": "nodes is forbidden: User \\"x\\" cannot list"}'
    cluster = Cluster(nodes=ApiError(403, "Forbidden", body), namespace=ApiError(404, "Not Found"))
    facts = cf.gather(cluster, Cli(), namespace="carto")
    assert facts["nodes"]["api_found"] is False
    assert facts["nodes"]["error"] == '403 Forbidden: nodes is forbidden: User "x" cannot list'
    assert facts["namespace"]["exists"] is False and facts["namespace"]["error"] == ""
    assert facts["storage_classes"]["api_found"] is True  # the other reads still ran


def test_metrics_server_missing_or_not_serving():
    missing = cf.gather(Cluster(api_service=ApiError(404, "Not Found")), Cli(), want_metrics=True)
    assert missing["metrics_apiservice"] is None and missing["metrics"]["answered"] is False
    broken = cf.gather(Cluster(pod_metrics=ApiError(503, "Service Unavailable")), Cli(), want_metrics=True)
    assert broken["metrics"] == {"answered": False, "error": "503 Service Unavailable"}
    unserved = cf.gather(Cluster(pod_metrics=ApiError(404, "Not Found")), Cli(), want_metrics=True)
    assert unserved["metrics"]["error"] == "the metrics.k8s.io API is not served"


def test_a_render_error_and_a_missing_helm():
    facts = cf.gather(Cluster(), Cli(), render=lambda: (1, "", "Error: execution error: domain is required\n"))
    assert cf.preflight_input(facts)["render_error"] == "Error: execution error: domain is required"
    calls = []
    facts = cf.gather(Cluster(), Cli(helm=OSError("[Errno 2] No such file or directory: 'helm'")),
                      render=lambda: calls.append("render"))
    assert facts["helm"]["rc"] == 127 and "No such file" in facts["helm"]["stderr"]
    assert calls == [] and facts["render"]["rc"] == 127
    assert "helm is not runnable" in cf.preflight_input(facts)["render_error"]


class _Body(object):
    """An unread urllib3 response body: reading ``data`` gives its connection back to the pool."""

    def __init__(self):
        self.read = False

    @property
    def data(self):
        self.read = True
        return b"{}"


class _ApplyClient(object):
    def __init__(self):
        self.bodies = []

    def call_api(self, path, method, **kwargs):
        assert method == "PATCH" and ("dryRun", "All") in kwargs["query_params"]
        body = _Body()
        self.bodies.append(body)
        return body, 200, {}


def test_dry_run_apply_reads_each_answer_so_its_connection_is_reused():
    pytest.importorskip("kubernetes")
    client = _ApplyClient()
    reader = cf.KubernetesReader(client)
    assert reader.dry_run_apply("/api/v1/namespaces/x/configmaps/y", "{}") == (200, {})
    assert reader.dry_run_apply("/api/v1/namespaces/x/configmaps/z", "{}") == (200, {})
    assert [b.read for b in client.bodies] == [True, True]
