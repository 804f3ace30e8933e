# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Tests of the carto.selfhosted pem_split / x509_describe / chain_order filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pathlib

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.carto.selfhosted.plugins.filter import tls as tls_filters
from ansible_collections.carto.selfhosted.plugins.filter.tls import FilterModule
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import certs as tls_certs


FILTERS = FilterModule().filters()
FILTER_DIR = pathlib.Path(tls_filters.__file__).parent
TRUNCATED = "-----BEGIN CERTIFICATE-----\nAAAA\n"


def test_filter_names():
    assert set(FILTERS) == {"pem_split", "x509_describe", "chain_order"}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_has_a_doc_file(name):
    doc = yaml.safe_load((FILTER_DIR / ("%s.yml" % name)).read_text())
    assert doc["DOCUMENTATION"]["name"] == name
    assert doc["DOCUMENTATION"]["version_added"] == "0.1.0"
    assert doc["DOCUMENTATION"]["short_description"]
    assert "_input" in doc["DOCUMENTATION"]["options"]
    assert "carto.selfhosted.%s" % name in doc["EXAMPLES"]
    yaml.safe_load(doc["EXAMPLES"])
    assert "_value" in doc["RETURN"]


# -- pem_split ----------------------------------------------------------------


def test_pem_split(pki):
    std = pki.std
    bundle = "leaf:\n" + pki.pem(std["leaf"]) + "\n\n" + pki.pem(std["inter"]) + pki.key_pem(std["leaf_key"])
    assert FILTERS["pem_split"](bundle) == [pki.pem(std["leaf"]), pki.pem(std["inter"])]
    assert FILTERS["pem_split"]([pki.pem(std["leaf"]), pki.pem(std["inter"], std["root"])]) == [
        pki.pem(std["leaf"]), pki.pem(std["inter"]), pki.pem(std["root"])]
    assert FILTERS["pem_split"]("") == []


def test_pem_split_bad_block(pki):
    with pytest.raises(AnsibleFilterError, match=r"pem_split: PEM block 2 \(CERTIFICATE\) is malformed"):
        FILTERS["pem_split"](pki.pem(pki.std["leaf"]) + TRUNCATED)


@pytest.mark.parametrize("value, expected", [
    (None, "undefined or null"),
    (42, "got int"),
    ([["x"]], "got a list"),
    ({"a": 1}, "got dict"),
])
def test_bad_input_types(value, expected):
    for name in FILTERS:
        with pytest.raises(AnsibleFilterError, match=expected):
            FILTERS[name](value)


# -- x509_describe ------------------------------------------------------------


def test_x509_describe(pki):
    std = pki.std
    desc = FILTERS["x509_describe"](pki.pem(std["leaf"], std["inter"]))
    assert desc["subject"] == "C = ES, O = Test PKI, CN = carto.example.com"
    assert desc["issuer"] == "C = ES, O = Test PKI, CN = Test Intermediate CA"
    assert desc["sans"] == ["carto.example.com"]
    assert desc["is_ca"] is False
    assert desc["serial"] == "%X" % std["leaf"].serial_number
    assert set(desc) >= {"subject", "issuer", "sans", "not_before", "not_after", "fingerprint_sha256", "serial",
                         "is_ca", "days_to_expiry", "self_signed"}
    assert FILTERS["x509_describe"](pki.pem(std["root"]))["self_signed"] is True


def test_x509_describe_errors(pki):
    with pytest.raises(AnsibleFilterError, match="no certificate found"):
        FILTERS["x509_describe"]("nothing")
    with pytest.raises(AnsibleFilterError, match="x509_describe: PEM block 1"):
        FILTERS["x509_describe"](TRUNCATED)


# -- chain_order --------------------------------------------------------------


def test_chain_order(pki):
    std = pki.std
    expected = [pki.pem(std["leaf"]), pki.pem(std["inter"]), pki.pem(std["root"])]
    assert FILTERS["chain_order"](pki.pem(std["root"], std["inter"], std["leaf"])) == expected
    assert FILTERS["chain_order"]([pki.pem(std["inter"]), pki.pem(std["root"]), pki.pem(std["leaf"])]) == expected
    assert FILTERS["chain_order"](pki.pem(std["leaf"], std["inter"], std["leaf"])) == expected[:2]


def test_chain_order_not_one_chain(pki):
    std = pki.std
    with pytest.raises(AnsibleFilterError, match="chain_order: the certificates are not one chain"):
        FILTERS["chain_order"](pki.pem(std["leaf"], std["root"]))
    with pytest.raises(AnsibleFilterError, match="no certificate found"):
        FILTERS["chain_order"]("")
    with pytest.raises(AnsibleFilterError, match="malformed"):
        FILTERS["chain_order"](TRUNCATED)


def test_filters_without_cryptography(monkeypatch, pki):
    monkeypatch.setattr(tls_certs, "HAS_CRYPTOGRAPHY", False)
    for name in FILTERS:
        with pytest.raises(AnsibleFilterError, match="%s: the Python library cryptography" % name):
            FILTERS[name](pki.pem(pki.std["leaf"]))
