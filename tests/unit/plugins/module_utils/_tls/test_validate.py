# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Unit tests of plugins/module_utils/_tls/ (PKI from the ``pki`` fixture)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.carto.selfhosted.plugins.module_utils._tls import certs as tls_certs
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import checks as tls_checks
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import order as tls_order
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import pem as tls_pem
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import report as tls_report
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import validate as tls_validate

DOMAIN = "carto.example.com"


def statuses(report, name):
    return [c.status for c in report.checks if c.name == name]


def only(report, name):
    checks = report.by_name(name)
    assert len(checks) == 1, checks
    return checks[0]


def failed(report):
    return [c for c in report.checks if c.status == tls_certs.FAILED]


def run(pki, certs, **kwargs):
    kwargs.setdefault("trust", pki.pem(pki.std["root"]))
    kwargs.setdefault("now", pki.now)
    return tls_validate.validate_chain(certs, **kwargs)


# --------------------------------------------------------------------------
# helpers: names, description, hostname matching
# --------------------------------------------------------------------------


def test_format_name_is_openssl_style(pki):
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Greater Manchester"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sectigo Limited"),
        x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ca@example.com"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Sectigo RSA Domain Validation Secure Server CA"),
    ])
    assert tls_certs.format_name(name) == ("C = GB, ST = Greater Manchester, O = Sectigo Limited, "
                                           "emailAddress = ca@example.com, "
                                           "CN = Sectigo RSA Domain Validation Secure Server CA")


def test_format_name_multivalued_rdn_and_unknown_oid():
    name = x509.Name([x509.RelativeDistinguishedName([
        x509.NameAttribute(NameOID.COMMON_NAME, "a"),
        x509.NameAttribute(x509.ObjectIdentifier("1.2.3.4"), "b"),
    ])])
    text = tls_certs.format_name(name)
    assert "CN = a" in text and "1.2.3.4 = b" in text and " + " in text


def test_describe_certificate(pki):
    std = pki.std
    desc = tls_certs.describe_certificate(std["leaf"], now=pki.now)
    assert desc["subject"] == "C = ES, O = Test PKI, CN = carto.example.com"
    assert desc["issuer"] == "C = ES, O = Test PKI, CN = Test Intermediate CA"
    assert desc["serial"] == "%X" % std["leaf"].serial_number
    assert desc["days_to_expiry"] == 365
    assert isinstance(desc["days_to_expiry"], int)
    assert desc["sans"] == [DOMAIN]
    assert desc["is_ca"] is False
    assert desc["self_signed"] is False
    assert desc["not_after"].endswith("Z") and desc["not_before"].endswith("Z")
    assert len(desc["fingerprint_sha256"].split(":")) == 32
    assert desc["public_key"] == "RSA 2048 bits"
    assert desc["extended_key_usage"] == ["serverAuth"]
    assert desc["signature_algorithm"] == "sha256WithRSAEncryption"
    root = tls_certs.describe_certificate(std["root"], now=pki.now)
    assert root["is_ca"] is True and root["self_signed"] is True and root["extended_key_usage"] is None


def test_days_to_expiry_rounds_down_and_goes_negative(pki):
    key = pki.key("leaf")
    cert = pki.cert("x", key, not_after=pki.now + datetime.timedelta(days=2, hours=23))
    assert tls_certs.days_to_expiry(cert, pki.now) == 2
    assert tls_certs.days_to_expiry(cert, pki.now + datetime.timedelta(days=4)) == -2
    naive = pki.now.replace(tzinfo=None)
    assert tls_certs.days_to_expiry(cert, naive) == 2


@pytest.mark.parametrize("pattern, host, expected", [
    ("carto.example.com", "carto.example.com", True),
    ("Carto.Example.COM", "carto.example.com.", True),
    ("*.example.com", "a.example.com", True),
    ("*.example.com", "A.EXAMPLE.com", True),
    ("*.example.com", "example.com", False),
    ("*.example.com", "a.b.example.com", False),
    ("*.example.com", ".example.com", False),
    ("a.*.example.com", "a.b.example.com", False),
    ("w*.example.com", "www.example.com", False),
    ("*.com", "example.com", False),
    ("*", "example", False),
    ("**.example.com", "a.example.com", False),
    ("other.example.com", "carto.example.com", False),
    ("", "carto.example.com", False),
    ("*.example.com", "", False),
    ("*.example.com", "10.0.0.1", False),
    ("xn--bcher-kva.example", u"b\u00fccher.example", True),
])
def test_hostname_matches(pattern, host, expected):
    assert tls_order.hostname_matches(pattern, host) is expected


def test_load_certificates_and_split(pki):
    std = pki.std
    bundle = "junk before\n" + pki.pem(std["leaf"]) + "\nsubject=foo\n" + pki.pem(std["inter"])
    pems = tls_pem.split_pem(bundle)
    assert pems == [pki.pem(std["leaf"]), pki.pem(std["inter"])]
    assert tls_pem.load_certificates(bundle) == [std["leaf"], std["inter"]]
    # CRLF, bytes, DER, Certificate objects and lists
    assert tls_pem.split_pem(bundle.replace("\n", "\r\n").encode()) == pems
    assert tls_pem.split_pem([pki.der(std["leaf"]), std["inter"]]) == pems
    assert tls_pem.split_pem("") == []


# --------------------------------------------------------------------------
# pem_parse
# --------------------------------------------------------------------------


def test_good_chain_passes_every_check(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]), private_key_pem=pki.key_pem(std["leaf_key"]),
                 domain=DOMAIN)
    assert report.valid, report.failure_message()
    assert report.failure_message() == ""
    assert report.warnings == []
    names = [c.name for c in report.checks]
    for name in ("pem_parse", "private_key", "chain_order", "private_key_match", "trust", "signature",
                 "validity", "hostname", "extended_key_usage"):
        assert name in names
    assert all(c.status == tls_certs.PASSED for c in report.checks), report.checks
    assert statuses(report, "signature") == [tls_certs.PASSED, tls_certs.PASSED]
    assert statuses(report, "validity") == [tls_certs.PASSED, tls_certs.PASSED]
    assert only(report, "pem_parse").message == "2 certificate(s) parsed"
    assert "Test Root CA" in only(report, "trust").message
    assert report.ordered_chain_pem == pki.pem(std["leaf"], std["inter"])
    assert report.completed_chain_pem is None
    assert [c["subject"].split("CN = ")[1] for c in report.chain] == [DOMAIN, "Test Intermediate CA"]
    assert report.leaf["subject"].endswith("CN = " + DOMAIN)
    assert report.anchor["subject"].endswith("CN = Test Root CA")
    assert report.chain[0]["source"] == "certificate" and report.chain[0]["position"] == 1
    check = only(report, "hostname")
    assert check.subject == report.leaf["subject"] and check.issuer == report.leaf["issuer"]


def test_report_to_dict_is_plain_data(pki):
    import json
    std = pki.std
    data = run(pki, pki.pem(std["leaf"], std["inter"])).to_dict()
    json.dumps(data)
    assert set(data) >= {"valid", "checks", "chain", "leaf", "ordered_chain_pem", "completed_chain_pem",
                         "warnings", "failures", "anchor", "purpose", "added_certificates"}
    assert set(data["checks"][0]) == {"name", "status", "message", "subject", "issuer"}


def test_bad_base64_block_reported_with_index(pki):
    std = pki.std
    bad = "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n"
    report = run(pki, pki.pem(std["leaf"]) + bad + pki.pem(std["inter"]))
    check = [c for c in report.checks if c.name == "pem_parse" and c.status == tls_certs.FAILED]
    assert len(check) == 1
    assert "PEM block 2 (CERTIFICATE) is malformed: invalid base64 content" in check[0].message
    assert not report.valid
    # the other certificates are still checked
    assert only(report, "trust").status == tls_certs.PASSED


def test_block_that_is_not_a_certificate(pki):
    std = pki.std
    import base64
    bad = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % base64.b64encode(b"hello").decode()
    report = run(pki, bad + pki.pem(std["leaf"], std["inter"]))
    msg = [c.message for c in failed(report)]
    assert any("PEM block 1 (CERTIFICATE) does not parse as an X.509 certificate" in m for m in msg)


@pytest.mark.parametrize("text, expected", [
    ("-----BEGIN CERTIFICATE-----\nAAAA\n", "PEM block 1 (CERTIFICATE) is malformed: no END line before the next "
     "BEGIN line (truncated block)"),
    ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n",
     "BEGIN CERTIFICATE closed by END PRIVATE KEY"),
    ("-----END CERTIFICATE-----\n", "END line without a matching BEGIN line"),
])
def test_truncated_and_mismatched_blocks(pki, text, expected):
    std = pki.std
    report = run(pki, text + pki.pem(std["leaf"], std["inter"]))
    assert any(expected in c.message for c in failed(report)), report.checks


def test_truncated_last_block(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]) + "-----BEGIN CERTIFICATE-----\nAAAA\n")
    assert [c.message for c in failed(report)] == [
        "PEM block 3 (CERTIFICATE) is malformed: no END line (truncated block)"]


def test_truncated_block_followed_by_next_begin(pki):
    std = pki.std
    leaf_pem = pki.pem(std["leaf"])
    truncated = leaf_pem.split("-----END")[0]
    report = run(pki, truncated + pki.pem(std["leaf"], std["inter"]))
    assert any("PEM block 1 (CERTIFICATE) is malformed: no END line before the next BEGIN line" in c.message
               for c in failed(report))
    assert only(report, "trust").status == tls_certs.PASSED


def test_no_certificate_found_skips_the_rest(pki):
    report = run(pki, "nothing here")
    assert only(report, "pem_parse").status == tls_certs.FAILED
    assert "no certificate found" in only(report, "pem_parse").message
    assert statuses(report, "trust") == [tls_certs.SKIPPED]
    assert report.chain == [] and report.leaf is None
    ca_report = tls_validate.validate_chain("", purpose="ca")
    assert statuses(ca_report, "ca_basic_constraints") == [tls_certs.SKIPPED]


def test_private_key_in_certificate_file_is_warned_and_never_returned(pki):
    std = pki.std
    key_pem = pki.key_pem(std["leaf_key"])
    report = run(pki, pki.pem(std["leaf"]) + key_pem + pki.pem(std["inter"]))
    assert report.valid
    warns = [c for c in report.checks if c.name == "pem_parse" and c.status == tls_certs.WARNING]
    assert len(warns) == 1 and "PEM block 2 is a PRIVATE KEY" in warns[0].message
    body = key_pem.splitlines()[1]
    assert body not in repr(report.to_dict())


def test_other_blocks_ignored(pki):
    std = pki.std
    import base64
    csr = "-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n" % (
        base64.b64encode(b"x").decode())
    trusted = "-----BEGIN TRUSTED CERTIFICATE-----\n%s\n-----END TRUSTED CERTIFICATE-----\n" % (
        base64.b64encode(b"x").decode())
    report = run(pki, pki.pem(std["leaf"], std["inter"]) + csr)
    assert report.valid and "not a CERTIFICATE: ignored" in report.warnings[0]
    report = run(pki, pki.pem(std["leaf"], std["inter"]) + trusted)
    assert "TRUSTED CERTIFICATE" in failed(report)[0].message


def test_der_and_object_input(pki):
    """The endpoint check passes the DER certificates a server sent."""
    std = pki.std
    report = run(pki, [pki.der(std["leaf"]), pki.der(std["inter"])], domain=DOMAIN)
    assert report.valid, report.failure_message()
    report = run(pki, [std["leaf"], std["inter"]], domain=DOMAIN)
    assert report.valid
    report = run(pki, [b"\x30\x03\x02\x01\x01", pki.der(std["leaf"])])
    assert "item 1 is neither PEM nor a DER certificate" in failed(report)[0].message
    report = run(pki, [12, pki.der(std["leaf"]), pki.der(std["inter"])])
    assert "item 1 is a int, not PEM text" in failed(report)[0].message


# --------------------------------------------------------------------------
# chain_order
# --------------------------------------------------------------------------


def test_wrong_order_fails_without_reorder(pki):
    std = pki.std
    report = run(pki, pki.pem(std["inter"], std["leaf"]), private_key_pem=pki.key_pem(std["leaf_key"]))
    check = only(report, "chain_order")
    assert check.status == tls_certs.FAILED
    assert "not ordered leaf -> intermediates" in check.message
    assert "Expected order: #2 'C = ES, O = Test PKI, CN = carto.example.com' -> #1" in check.message
    assert "set reorder: true" in check.message
    assert report.ordered_chain_pem == pki.pem(std["leaf"], std["inter"])
    # the rest is checked on the ordered chain
    assert only(report, "private_key_match").status == tls_certs.PASSED
    assert only(report, "trust").status == tls_certs.PASSED
    assert [c.status for c in failed(report)] == [tls_certs.FAILED]


def test_wrong_order_reordered_is_a_warning(pki):
    std = pki.std
    report = run(pki, pki.pem(std["inter"], std["root"], std["leaf"]), reorder=True)
    check = only(report, "chain_order")
    assert check.status == tls_certs.WARNING
    assert "it was reordered" in check.message
    assert report.valid
    assert report.ordered_chain_pem == pki.pem(std["leaf"], std["inter"], std["root"])
    assert len(report.warnings) == 1 and report.warnings[0].startswith("[chain_order]")


def test_unrelated_certificate_fails(pki):
    std = pki.std
    other_key = pki.key("other")
    other = pki.ca("Unrelated CA", other_key)
    report = run(pki, pki.pem(std["leaf"], std["inter"], other))
    check = [c for c in report.checks if c.name == "chain_order" and c.status == tls_certs.FAILED]
    assert len(check) == 1
    assert "not one chain: #3 'C = ES, O = Test PKI, CN = Unrelated CA' not on the chain of the leaf #1" in (
        check[0].message)
    assert report.ordered_chain_pem == pki.pem(std["leaf"], std["inter"])


def test_duplicates_are_a_warning(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"], std["inter"]))
    assert report.valid
    assert any("certificate #3 is a duplicate" in w for w in report.warnings)
    assert report.ordered_chain_pem == pki.pem(std["leaf"], std["inter"])


def test_bundle_without_leaf_warns(pki):
    std = pki.std
    report = run(pki, pki.pem(std["inter"], std["root"]))
    assert any("the server (leaf) certificate seems to be missing" in w for w in report.warnings)


def test_private_key_picks_the_leaf_among_candidates(pki):
    std = pki.std
    other_key = pki.key("other")
    other_leaf = pki.server(other_key, std["inter"], std["inter_key"], sans=["other.example.com"])
    report = run(pki, pki.pem(other_leaf, std["leaf"], std["inter"]), private_key_pem=pki.key_pem(std["leaf_key"]))
    assert report.leaf["sans"] == [DOMAIN]
    assert only(report, "private_key_match").status == tls_certs.PASSED
    assert any("#1" in c.message and "not one chain" in c.message for c in failed(report))


def test_order_chain_helper(pki):
    std = pki.std
    assert tls_order.order_chain(pki.pem(std["root"], std["leaf"], std["inter"])) == [
        pki.pem(std["leaf"]), pki.pem(std["inter"]), pki.pem(std["root"])]
    assert tls_order.order_chain([pki.pem(std["inter"]), pki.pem(std["leaf"])]) == [
        pki.pem(std["leaf"]), pki.pem(std["inter"])]
    with pytest.raises(tls_certs.TlsChainError, match="not one chain"):
        tls_order.order_chain(pki.pem(std["leaf"], std["root"]))
    with pytest.raises(tls_certs.TlsChainError, match="no certificate found"):
        tls_order.order_chain("")
    with pytest.raises(tls_certs.TlsChainError, match="malformed"):
        tls_order.order_chain("-----BEGIN CERTIFICATE-----\n")
    assert tls_order.order_entries([]).chain == []


# --------------------------------------------------------------------------
# private key
# --------------------------------------------------------------------------


def test_no_private_key_skips_key_checks(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]))
    assert only(report, "private_key").status == tls_certs.SKIPPED
    assert only(report, "private_key_match").status == tls_certs.SKIPPED


@pytest.mark.parametrize("traditional", [False, True])
def test_passphrase_protected_key(pki, traditional):
    std = pki.std
    key_pem = pki.key_pem(std["leaf_key"], passphrase="secret", traditional=traditional)
    report = run(pki, pki.pem(std["leaf"], std["inter"]), private_key_pem=key_pem)
    check = only(report, "private_key")
    assert check.status == tls_certs.FAILED
    assert "protected with a passphrase" in check.message
    assert "openssl rsa -in keyfile_with_passphrase.key -out new_keyfile.key" in check.message
    assert "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Use your own TLS certificate" in check.message
    assert only(report, "private_key_match").status == tls_certs.SKIPPED
    assert "secret" not in repr(report.to_dict())


def test_passphrase_detected_from_cryptography_error(pki):
    """A protected key without the usual markers is still reported as such."""
    std = pki.std
    key_pem = pki.key_pem(std["leaf_key"], passphrase="secret", traditional=True)
    key_pem = key_pem.replace("Proc-Type: 4,ENCRYPTED", "Proc-Type:  4,ENCRYPTED")
    with pytest.raises(tls_certs.PrivateKeyError) as err:
        tls_pem.load_private_key(key_pem)
    assert err.value.passphrase is True


@pytest.mark.parametrize("content, expected", [
    ("", "the private key is empty"),
    ("hello", "no PEM PRIVATE KEY block found"),
    ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "could not be parsed"),
])
def test_bad_private_key(pki, content, expected):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]), private_key_pem=content)
    check = only(report, "private_key")
    assert check.status == tls_certs.FAILED and expected in check.message
    with pytest.raises(tls_certs.PrivateKeyError) as err:
        tls_pem.load_private_key(content)
    assert err.value.passphrase is False


def test_two_private_keys(pki):
    std = pki.std
    two = pki.key_pem(std["leaf_key"]) + pki.key_pem(std["inter_key"])
    with pytest.raises(tls_certs.PrivateKeyError, match="contains 2 PRIVATE KEY blocks"):
        tls_pem.load_private_key(two)


def test_private_key_with_certificate_in_same_file(pki):
    std = pki.std
    key_file = pki.pem(std["leaf"]) + pki.key_pem(std["leaf_key"], traditional=True)
    report = run(pki, pki.pem(std["leaf"], std["inter"]), private_key_pem=key_file.encode())
    assert only(report, "private_key_match").status == tls_certs.PASSED


def test_key_mismatch(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]), private_key_pem=pki.key_pem(pki.key("other")))
    check = only(report, "private_key_match")
    assert check.status == tls_certs.FAILED
    assert "does not match the public key of the leaf certificate" in check.message
    assert "openssl x509 -noout -modulus -in <certificate> | openssl md5" in check.message
    assert "openssl rsa -noout -modulus -in <key> | openssl md5" in check.message
    assert "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Troubleshooting, 500 Code Error" in check.message
    assert check.subject.endswith("CN = " + DOMAIN)


def test_key_of_another_certificate_in_bundle(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]), private_key_pem=pki.key_pem(std["inter_key"]))
    check = only(report, "private_key_match")
    assert check.status == tls_certs.FAILED
    assert "The key belongs to certificate #2 'C = ES, O = Test PKI, CN = Test Intermediate CA'" in check.message


def test_ec_chain_and_key(pki):
    root_key = pki.key("root", "ec")
    inter_key = pki.key("inter", "ec")
    leaf_key = pki.key("leaf", "ec")
    root = pki.ca("EC Root", root_key)
    inter = pki.ca("EC Inter", inter_key, issuer=root, issuer_key=root_key)
    leaf = pki.server(leaf_key, inter, inter_key)
    report = tls_validate.validate_chain(pki.pem(leaf, inter), trust=pki.pem(root), now=pki.now, domain=DOMAIN,
                                         private_key_pem=pki.key_pem(leaf_key, traditional=True))
    assert report.valid, report.failure_message()
    assert "EC secp256r1" in only(report, "private_key").message
    # EC key against an RSA certificate
    report = run(pki, pki.pem(pki.std["leaf"], pki.std["inter"]), private_key_pem=pki.key_pem(leaf_key))
    check = only(report, "private_key_match")
    assert check.status == tls_certs.FAILED and "(EC secp256r1)" in check.message and "(RSA 2048 bits)" in check.message


def test_passphrase_protected_ec_key(pki):
    std = pki.std
    key_pem = pki.key_pem(pki.key("leaf", "ec"), passphrase="pw", traditional=True)
    check = only(run(pki, pki.pem(std["leaf"], std["inter"]), private_key_pem=key_pem), "private_key")
    assert check.status == tls_certs.FAILED and "EC PRIVATE KEY" in check.message and "openssl pkey" in check.message


# --------------------------------------------------------------------------
# signature
# --------------------------------------------------------------------------


def test_signature_verified_not_names(pki):
    """An intermediate with the right name but another key: names match, signature does not."""
    std = pki.std
    impostor = pki.ca("Test Intermediate CA", pki.key("other"), issuer=std["root"], issuer_key=std["root_key"])
    report = run(pki, pki.pem(std["leaf"], impostor))
    sig = report.by_name("signature")
    assert sig[0].status == tls_certs.FAILED
    assert "names 'C = ES, O = Test PKI, CN = Test Intermediate CA' as issuer but is not signed" in sig[0].message
    assert "signature does not verify" in sig[0].message
    assert not report.valid


def test_signature_prefers_the_verifying_issuer(pki):
    std = pki.std
    impostor = pki.ca("Test Intermediate CA", pki.key("other"), issuer=std["root"], issuer_key=std["root_key"])
    report = run(pki, pki.pem(std["leaf"], impostor, std["inter"]))
    assert statuses(report, "signature") == [tls_certs.PASSED, tls_certs.PASSED]
    assert any("not one chain" in c.message for c in failed(report))


def test_issuer_not_ca(pki):
    std = pki.std
    not_ca_key = pki.key("other")
    not_ca = pki.cert("Not A CA", not_ca_key, issuer=std["inter"], issuer_key=std["inter_key"])
    leaf = pki.server(std["leaf_key"], not_ca, not_ca_key)
    report = run(pki, pki.pem(leaf, not_ca, std["inter"]))
    msgs = [c.message for c in failed(report)]
    assert any("which is not a CA certificate (basicConstraints CA:TRUE missing)" in m for m in msgs)


def test_self_signed_signature_broken(pki, monkeypatch):
    std = pki.std
    real = tls_certs.verify_signature
    for module in (tls_certs, tls_checks):  # signed_by (certs) and the checks call it
        monkeypatch.setattr(module, "verify_signature",
                            lambda child, parent: "boom" if child is parent else real(child, parent))
    report = run(pki, pki.pem(std["leaf"], std["inter"], std["root"]))
    assert any("claims to be self-signed" in c.message for c in failed(report))


def test_verify_signature_reports_name_mismatch(pki):
    std = pki.std
    assert tls_certs.verify_signature(std["leaf"], std["inter"]) is None
    assert tls_certs.verify_signature(std["leaf"], std["root"])
    assert tls_certs.signed_by(std["inter"], std["root"])


# --------------------------------------------------------------------------
# trust / missing intermediate / completion
# --------------------------------------------------------------------------


def test_missing_intermediate_names_the_issuer(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"]))
    check = only(report, "trust")
    assert check.status == tls_certs.FAILED
    assert "Missing issuer (intermediate) certificate: Subject 'C = ES, O = Test PKI, CN = Test Intermediate CA'" in (
        check.message)
    assert "UNABLE_TO_VERIFY_LEAF_SIGNATURE" in check.message
    assert "unable to verify the first certificate" in check.message
    assert "Authority Key Identifier" in check.message
    assert "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Troubleshooting, 500 Code Error" in check.message
    assert report.completed_chain_pem is None
    assert only(report, "signature").status == tls_certs.SKIPPED
    assert report.anchor is None


def test_missing_intermediate_completed_from_extra(pki):
    std = pki.std
    unrelated = pki.ca("Unrelated CA", pki.key("other"))
    report = run(pki, pki.pem(std["leaf"]), extra=pki.pem(unrelated, std["root"], std["inter"]))
    check = only(report, "trust")
    assert check.status == tls_certs.WARNING
    assert "completed it with 1 certificate(s) from extra_certificates" in check.message
    assert "'C = ES, O = Test PKI, CN = Test Intermediate CA'" in check.message
    assert "UNABLE_TO_VERIFY_LEAF_SIGNATURE" in check.message
    assert report.valid
    assert report.completed_chain_pem == pki.pem(std["leaf"], std["inter"])
    assert report.ordered_chain_pem == pki.pem(std["leaf"])
    assert [c["source"] for c in report.chain] == ["certificate", "extra_certificates"]
    assert report.added_certificates[0]["subject"].endswith("Test Intermediate CA")
    assert statuses(report, "signature") == [tls_certs.PASSED, tls_certs.PASSED]
    assert statuses(report, "validity") == [tls_certs.PASSED, tls_certs.PASSED]


def test_two_missing_intermediates_completed(pki):
    std = pki.std
    i2_key = pki.key("i2")
    i2 = pki.ca("Second Intermediate", i2_key, issuer=std["inter"], issuer_key=std["inter_key"])
    leaf = pki.server(std["leaf_key"], i2, i2_key)
    report = run(pki, pki.pem(leaf), extra=[pki.pem(std["inter"]), pki.pem(i2)])
    assert report.valid
    assert report.completed_chain_pem == pki.pem(leaf, i2, std["inter"])
    # only the first one available: still incomplete, says what was added
    report = run(pki, pki.pem(leaf), extra=pki.pem(i2))
    check = only(report, "trust")
    assert check.status == tls_certs.FAILED
    assert "completed with 'C = ES, O = Test PKI, CN = Second Intermediate' from extra_certificates, still " \
           "incomplete" in check.message
    assert "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" in check.message
    assert "in extra_certificates" in check.message


def test_missing_issuer_of_an_intermediate(pki):
    std = pki.std
    i2_key = pki.key("i2")
    i2 = pki.ca("Second Intermediate", i2_key, issuer=std["inter"], issuer_key=std["inter_key"])
    leaf = pki.server(std["leaf_key"], i2, i2_key)
    check = only(run(pki, pki.pem(leaf, i2)), "trust")
    assert check.status == tls_certs.FAILED
    assert "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" in check.message
    assert "Subject 'C = ES, O = Test PKI, CN = Test Intermediate CA'" in check.message
    assert check.subject.endswith("Second Intermediate")


def test_root_from_extra_not_added(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]), extra=pki.pem(std["root"]))
    assert only(report, "trust").status == tls_certs.PASSED
    assert report.completed_chain_pem is None


def test_root_in_bundle_is_fine_when_trusted(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"], std["root"]))
    assert report.valid
    assert statuses(report, "signature") == [tls_certs.PASSED] * 3
    assert "self-signed certificate: its signature verifies" in report.by_name("signature")[2].message


def test_root_in_bundle_reissued_with_same_key_is_trusted(pki):
    std = pki.std
    reissued = pki.ca("Test Root CA", std["root_key"], not_before=pki.now - datetime.timedelta(days=10))
    assert reissued != std["root"]
    report = run(pki, pki.pem(std["leaf"], std["inter"], reissued))
    assert only(report, "trust").status == tls_certs.PASSED
    assert report.anchor["fingerprint_sha256"] == tls_certs.describe_certificate(std["root"])["fingerprint_sha256"]


def test_untrusted_root_in_bundle(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"], std["root"]), trust=[])
    check = only(report, "trust")
    assert check.status == tls_certs.FAILED
    assert "SELF_SIGNED_CERT_IN_CHAIN" in check.message and "Test Root CA" in check.message


def test_self_signed_leaf(pki):
    key = pki.key("leaf")
    leaf = pki.cert(DOMAIN, key, sans=[DOMAIN])
    report = run(pki, pki.pem(leaf), private_key_pem=pki.key_pem(key), domain=DOMAIN)
    check = only(report, "trust")
    assert check.status == tls_certs.FAILED
    assert "is self-signed and not in the CA bundle" in check.message
    assert "DEPTH_ZERO_SELF_SIGNED_CERT" in check.message
    assert report.leaf["self_signed"] is True
    # trusted explicitly
    report = run(pki, pki.pem(leaf), trust=pki.pem(leaf), domain=DOMAIN)
    assert report.valid, report.failure_message()
    assert only(report, "signature").status == tls_certs.PASSED
    # not reported as "leaf missing" even if it is CA:TRUE
    ca_leaf = pki.cert(DOMAIN, key, sans=[DOMAIN], ca=True)
    report = run(pki, pki.pem(ca_leaf), trust=pki.pem(ca_leaf))
    assert report.warnings == []


def test_trusted_intermediate_is_an_anchor(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]), trust=pki.pem(std["inter"]))
    assert only(report, "trust").status == tls_certs.PASSED
    assert report.anchor["subject"].endswith("Test Intermediate CA")


def test_default_system_trust_store(pki, monkeypatch, tmp_path):
    std = pki.std
    bundle = tmp_path / "ca-certificates.crt"
    bundle.write_text(pki.pem(std["root"]))
    monkeypatch.setattr(tls_checks, "DEFAULT_CA_BUNDLE_PATHS", (str(tmp_path / "missing.crt"), str(bundle)))
    report = tls_validate.validate_chain(pki.pem(std["leaf"], std["inter"]), now=pki.now)
    check = only(report, "trust")
    assert check.status == tls_certs.PASSED and str(bundle) in check.message
    assert tls_checks.find_default_ca_bundle() == str(bundle)


def test_no_system_trust_store_is_a_warning(pki, monkeypatch, tmp_path):
    std = pki.std
    monkeypatch.setattr(tls_checks, "DEFAULT_CA_BUNDLE_PATHS", (str(tmp_path / "missing.crt"),))
    report = tls_validate.validate_chain(pki.pem(std["leaf"], std["inter"]), now=pki.now)
    check = only(report, "trust")
    assert check.status == tls_certs.WARNING and "no CA bundle found" in check.message
    assert report.valid
    assert tls_checks.load_default_trust() == ([], None)


def test_real_system_store_does_not_trust_test_root(pki):
    if tls_checks.find_default_ca_bundle() is None:
        pytest.skip("no system CA bundle")
    std = pki.std
    report = tls_validate.validate_chain(pki.pem(std["leaf"], std["inter"]), now=pki.now)
    assert only(report, "trust").status == tls_certs.FAILED


def test_empty_trust_list_trusts_nothing(pki):
    std = pki.std
    report = run(pki, pki.pem(std["leaf"], std["inter"]), trust=[])
    assert only(report, "trust").status == tls_certs.FAILED


# --------------------------------------------------------------------------
# validity
# --------------------------------------------------------------------------


def test_expired_leaf(pki):
    std = pki.std
    leaf = pki.server(std["leaf_key"], std["inter"], std["inter_key"],
                      not_before=pki.now - datetime.timedelta(days=400),
                      not_after=pki.now - datetime.timedelta(days=5))
    report = run(pki, pki.pem(leaf, std["inter"]))
    check = report.by_name("validity")[0]
    assert check.status == tls_certs.FAILED and "expired on" in check.message and "(5 days ago)" in check.message
    assert report.leaf["days_to_expiry"] == -5


def test_expired_intermediate(pki):
    std = pki.std
    inter = pki.ca("Test Intermediate CA", std["inter_key"], issuer=std["root"], issuer_key=std["root_key"],
                   not_before=pki.now - datetime.timedelta(days=400),
                   not_after=pki.now - datetime.timedelta(days=1))
    report = run(pki, pki.pem(std["leaf"], inter))
    assert statuses(report, "validity") == [tls_certs.PASSED, tls_certs.FAILED]
    assert report.by_name("validity")[1].subject.endswith("Test Intermediate CA")


def test_not_yet_valid(pki):
    std = pki.std
    leaf = pki.server(std["leaf_key"], std["inter"], std["inter_key"],
                      not_before=pki.now + datetime.timedelta(days=2))
    check = run(pki, pki.pem(leaf, std["inter"])).by_name("validity")[0]
    assert check.status == tls_certs.FAILED and check.message.startswith("not yet valid: valid from")


def test_expiry_warning_threshold(pki):
    std = pki.std
    leaf = pki.server(std["leaf_key"], std["inter"], std["inter_key"], days=10)
    report = run(pki, pki.pem(leaf, std["inter"]))
    check = report.by_name("validity")[0]
    assert check.status == tls_certs.WARNING
    assert "in 10 days (less than 30 days): renew it" in check.message
    assert report.valid and len(report.warnings) == 1
    assert statuses(run(pki, pki.pem(leaf, std["inter"]), warning_days=10), "validity")[0] == tls_certs.PASSED
    assert statuses(run(pki, pki.pem(leaf, std["inter"]), warning_days=0), "validity")[0] == tls_certs.PASSED
    assert statuses(run(pki, pki.pem(leaf, std["inter"]), warning_days=11), "validity")[0] == tls_certs.WARNING


def test_default_now_is_current_time(pki):
    std = pki.std
    report = tls_validate.validate_chain(pki.pem(std["leaf"], std["inter"]), trust=pki.pem(std["root"]))
    assert report.valid


def test_bad_arguments(pki):
    with pytest.raises(ValueError, match="purpose"):
        tls_validate.validate_chain("", purpose="client")
    with pytest.raises(ValueError, match="warning_days"):
        tls_validate.validate_chain("", warning_days=-1)
    with pytest.raises(ValueError, match="status"):
        tls_report.Check("x", "bad", "m")


# --------------------------------------------------------------------------
# hostname
# --------------------------------------------------------------------------


def _leaf_with(pki, sans, **kwargs):
    std = pki.std
    return pki.server(std["leaf_key"], std["inter"], std["inter_key"], sans=sans, **kwargs)


@pytest.mark.parametrize("domain, status", [
    ("a.carto.example", tls_certs.PASSED),
    ("carto.example", tls_certs.FAILED),
    ("a.b.carto.example", tls_certs.FAILED),
])
def test_wildcard_san(pki, domain, status):
    leaf = _leaf_with(pki, ["*.carto.example"])
    check = only(run(pki, pki.pem(leaf, pki.std["inter"]), domain=domain), "hostname")
    assert check.status == status
    if status == tls_certs.PASSED:
        assert "covered by the subjectAltName '*.carto.example'" in check.message
        assert "no CN fallback" in check.message


def test_wildcard_apex_hint(pki):
    leaf = _leaf_with(pki, ["*.carto.example"])
    check = only(run(pki, pki.pem(leaf, pki.std["inter"]), domain="carto.example"), "hostname")
    assert "does not cover the apex 'carto.example'" in check.message
    check = only(run(pki, pki.pem(leaf, pki.std["inter"]), domain="a.b.carto.example"), "hostname")
    assert "not a.b.example.com" in check.message


def test_wrong_san(pki):
    std = pki.std
    check = only(run(pki, pki.pem(std["leaf"], std["inter"]), domain="other.example.com"), "hostname")
    assert check.status == tls_certs.FAILED
    assert "'other.example.com' is not covered by the subjectAltNames of the leaf certificate " \
           "(carto.example.com)" in check.message
    assert "CN is not used" in check.message


def test_no_san_cn_fallback_not_used(pki):
    leaf = _leaf_with(pki, None)
    check = only(run(pki, pki.pem(leaf, pki.std["inter"]), domain=DOMAIN), "hostname")
    assert check.status == tls_certs.FAILED
    assert "has no subjectAltName extension" in check.message
    assert "no CN fallback" in check.message
    assert "even though CN 'carto.example.com' would match" in check.message
    check = only(run(pki, pki.pem(leaf, pki.std["inter"]), domain="x.example.com"), "hostname")
    assert "would match" not in check.message


def test_ip_san(pki):
    std = pki.std
    leaf = pki.cert("ip", std["leaf_key"], issuer=std["inter"], issuer_key=std["inter_key"])
    builder_leaf = (x509.CertificateBuilder().subject_name(leaf.subject).issuer_name(leaf.issuer)
                    .public_key(std["leaf_key"].public_key()).serial_number(1)
                    .not_valid_before(leaf.not_valid_before_utc).not_valid_after(leaf.not_valid_after_utc)
                    .add_extension(x509.SubjectAlternativeName([
                        x509.IPAddress(__import__("ipaddress").ip_address("10.0.0.1")),
                        x509.DNSName("10.0.0.2")]), critical=False))
    from cryptography.hazmat.primitives import hashes
    leaf = builder_leaf.sign(std["inter_key"], hashes.SHA256())
    assert only(run(pki, pki.pem(leaf, std["inter"]), domain="10.0.0.1"), "hostname").status == tls_certs.PASSED
    # an IP is never matched against DNS names
    assert only(run(pki, pki.pem(leaf, std["inter"]), domain="10.0.0.2"), "hostname").status == tls_certs.FAILED
    assert tls_certs.describe_certificate(leaf)["sans"] == ["10.0.0.2", "10.0.0.1"]


def test_no_domain_skips(pki):
    std = pki.std
    assert only(run(pki, pki.pem(std["leaf"], std["inter"])), "hostname").status == tls_certs.SKIPPED


# --------------------------------------------------------------------------
# extended key usage
# --------------------------------------------------------------------------


@pytest.mark.parametrize("eku, status", [
    (None, tls_certs.PASSED),
    ((ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH), tls_certs.PASSED),
    ((ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,), tls_certs.PASSED),
    ((ExtendedKeyUsageOID.CLIENT_AUTH,), tls_certs.FAILED),
    ((ExtendedKeyUsageOID.CODE_SIGNING, x509.ObjectIdentifier("1.2.3.4.5")), tls_certs.FAILED),
])
def test_extended_key_usage(pki, eku, status):
    leaf = _leaf_with(pki, [DOMAIN], eku=eku)
    check = only(run(pki, pki.pem(leaf, pki.std["inter"])), "extended_key_usage")
    assert check.status == status
    if eku is None:
        assert "no extendedKeyUsage extension: any purpose is allowed" in check.message
    if status == tls_certs.FAILED:
        assert "does not allow serverAuth" in check.message


# --------------------------------------------------------------------------
# all failures at once
# --------------------------------------------------------------------------


def test_all_failures_listed_at_once(pki):
    std = pki.std
    leaf = pki.server(std["leaf_key"], std["inter"], std["inter_key"], sans=["other.example"],
                      eku=(ExtendedKeyUsageOID.CLIENT_AUTH,), not_after=pki.now - datetime.timedelta(days=1))
    report = run(pki, pki.pem(leaf), private_key_pem=pki.key_pem(pki.key("other")), domain=DOMAIN)
    names = sorted(c.name for c in failed(report))
    assert names == ["extended_key_usage", "hostname", "private_key_match", "trust", "validity"]
    msg = report.failure_message()
    assert msg.startswith("5 TLS certificate check(s) failed:")
    for i, name in enumerate(("private_key_match", "trust", "validity", "hostname", "extended_key_usage"), 1):
        assert "\n%d. [%s]" % (i, name) in msg


# --------------------------------------------------------------------------
# purpose=ca
# --------------------------------------------------------------------------


def test_ca_purpose_root(pki):
    std = pki.std
    report = tls_validate.validate_chain(pki.pem(std["root"]), purpose="ca", now=pki.now)
    assert report.valid
    check = only(report, "ca_basic_constraints")
    assert check.status == tls_certs.PASSED and "root" in check.message
    assert only(report, "signature").status == tls_certs.PASSED
    assert only(report, "validity").status == tls_certs.PASSED
    assert report.leaf is None and report.purpose == "ca"
    assert report.ordered_chain_pem == pki.pem(std["root"])
    names = set(c.name for c in report.checks)
    assert not names & {"trust", "chain_order", "hostname", "extended_key_usage"}


def test_ca_purpose_bundle_of_unrelated_cas(pki):
    std = pki.std
    other = pki.ca("Other Root", pki.key("other"))
    report = tls_validate.validate_chain(pki.pem(std["root"], other, std["inter"], std["root"]), purpose="ca", now=pki.now)
    assert report.valid, report.failure_message()
    assert statuses(report, "ca_basic_constraints") == [tls_certs.WARNING, tls_certs.PASSED, tls_certs.PASSED, tls_certs.PASSED]
    assert "intermediate" in report.by_name("ca_basic_constraints")[3].message
    assert len(report.chain) == 3


def test_ca_purpose_non_ca(pki):
    std = pki.std
    report = tls_validate.validate_chain(pki.pem(std["leaf"]), purpose="ca", now=pki.now)
    check = only(report, "ca_basic_constraints")
    assert check.status == tls_certs.FAILED
    assert "not a CA certificate" in check.message and "sslCA / tlsCA" in check.message
    assert "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Configure Postgres SSL with custom CA" in check.message
    assert not report.valid


def test_ca_purpose_self_signed_server_cert_is_a_warning(pki):
    key = pki.key("leaf")
    cert = pki.cert("postgres.internal", key, sans=["postgres.internal"], basic_constraints=False)
    report = tls_validate.validate_chain(pki.pem(cert), purpose="ca", now=pki.now)
    assert report.valid
    assert only(report, "ca_basic_constraints").status == tls_certs.WARNING


def test_ca_purpose_expired_and_ignored_inputs(pki):
    key = pki.key("root")
    old = pki.ca("Old Root", key, not_before=pki.now - datetime.timedelta(days=900),
                 not_after=pki.now - datetime.timedelta(days=30))
    report = tls_validate.validate_chain(pki.pem(old), purpose="ca", now=pki.now, private_key_pem="x", domain=DOMAIN)
    assert only(report, "validity").status == tls_certs.FAILED
    assert only(report, "private_key").status == tls_certs.SKIPPED
    assert only(report, "hostname").status == tls_certs.SKIPPED


def test_ca_purpose_broken_self_signature(pki, monkeypatch):
    std = pki.std
    for module in (tls_certs, tls_checks):  # signed_by (certs) and the checks call it
        monkeypatch.setattr(module, "verify_signature", lambda child, parent: "boom")
    report = tls_validate.validate_chain(pki.pem(std["root"]), purpose="ca", now=pki.now)
    assert only(report, "signature").status == tls_certs.FAILED


def test_check_cryptography(monkeypatch):
    assert tls_certs.check_cryptography() is None
    monkeypatch.setattr(tls_certs, "CRYPTOGRAPHY_VERSION", "41.0.7")
    assert "cryptography >= 42.0.0 is required, found 41.0.7" == tls_certs.check_cryptography()
    monkeypatch.setattr(tls_certs, "HAS_CRYPTOGRAPHY", False)
    assert "is required" in tls_certs.check_cryptography()
