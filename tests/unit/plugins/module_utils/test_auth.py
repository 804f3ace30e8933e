# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
# SPDX-License-Identifier: Apache-2.0
"""module_utils/_auth.py: every module that reaches the cluster keeps ``kubeconfig`` no_log, on kubernetes.core 6.2
(ansible 12, which declares it so) and 6.6 (ansible 14, which no longer does)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib

import pytest

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import HELM_AUTH_ARG_SPEC

from ansible_collections.carto.selfhosted.plugins.module_utils._auth import auth_argument_spec

# Every module with kubernetes.core's cluster options (tls_certificate_chain has none).
MODULES = ("carto_cluster_facts", "carto_endpoint_check", "carto_release_inspect", "carto_support_bundle",
           "carto_values_validate", "helm_release_lock", "helm_release_recover", "helm_release_upgrade")


@pytest.mark.parametrize("base", [AUTH_ARG_SPEC, HELM_AUTH_ARG_SPEC], ids=["k8s", "helm"])
def test_kubeconfig_is_no_log_and_kubernetes_core_spec_is_untouched(base):
    before = dict(base["kubeconfig"])
    spec = auth_argument_spec(base)
    assert spec["kubeconfig"]["no_log"] is True
    assert spec["kubeconfig"]["type"] == "raw"
    assert base["kubeconfig"] == before
    assert set(spec) == set(base)


class _Spec(Exception):
    """Raised by the stand-in module class with the argument spec main() built."""


@pytest.mark.parametrize("name", MODULES)
def test_every_cluster_module_hides_kubeconfig(monkeypatch, name):
    module = importlib.import_module("ansible_collections.carto.selfhosted.plugins.modules." + name)

    def capture(*_args, **kwargs):
        raise _Spec(kwargs["argument_spec"])

    classes = [attr for attr in ("AnsibleHelmModule", "AnsibleK8SModule", "AnsibleModule") if hasattr(module, attr)]
    assert classes, name
    for attr in classes:
        monkeypatch.setattr(module, attr, capture)
    with pytest.raises(_Spec) as caught:
        module.main()
    spec = caught.value.args[0]
    assert spec["kubeconfig"].get("no_log") is True, name
    assert spec["api_key"].get("no_log") is True, name
