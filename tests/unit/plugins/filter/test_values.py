# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Tests of the values_merge / values_redact / values_secret_refs filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.carto.selfhosted.plugins.filter import values as values_filters

FILTER_DIR = os.path.dirname(values_filters.__file__)
FILTERS = values_filters.FilterModule().filters()


def test_filters_are_registered():
    assert sorted(FILTERS) == ["values_file_sources", "values_input_files", "values_merge"]


@pytest.mark.parametrize("name", ["values_merge", "values_file_sources", "values_input_files"])
def test_filter_doc_files(name):
    with open(os.path.join(FILTER_DIR, name + ".yml")) as handle:
        doc = yaml.safe_load(handle)
    assert doc["DOCUMENTATION"]["name"] == name
    assert doc["DOCUMENTATION"]["version_added"] == "0.1.0"
    assert doc["DOCUMENTATION"]["options"]["_input"]["required"] is True
    assert "carto.selfhosted.%s" % name in doc["EXAMPLES"]
    assert "_value" in doc["RETURN"]


def test_values_merge():
    merge = FILTERS["values_merge"]
    first = {"router": {"service": {"type": "ClusterIP", "ports": {"http": 80}}, "extraEnvVars": [{"name": "A"}]}}
    second = {"router": {"service": {"type": "LoadBalancer"}, "extraEnvVars": []}, "tlsCerts": None}
    assert merge([first, second]) == {"router": {"service": {"type": "LoadBalancer", "ports": {"http": 80}},
                                                 "extraEnvVars": []}}
    assert merge([first, second], keep_nulls=True)["tlsCerts"] is None
    assert merge([first, {"router": {"service": None}}]) == {"router": {"extraEnvVars": [{"name": "A"}]}}
    assert merge([]) == {} and merge(None) == {}
    assert merge([None, {"a": 1}]) == {"a": 1}
    with pytest.raises(AnsibleFilterError):
        merge("not a list")
    with pytest.raises(AnsibleFilterError):
        merge([{"a": 1}, "b"])


def test_values_file_sources():
    sources = FILTERS["values_file_sources"]
    assert sources(["a.yaml", "", "b.yaml"]) == [{"name": "a.yaml", "path": "a.yaml"},
                                                 {"name": "b.yaml", "path": "b.yaml"}]
    assert sources(None) == []
    with pytest.raises(AnsibleFilterError):
        sources("a.yaml")
    with pytest.raises(AnsibleFilterError):
        sources([1])


def test_values_input_files_lists_every_file_variable_and_nothing_else():
    out = FILTERS["values_input_files"]({
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
    assert FILTERS["values_input_files"](None) == []
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        FILTERS["values_input_files"](["/a"])
