# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
# SPDX-License-Identifier: Apache-2.0
"""Tests of the carto_release_inspect module through main() (fake reader and helm, no cluster)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.carto.selfhosted.plugins.module_utils import _release_inspect as release_inspect
from ansible_collections.carto.selfhosted.plugins.modules import carto_release_inspect

READY_DEPLOYMENT = {"metadata": {"name": "carto-router", "generation": 1}, "spec": {"replicas": 1},
                    "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1,
                               "conditions": [{"type": "Available", "status": "True"}]}}
READY_POD = {"metadata": {"name": "carto-router-1"},
             "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
MANIFEST = "kind: Secret\nmetadata: {name: s}\nstringData: {password: hunter22}\n---\nkind: Deployment\nmetadata: {name: carto-router}\n"


class FakeReader(object):
    made = []

    def __init__(self, make_client, namespace, selector):
        FakeReader.made.append((namespace, selector))

    def deployments(self):
        return [READY_DEPLOYMENT]

    def pods(self):
        return [READY_POD]

    def statefulsets(self):
        raise release_inspect.HelmError("statefulsets unavailable")

    def service(self, name):
        return {"metadata": {"name": name}, "spec": {"type": "ClusterIP"}}

    def ingress(self, name):
        return None


@pytest.fixture
def fakes(monkeypatch):
    helm_calls = []

    def fake_run_helm_command(self, command, fails_on_error=True, data=None):
        helm_calls.append((command, fails_on_error))
        return 0, json.dumps({"version": 2, "manifest": MANIFEST, "info": {"status": "deployed"}}), ""

    FakeReader.made = []
    monkeypatch.setattr(carto_release_inspect, "ReleaseReader", FakeReader)
    monkeypatch.setattr(carto_release_inspect.AnsibleHelmModule, "run_helm_command", fake_run_helm_command)
    warnings = []
    monkeypatch.setattr(carto_release_inspect.AnsibleHelmModule, "warn", lambda self, msg: warnings.append(msg),
                        raising=False)
    return helm_calls, warnings


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            carto_release_inspect.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_reads_everything_in_check_mode(fakes, capsys):
    helm_calls, warnings = fakes
    code, result = run({"name": "carto", "namespace": "carto", "binary_path": "/opt/helm", "wait_timeout": 0,
                        "_ansible_check_mode": True}, capsys)
    assert code == 0 and result["changed"] is False
    assert FakeReader.made == [("carto", "app.kubernetes.io/instance=carto")]
    assert helm_calls == [(["/opt/helm", "status", "carto", "--namespace", "carto", "--output", "json"], False)]
    assert result["release"]["status"] == "deployed" and result["release"]["revision"] == "2"
    assert result["manifest"] == [{"kind": "Deployment", "metadata": {"name": "carto-router"}}]
    assert "hunter22" not in json.dumps(result)
    assert result["deployments"] == [READY_DEPLOYMENT] and result["pods"] == [READY_POD]
    assert result["statefulsets"] is None
    assert result["router_service"]["metadata"]["name"] == "carto-router" and result["ingress"] is None
    assert result["errors"] == ["StatefulSets: statefulsets unavailable"]
    assert warnings == result["errors"]


def test_selector_and_router_options(fakes, capsys):
    code, result = run({"release_name": "rel", "release_namespace": "ns", "label_selector": "app=x",
                        "router_service": "edge", "ingress": True, "binary_path": "helm"}, capsys)
    assert code == 0
    assert FakeReader.made == [("ns", "app=x")]
    assert result["router_service"]["metadata"]["name"] == "edge"


def test_poll_interval_must_be_positive(fakes, capsys):
    code, result = run({"name": "carto", "namespace": "carto", "poll_interval": 0}, capsys)
    assert code == 1 and result["failed"]
    assert result["msg"] == "poll_interval must be greater than 0 seconds, got 0.0"


def test_release_options_are_required(capsys):
    code, result = run({"name": "carto"}, capsys)
    assert code == 1 and "release_namespace" in result["msg"]


def test_auth_options_are_the_helm_ones():
    spec = carto_release_inspect.argument_spec()
    for option in ("kubeconfig", "context", "host", "api_key", "ca_cert", "validate_certs", "binary_path"):
        assert option in spec
    assert spec["kubeconfig"].get("no_log") is True
