# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
# SPDX-License-Identifier: Apache-2.0
"""module_utils/_k8s/client.py: one set of cluster options and one client for every module that reaches the
cluster; ``kubeconfig`` stays no_log on kubernetes.core 6.2 (ansible 12, which declares it so) and 6.6 (ansible 14,
which no longer does)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import pathlib

import pytest

from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import HELM_AUTH_ARG_SPEC

from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

REPO = pathlib.Path(__file__).resolve().parents[5]
# Every module with the cluster options (tls_certificate_chain and carto_report_write have none).
MODULES = ("carto_cluster_facts", "carto_endpoint_check", "carto_release_inspect", "carto_support_bundle",
           "carto_values_render", "helm_release_upgrade")
HELM_MODULES = ("carto_cluster_facts", "carto_release_inspect", "helm_release_upgrade")
CLUSTER_OPTIONS = {"kubeconfig", "context", "host", "api_key", "ca_cert", "validate_certs"}


def test_the_options_are_kubernetes_core_ones_with_kubeconfig_no_log():
    before = dict(HELM_AUTH_ARG_SPEC["kubeconfig"])
    spec = cluster_client.argument_spec()
    assert set(spec) == CLUSTER_OPTIONS
    assert spec["kubeconfig"]["no_log"] is True and spec["kubeconfig"]["type"] == "raw"
    assert spec["api_key"]["no_log"] is True
    for name in CLUSTER_OPTIONS - {"kubeconfig"}:
        assert spec[name] == HELM_AUTH_ARG_SPEC[name], name  # names, aliases, K8S_AUTH_* fallbacks
    assert HELM_AUTH_ARG_SPEC["kubeconfig"] == before  # kubernetes.core's own spec is untouched
    assert set(cluster_client.argument_spec(helm=True)) == CLUSTER_OPTIONS | {"binary_path"}


def test_argument_spec_is_a_new_dict_each_time_and_module_options_win():
    spec = cluster_client.argument_spec(release_name=dict(type="str"), host=dict(type="str", required=True))
    spec["kubeconfig"]["no_log"] = False
    assert cluster_client.AUTH_ARG_SPEC["kubeconfig"]["no_log"] is True
    assert spec["host"] == dict(type="str", required=True) and "release_name" in spec


class _Spec(Exception):
    """Raised by the stand-in module class with the arguments main() built."""


@pytest.mark.parametrize("name", MODULES)
def test_every_cluster_module_takes_the_one_spec(monkeypatch, name):
    module = importlib.import_module("ansible_collections.carto.selfhosted.plugins.modules." + name)

    def capture(*_args, **kwargs):
        raise _Spec(kwargs)

    classes = [attr for attr in ("AnsibleHelmModule", "AnsibleModule") if hasattr(module, attr)]
    assert classes, name
    for attr in classes:
        monkeypatch.setattr(module, attr, capture)
    with pytest.raises(_Spec) as caught:
        module.main()
    kwargs = caught.value.args[0]
    spec = kwargs["argument_spec"]
    expected = cluster_client.argument_spec(helm=name in HELM_MODULES)
    assert dict((key, spec[key]) for key in expected) == expected, name
    assert kwargs["mutually_exclusive"] == cluster_client.AUTH_MUTUALLY_EXCLUSIVE, name


@pytest.mark.parametrize("name", MODULES)
def test_every_cluster_module_documents_the_fragment(name):
    module = importlib.import_module("ansible_collections.carto.selfhosted.plugins.modules." + name)
    import yaml

    doc = yaml.safe_load(module.DOCUMENTATION)
    fragments = doc.get("extends_documentation_fragment") or []
    assert "carto.selfhosted.cluster" in fragments, name
    assert ("carto.selfhosted.cluster.HELM" in fragments) == (name in HELM_MODULES), name
    assert not CLUSTER_OPTIONS & set(doc.get("options") or {}), "%s documents a cluster option itself" % name


def test_no_other_code_builds_a_client():
    """The only callers of kubernetes.core's get_api_client or the kubernetes config loaders are in _k8s/."""
    offenders = []
    for path in sorted((REPO / "plugins").rglob("*.py")):
        if "_k8s" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [(node.module or "") + "." + alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for full in names:
                if full.endswith(("k8s.client.get_api_client", "kubernetes.config", "args_common.AUTH_ARG_SPEC",
                                  "helm_args_common.HELM_AUTH_ARG_SPEC", "k8s.core.AnsibleK8SModule")):
                    offenders.append("%s: %s" % (path.relative_to(REPO), full))
            if isinstance(node, ast.Attribute) and node.attr in ("load_kube_config", "load_kube_config_from_dict",
                                                                 "load_incluster_config"):
                offenders.append("%s: %s" % (path.relative_to(REPO), node.attr))
    assert offenders == []


def test_k8s_auth_passes_only_what_is_set():
    params = {"kubeconfig": "/k/config", "context": "kind-carto", "host": None, "api_key": None, "ca_cert": None,
              "validate_certs": True, "binary_path": "/bin/helm", "release_name": "carto"}
    assert cluster_client.k8s_auth(params) == {"kubeconfig": "/k/config", "context": "kind-carto"}
    params.update(kubeconfig={"clusters": []}, host="https://k8s:6443", api_key="t0ken", ca_cert="/ca.pem",
                  validate_certs=False)
    assert cluster_client.k8s_auth(params) == {
        "kubeconfig": {"clusters": []}, "context": "kind-carto", "host": "https://k8s:6443", "api_key": "t0ken",
        "ca_cert": "/ca.pem", "validate_certs": False}


def test_api_client_is_kubernetes_core_one(monkeypatch):
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client as core_client

    seen = {}

    class _K8SClient(object):
        class client(object):  # K8SClient.client is the dynamic client, whose .client is the ApiClient
            client = "the ApiClient"

    def fake_get_api_client(**kwargs):
        seen.update(kwargs)
        return _K8SClient()

    monkeypatch.setattr(core_client, "get_api_client", fake_get_api_client)
    assert cluster_client.api_client({"kubeconfig": "/k", "context": None, "validate_certs": True}) == "the ApiClient"
    assert seen == {"kubeconfig": "/k"}
