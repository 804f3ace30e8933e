# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Tests of the carto.selfhosted.tls_certificate_chain module, calling main()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.carto.selfhosted.plugins.module_utils._tls import certs as tls_certs
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import checks as tls_checks
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import validate as tls_validate
from ansible_collections.carto.selfhosted.plugins.modules import tls_certificate_chain as module

DOMAIN = "carto.example.com"


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


WARNINGS = []


def _warn(self, warning, **kwargs):
    # recorded here: AnsibleModule.warn displays instead of recording once controller code is loaded
    WARNINGS.append(warning)


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    kwargs["warnings"] = list(WARNINGS)
    raise ExitJson(kwargs)


def _fail_json(self, msg, **kwargs):
    kwargs.pop("exception", None)
    kwargs["failed"] = True
    kwargs["msg"] = msg
    kwargs["warnings"] = list(WARNINGS)
    raise FailJson(kwargs)


@pytest.fixture(autouse=True)
def patched_module(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "warn", _warn)
    del WARNINGS[:]
    yield
    del WARNINGS[:]


def run_module(args, expect_fail=False):
    exc = FailJson if expect_fail else ExitJson
    with patch_module_args(args):
        with pytest.raises(exc) as info:
            module.main()
    return info.value.args[0]


@pytest.fixture
def files(pki):
    std = pki.std
    return dict(
        chain=pki.write("chain.crt", pki.pem(std["leaf"], std["inter"])),
        leaf=pki.write("leaf.crt", pki.pem(std["leaf"])),
        reversed=pki.write("reversed.crt", pki.pem(std["inter"], std["leaf"])),
        key=pki.write("leaf.key", pki.key_pem(std["leaf_key"])),
        protected_key=pki.write("protected.key", pki.key_pem(std["leaf_key"], passphrase="pw")),
        other_key=pki.write("other.key", pki.key_pem(pki.key("other"))),
        inter=pki.write("inter.crt", pki.pem(std["inter"])),
        root=pki.write("root.crt", pki.pem(std["root"])),
        der=pki.write("leaf.der", pki.der(std["leaf"])),
    )


def test_valid_chain_from_files(pki, files):
    result = run_module(dict(certificate=files["chain"], private_key=files["key"], ca_bundle=files["root"],
                             domain=DOMAIN))
    assert result["changed"] is False
    assert result["valid"] is True
    assert result["failures"] == []
    assert result["warnings"] == []
    assert result["ca_bundle_used"] == files["root"]
    assert all(c["status"] == "passed" for c in result["checks"])
    assert result["ordered_chain_pem"] == pki.pem(pki.std["leaf"], pki.std["inter"])
    assert result["completed_chain_pem"] is None
    assert result["leaf"]["sans"] == [DOMAIN]
    assert result["leaf"]["days_to_expiry"] in (364, 365)  # whole days, rounded down, real clock
    assert [c["is_ca"] for c in result["chain"]] == [False, True]
    assert result["anchor"]["subject"].endswith("Test Root CA")
    json.dumps(result)


def test_valid_chain_from_content(pki):
    std = pki.std
    result = run_module(dict(certificate_content=pki.pem(std["leaf"], std["inter"]),
                             private_key_content=pki.key_pem(std["leaf_key"]),
                             ca_bundle_content=pki.pem(std["root"]), domain=DOMAIN))
    assert result["valid"] is True
    assert result["ca_bundle_used"] == "ca_bundle_content"


def test_private_key_material_never_returned(pki):
    std = pki.std
    key_pem = pki.key_pem(std["leaf_key"])
    result = run_module(dict(certificate_content=pki.pem(std["leaf"]) + key_pem + pki.pem(std["inter"]),
                             private_key_content=key_pem, ca_bundle_content=pki.pem(std["root"])))
    text = json.dumps(result)
    for line in key_pem.splitlines()[1:-1]:
        assert line not in text
    assert any("is a PRIVATE KEY, not a certificate" in w for w in result["warnings"])


def test_der_certificate_file(pki, files):
    result = run_module(dict(certificate=files["der"], ca_bundle=files["root"], extra_certificates=files["inter"]))
    assert result["valid"] is True
    assert result["completed_chain_pem"] == pki.pem(pki.std["leaf"], pki.std["inter"])


def test_misordered_bundle_fails(pki, files):
    result = run_module(dict(certificate=files["reversed"], ca_bundle=files["root"]), expect_fail=True)
    assert result["failed"] is True
    assert result["valid"] is False
    assert result["msg"].startswith("1 TLS certificate check(s) failed:\n1. [chain_order]")
    assert "set reorder: true" in result["msg"]
    assert result["ordered_chain_pem"] == pki.pem(pki.std["leaf"], pki.std["inter"])
    assert result["checks"]


def test_misordered_bundle_reordered(pki, files):
    result = run_module(dict(certificate=files["reversed"], ca_bundle=files["root"], reorder=True))
    assert result["valid"] is True
    assert len(result["warnings"]) == 1 and "it was reordered" in result["warnings"][0]
    assert result["ordered_chain_pem"] == pki.pem(pki.std["leaf"], pki.std["inter"])


def test_missing_intermediate_fails_with_issuer_name(files):
    result = run_module(dict(certificate=files["leaf"], ca_bundle=files["root"]), expect_fail=True)
    assert "[trust]" in result["msg"]
    assert "Missing issuer (intermediate) certificate: Subject 'C = ES, O = Test PKI, CN = Test Intermediate CA'" in (
        result["msg"])
    assert "UNABLE_TO_VERIFY_LEAF_SIGNATURE" in result["msg"]
    assert result["completed_chain_pem"] is None


def test_missing_intermediate_completed(pki, files):
    result = run_module(dict(certificate=files["leaf"], ca_bundle=files["root"], extra_certificates=files["inter"]))
    assert result["valid"] is True
    assert result["completed_chain_pem"] == pki.pem(pki.std["leaf"], pki.std["inter"])
    assert result["added_certificates"][0]["subject"].endswith("Test Intermediate CA")
    assert any("completed it with 1 certificate(s) from extra_certificates" in w for w in result["warnings"])
    content = run_module(dict(certificate=files["leaf"], ca_bundle=files["root"],
                              extra_certificates_content=pki.pem(pki.std["inter"])))
    assert content["completed_chain_pem"] == result["completed_chain_pem"]


def test_passphrase_protected_key(files):
    result = run_module(dict(certificate=files["chain"], private_key=files["protected_key"], ca_bundle=files["root"]),
                        expect_fail=True)
    assert "[private_key]" in result["msg"]
    assert "openssl rsa -in keyfile_with_passphrase.key -out new_keyfile.key" in result["msg"]


def test_key_mismatch(files):
    result = run_module(dict(certificate=files["chain"], private_key=files["other_key"], ca_bundle=files["root"]),
                        expect_fail=True)
    assert "[private_key_match]" in result["msg"] and "modulus" in result["msg"]


def test_all_failures_in_msg(pki, files):
    result = run_module(dict(certificate=files["reversed"], private_key=files["other_key"], ca_bundle=files["inter"],
                             domain="wrong.example.com"), expect_fail=True)
    assert result["msg"].startswith("3 TLS certificate check(s) failed:")
    for name in ("chain_order", "private_key_match", "hostname"):
        assert "[%s]" % name in result["msg"]
    assert len(result["failures"]) == 3


def test_default_system_ca_bundle(pki, files, monkeypatch):
    monkeypatch.setattr(tls_checks, "DEFAULT_CA_BUNDLE_PATHS", (files["root"],))
    result = run_module(dict(certificate=files["chain"]))
    assert result["valid"] is True
    assert result["ca_bundle_used"] == files["root"]


def test_no_system_ca_bundle(pki, files, monkeypatch, tmp_path):
    monkeypatch.setattr(tls_checks, "DEFAULT_CA_BUNDLE_PATHS", (str(tmp_path / "none.crt"),))
    result = run_module(dict(certificate=files["chain"]))
    assert result["valid"] is True
    assert result["ca_bundle_used"] is None
    assert any("no CA bundle found" in w for w in result["warnings"])


def test_expiry_warning_days(pki, tmp_path):
    std = pki.std
    leaf = pki.server(std["leaf_key"], std["inter"], std["inter_key"], days=20)
    args = dict(certificate_content=pki.pem(leaf, std["inter"]), ca_bundle_content=pki.pem(std["root"]))
    result = run_module(args)
    assert any("days (less than 30 days): renew it" in w for w in result["warnings"])
    del WARNINGS[:]
    args["expiry_warning_days"] = 7
    assert run_module(args)["warnings"] == []
    args["expiry_warning_days"] = -1
    assert "expiry_warning_days must be 0 or more" in run_module(args, expect_fail=True)["msg"]


def test_purpose_ca(pki, files):
    result = run_module(dict(certificate=files["root"], purpose="ca"))
    assert result["valid"] is True and result["purpose"] == "ca"
    assert result["ca_bundle_used"] is None
    assert result["leaf"] is None
    result = run_module(dict(certificate=files["leaf"], purpose="ca"), expect_fail=True)
    assert "[ca_basic_constraints]" in result["msg"] and "not a CA certificate" in result["msg"]


def test_check_mode(files):
    result = run_module(dict(certificate=files["chain"], ca_bundle=files["root"], _ansible_check_mode=True))
    assert result["valid"] is True and result["changed"] is False


@pytest.mark.parametrize("args, expected", [
    ({}, "one of the following is required: certificate, certificate_content"),
    ({"certificate": "/a", "certificate_content": "x"}, "mutually exclusive: certificate|certificate_content"),
    ({"certificate_content": "x", "private_key": "/a", "private_key_content": "y"},
     "mutually exclusive: private_key|private_key_content"),
    ({"certificate_content": "x", "ca_bundle": "/a", "ca_bundle_content": "y"},
     "mutually exclusive: ca_bundle|ca_bundle_content"),
    ({"certificate_content": "x", "extra_certificates": "/a", "extra_certificates_content": "y"},
     "mutually exclusive: extra_certificates|extra_certificates_content"),
    ({"certificate_content": "x", "purpose": "client"}, "value of purpose must be one of: server, ca"),
])
def test_argument_errors(args, expected):
    result = run_module(args, expect_fail=True)
    assert expected in result["msg"]


def test_unreadable_file(tmp_path):
    result = run_module(dict(certificate=str(tmp_path / "missing.crt")), expect_fail=True)
    assert result["msg"].startswith("cannot read certificate %s" % (tmp_path / "missing.crt"))


def test_garbage_certificate(files):
    result = run_module(dict(certificate_content="garbage", ca_bundle=files["root"]), expect_fail=True)
    assert "[pem_parse] no certificate found" in result["msg"]


def test_missing_cryptography(monkeypatch, files):
    monkeypatch.setattr(tls_certs, "HAS_CRYPTOGRAPHY", False)
    result = run_module(dict(certificate=files["chain"]), expect_fail=True)
    assert "cryptography" in result["msg"]


def test_unexpected_error_is_reported(monkeypatch, files):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")
    monkeypatch.setattr(tls_validate, "validate_chain", boom)
    result = run_module(dict(certificate=files["chain"]), expect_fail=True)
    assert result["msg"] == "certificate validation error: kaboom"


def test_documentation_matches_argument_spec():
    import yaml
    doc = yaml.safe_load(module.DOCUMENTATION)
    yaml.safe_load(module.EXAMPLES)
    returns = yaml.safe_load(module.RETURN)
    captured = {}

    class Capture(Exception):
        pass

    def fake_init(self, argument_spec, **kwargs):
        captured.update(argument_spec)
        raise Capture()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(basic.AnsibleModule, "__init__", fake_init)
        with pytest.raises(Capture):
            module.main()
    assert set(doc["options"]) == set(captured)
    for name, spec in captured.items():
        assert doc["options"][name]["type"] == spec["type"], name
        assert doc["options"][name].get("default") == spec.get("default"), name
        assert doc["options"][name].get("choices") == spec.get("choices"), name
    assert doc["version_added"] == "0.1.0"
    for key in ("valid", "checks", "chain", "leaf", "ordered_chain_pem", "completed_chain_pem", "failures"):
        assert key in returns
