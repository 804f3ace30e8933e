# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Helm's merge order (module_utils/_values/merge.py) and the input file list (module_utils/_values/validate.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils._values import merge as values_merge
from ansible_collections.carto.selfhosted.plugins.module_utils._values import problems as values_problems
from ansible_collections.carto.selfhosted.plugins.module_utils._values import validate as values_validate


def test_merge_is_helms_maps_merge_lists_and_scalars_replace_null_deletes():
    merge = values_merge.merge_values
    first = {"router": {"service": {"type": "ClusterIP", "ports": {"http": 80}}, "extraEnvVars": [{"name": "A"}]}}
    second = {"router": {"service": {"type": "LoadBalancer"}, "extraEnvVars": []}, "tlsCerts": None}
    assert merge([first, second]) == {"router": {"service": {"type": "LoadBalancer", "ports": {"http": 80}},
                                                 "extraEnvVars": []}}
    merged, provenance = values_merge.merge_with_provenance([("a.yaml", first), ("b.yaml", second)], keep_nulls=True)
    assert merged["tlsCerts"] is None
    assert provenance[("router", "service", "type")] == [("a.yaml", None), ("b.yaml", None)]
    assert merge([first, {"router": {"service": None}}]) == {"router": {"extraEnvVars": [{"name": "A"}]}}
    assert merge([]) == {}
    assert merge([None, {"a": 1}]) == {"a": 1}
    assert first["router"]["service"]["type"] == "ClusterIP"  # the inputs are not modified
    with pytest.raises(values_problems.CartoValuesError, match="item 1 of the values list is a str"):
        merge([{"a": 1}, "b"])


def test_input_files_lists_every_file_variable_and_nothing_else():
    out = values_validate.input_files({
        "carto_package_values_file": "/p/carto-values.yaml",
        "carto_package_secrets_file": "",
        "carto_customization_files": ["/c/a.yaml", "", "/c/b.yaml"],
        "carto_tls": {"mode": "existing_secret", "certificate_file": "/t/tls.crt", "private_key": "PEM-KEY",
                      "private_key_file": "/t/tls.key", "ca_bundle_file": ""},
        "carto_external_postgresql": {"host": "db", "cloud_sql_proxy": {"service_account_key_file": "/k.json"}},
    })
    assert out == [
        {"variable": "carto_package_values_file", "path": "/p/carto-values.yaml"},
        {"variable": "carto_customization_files[0]", "path": "/c/a.yaml"},
        {"variable": "carto_customization_files[2]", "path": "/c/b.yaml"},
        {"variable": "carto_tls.certificate_file", "path": "/t/tls.crt"},
        {"variable": "carto_tls.private_key_file", "path": "/t/tls.key"},
        {"variable": "carto_external_postgresql.cloud_sql_proxy.service_account_key_file", "path": "/k.json"},
    ]
    assert "PEM-KEY" not in repr(out)
    assert values_validate.input_files(None) == []
