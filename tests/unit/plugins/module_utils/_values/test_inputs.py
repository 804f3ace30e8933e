# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Issue 14 in the values validation: moved keys with the new path, CA certificates of the merged values wherever
they come from, and missing or unreadable input files, all as problems of the one list of a run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.carto.selfhosted.plugins.module_utils._values import problems as values_problems
from ansible_collections.carto.selfhosted.plugins.module_utils._values import schema as values_schema
from ansible_collections.carto.selfhosted.plugins.module_utils._values import secrets as values_secrets
from ansible_collections.carto.selfhosted.plugins.module_utils._values import validate as values_validate
from ansible_collections.carto.selfhosted.plugins.module_utils._customizations import build as cust_build
from ansible_collections.carto.selfhosted.plugins.modules import carto_values_render

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
CHART_VALUES = os.path.normpath(os.path.join(ROOT, "..", "shared", "carto-chart", "values.yaml"))
BAD_INPUTS = os.path.join(ROOT, "tests", "fixtures", "bad_inputs")
DOMAIN = {"name": "carto_domain", "content": {"appConfigValues": {"selfHostedDomain": "carto.example.com"}}}
GARBAGE_CA = "-----BEGIN CERTIFICATE-----\nthis is not base64 DER at all\n-----END CERTIFICATE-----\n"
needs_chart = pytest.mark.skipif(not os.path.exists(CHART_VALUES), reason="CARTO chart values.yaml not beside the "
                                 "checkout (developer and CI machines only)")


@pytest.fixture(scope="module")
def schema():
    return values_schema.load_schema()


def _validate(*sources, **kwargs):
    return values_validate.validate_sources([DOMAIN] + list(sources), warn_inline_secrets=False, **kwargs)


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _by_rule(result, rule):
    return [p for p in result["problems"] if p["rule"] == rule]


# ---------------------------------------------------------------------------
# moved keys and the closest key
# ---------------------------------------------------------------------------

def test_router_ports_of_the_tls_offloading_example_name_the_new_key(tmp_path):
    # CARTO's service_loadBalancer/aws_eks_tls_offloading example as first published (carto-selfhosted-helm #268).
    path = _file(tmp_path, "offloading.yaml", "tlsCerts:\n  httpsEnabled: false\nrouter:\n  service:\n"
                 "    type: LoadBalancer\n    annotations:\n"
                 "      service.beta.kubernetes.io/aws-load-balancer-ssl-cert: arn:aws:acm:x\n"
                 "      service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout: \"605\"\n"
                 "  ports:\n    httpsTargetPort: http\n")
    result = _validate({"path": path})
    moved = _by_rule(result, "moved-key")
    assert len(moved) == 1, values_problems.format_problems(result["problems"])
    problem = moved[0]
    assert problem["severity"] == "error"
    assert problem["source"] == path and problem["line"] == 10
    assert problem["path"] == "router.ports.httpsTargetPort"
    assert "did you mean `router.service.ports.httpsTargetPort`" in problem["message"]
    assert problem["fix"].startswith("move the value to router.service.ports.httpsTargetPort")
    # No generic unknown-key problem on top of it.
    assert not [p for p in result["problems"] if p["rule"] == "unknown-key"]
    text = values_problems.format_problem(problem)
    assert text.startswith("%s:10: router.ports.httpsTargetPort: " % path) and ". Fix: move" in text


def test_every_leaf_below_a_moved_section_is_reported(tmp_path):
    text = "router:\n  ports:\n    http: 80\n    httpsTargetPort: http\n"
    result = _validate({"name": "ports.yaml", "content": text})
    moved = sorted((p["path"], p["line"]) for p in _by_rule(result, "moved-key"))
    assert moved == [("router.ports.http", 3), ("router.ports.httpsTargetPort", 4)]


@pytest.mark.parametrize("old,new", [
    ("appConfigValues.gcpBucketsProjectId", "appConfigValues.googleCloudStorageProjectId"),
    ("appConfigValues.gcsBucketsProjectId", "appConfigValues.googleCloudStorageProjectId"),
    ("appSecrets.gcpBucketsServiceAccountKey.value", "appSecrets.googleCloudStorageServiceAccountKey.value"),
    ("internalRedis.auth.existingSecret", "internalRedis.existingSecret"),
])
def test_renamed_keys_of_earlier_chart_versions(old, new):
    values = {}
    node = values
    parts = old.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = "x"
    result = _validate({"name": "old.yaml", "content": values})
    moved = _by_rule(result, "moved-key")
    assert [p["path"] for p in moved] == [old], values_problems.format_problems(result["problems"])
    assert "did you mean `%s`" % new in moved[0]["message"]


def test_known_moves_point_at_keys_of_the_bundled_chart(schema):
    index = values_schema._key_index(schema)
    paths = set(p for ps in index.values() for p in ps)
    for old, new, why in values_schema.KNOWN_MOVES:
        assert new in paths, "%s -> %s is not a key of the bundled chart" % (old, new)
        assert old not in paths, "%s is still a key of the bundled chart" % (old,)
        assert why and "../shared" not in why


@needs_chart
def test_known_moves_against_the_chart_values_yaml():
    with open(CHART_VALUES) as handle:
        chart = yaml.safe_load(handle)
    for old, new, _why in values_schema.KNOWN_MOVES:
        assert values_secrets._get(chart, list(new)) is not None or new[-1] in (values_secrets._get(chart, list(new[:-1])) or {}), new
        assert values_secrets._get(chart, list(old)) is None, old


def test_closest_key_anywhere_in_the_key_space(schema):
    index = values_schema._key_index(schema)
    assert values_schema.closest_key(("workspaceApi", "ports", "httpsTargetPort"), index) == \
        ("router", "service", "ports", "httpsTargetPort")
    assert values_schema.closest_key(("cartoConfig", "selfHostedDomian"), index) == ("appConfigValues", "selfHostedDomain")
    assert values_schema.closest_key(("zzzzzz",), index) is None


def test_unknown_key_without_a_move_suggests_the_closest_full_path():
    result = _validate({"name": "typo.yaml", "content": "settings:\n  selfHostedDomian: carto.example.com\n"})
    unknown = [p for p in result["errors"] if p["rule"] == "unknown-key"]
    assert len(unknown) == 1
    assert unknown[0]["path"] == "settings"
    assert "did you mean `appConfigValues.selfHostedDomain` for settings.selfHostedDomian" in unknown[0]["message"]
    assert "settings.selfHostedDomian to appConfigValues.selfHostedDomain" in unknown[0]["fix"]


def test_existing_same_level_suggestions_are_kept():
    result = _validate({"name": "x.yaml", "content": "appConfigValue:\n  x: 1\n"})
    assert "did you mean 'appConfigValues'" in result["errors"][0]["message"]


# ---------------------------------------------------------------------------
# CA certificates of the merged values
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("key,enabled", [("externalRedis.tlsCA", "tlsEnabled"),
                                         ("externalPostgresql.sslCA", "sslEnabled")])
def test_garbage_ca_in_a_customization_file_names_the_file_and_key(tmp_path, key, enabled):
    section, leaf = key.split(".")
    text = yaml.safe_dump({section: {enabled: True, leaf: GARBAGE_CA}}, default_style=None)
    path = _file(tmp_path, "ca.yaml", text)
    result = _validate({"path": path})
    found = [p for p in _by_rule(result, "ca-certificate") if p["severity"] == "error"]
    assert len(found) == 1, values_problems.format_problems(result["problems"])
    assert found[0]["source"] == path and found[0]["path"] == key and found[0]["line"]
    assert "is not a usable CA certificate" in found[0]["message"] and "malformed" in found[0]["message"]
    assert found[0]["fix"].startswith("set %s to the PEM text of the CA" % key)


def test_ca_set_by_a_later_source_is_blamed_on_that_source(pki):
    good = {"externalRedis": {"tlsEnabled": True, "tlsCA": pki.pem(pki.std["root"])}}
    bad = {"externalRedis": {"tlsCA": "no certificate here"}}
    result = _validate({"name": "first.yaml", "content": good},
                       {"name": "inventory variable carto_values_overrides", "content": bad})
    found = [p for p in _by_rule(result, "ca-certificate") if p["severity"] == "error"]
    assert [p["source"] for p in found] == ["inventory variable carto_values_overrides"]
    assert "no certificate found" in found[0]["message"]


def test_valid_ca_certificates_pass_and_a_server_certificate_does_not(pki):
    good = {"externalPostgresql": {"sslEnabled": True, "sslCA": pki.pem(pki.std["root"], pki.std["inter"])},
            "externalRedis": {"tlsEnabled": True, "tlsCA": pki.pem(pki.std["root"])}}
    assert _by_rule(_validate({"name": "good.yaml", "content": good}), "ca-certificate") == []
    leaf = {"externalRedis": {"tlsEnabled": True, "tlsCA": pki.pem(pki.std["leaf"])}}
    found = _by_rule(_validate({"name": "leaf.yaml", "content": leaf}), "ca-certificate")
    assert [p["severity"] for p in found] == ["error"]
    assert "not a CA certificate" in found[0]["message"]


def test_ca_without_tls_enabled_is_a_warning(pki):
    values = {"externalRedis": {"tlsCA": pki.pem(pki.std["root"])}}
    found = _by_rule(_validate({"name": "w.yaml", "content": values}), "ca-certificate")
    assert [(p["severity"], p["path"]) for p in found] == [("warning", "externalRedis.tlsCA")]


def test_garbage_ca_of_the_structured_variable_is_reported_once_naming_the_variable():
    spec = {"domain": "carto.example.com",
            "external_redis": {"host": "redis", "password": "pw", "tls_enabled": True, "tls_ca": GARBAGE_CA}}
    built = cust_build.build(spec)
    problems = [p for p in built["problems"] if p["path"] == "tls_ca"]
    assert len(problems) == 1 and "is not a usable CA certificate" in problems[0]["message"]
    assert problems[0]["covers"] == ["externalRedis.tlsCA"]
    extra = [dict(p, covers_source="customizations.yaml") for p in built["problems"]]
    result = values_validate.validate_sources([{"name": "customizations.yaml", "content": built["values"]}],
                                              extra_problems=extra, warn_inline_secrets=False)
    ca = [p for p in result["errors"] if "CA certificate" in p["message"]]
    assert [(p["source"], p["path"]) for p in ca] == [("inventory variable carto_external_redis", "tls_ca")]


# ---------------------------------------------------------------------------
# input files
# ---------------------------------------------------------------------------

def test_missing_unreadable_and_empty_input_files_are_all_reported(tmp_path):
    present = _file(tmp_path, "present.yaml", "a: 1\n")
    empty_cert = _file(tmp_path, "tls.crt", "")
    problems = values_validate.check_input_files([
        {"variable": "carto_package_values_file", "path": str(tmp_path / "nope" / "carto-values.yaml")},
        {"variable": "carto_package_secrets_file", "path": present},
        {"variable": "carto_customization_files[1]", "path": str(tmp_path)},
        {"variable": "carto_tls.certificate_file", "path": empty_cert},
        {"variable": "carto_tls.private_key_file", "path": ""},
    ])
    by_var = dict((p["path"], p) for p in problems)
    assert sorted(by_var) == ["carto_customization_files[1]", "carto_package_values_file",
                              "carto_tls.certificate_file"]
    values = by_var["carto_package_values_file"]
    assert values["source"] == str(tmp_path / "nope" / "carto-values.yaml")
    assert "does not exist on the controller" in values["message"]
    assert "carto-values.yaml of your CARTO installation package" in values["fix"]
    assert values["rule"] == "input-file" and values["severity"] == "error"
    assert "is a directory" in by_var["carto_customization_files[1]"]["message"]
    assert "is empty" in by_var["carto_tls.certificate_file"]["message"]
    assert "PEM file of the TLS certificate" in by_var["carto_tls.certificate_file"]["fix"]
    line = values_problems.format_problem(values)
    assert line.startswith("%s: carto_package_values_file: the file " % values["source"]) and ". Fix: set " in line


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files of any mode")
def test_unreadable_input_file(tmp_path):
    path = _file(tmp_path, "key.pem", "x")
    os.chmod(path, 0)
    try:
        problems = values_validate.check_input_files([{"variable": "carto_tls.private_key_file", "path": path}])
    finally:
        os.chmod(path, 0o600)
    assert len(problems) == 1 and "cannot be read" in problems[0]["message"]


def test_missing_package_file_is_one_error_not_a_demoted_warning(tmp_path):
    missing = str(tmp_path / "carto-values.yaml")
    specs = [{"name": missing, "path": missing, "package": True}, DOMAIN]
    # Without input_files the read error of a package file stays an error.
    alone = values_validate.validate_sources(specs, warn_inline_secrets=False)
    assert [p["rule"] for p in alone["errors"]] == ["file-unreadable"]
    # With input_files it is replaced by the problem naming the variable.
    extra = values_validate.check_input_files([{"variable": "carto_package_values_file", "path": missing}])
    result = values_validate.validate_sources(specs, warn_inline_secrets=False, extra_problems=extra)
    assert [(p["source"], p["path"], p["rule"]) for p in result["errors"]] == \
        [(missing, "carto_package_values_file", "input-file")]


def test_module_reports_input_files_with_the_other_problems(tmp_path, capsys):
    custom = _file(tmp_path, "custom.yaml", "router:\n  ports:\n    httpsTargetPort: http\n")
    missing = str(tmp_path / "missing.yaml")
    package = _file(tmp_path, "carto-values.yaml", "{}\n")
    args = {"package_values_file": package, "package_secrets_file": _file(tmp_path, "carto-secrets.yaml", "{}\n"),
            "customizations": {"domain": "carto.example.com",
                               "tls": {"mode": "existing_secret", "certificate_file": str(tmp_path / "tls.crt"),
                                       "private_key_file": str(tmp_path / "tls.key")}},
            "customizations_path": str(tmp_path / "out" / "customizations.yaml"),
            "customization_files": [custom, missing]}
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            carto_values_render.main()
    result = json.loads(capsys.readouterr().out)
    assert exc.value.code == 1
    rules = sorted((p["rule"], p["path"]) for p in result["errors"])
    assert rules == [("input-file", "carto_customization_files[1]"), ("input-file", "carto_tls.certificate_file"),
                     ("input-file", "carto_tls.private_key_file"), ("moved-key", "router.ports.httpsTargetPort")], \
        result["msg"]
    assert "Helm values validation failed with 4 error(s)" in result["msg"]
    assert "%s: carto_customization_files[1]: the file %s does not exist" % (missing, missing) in result["msg"]


# ---------------------------------------------------------------------------
# the corpus of tests/fixtures/bad_inputs
# ---------------------------------------------------------------------------

def _corpus():
    cases = []
    for name in sorted(os.listdir(BAD_INPUTS)):
        if name.endswith(".yaml"):
            cases.append(name)
    return cases


def _headers(path):
    out = {}
    with open(path) as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            if ":" in line:
                key, _sep, value = line[1:].partition(":")
                out[key.strip()] = value.strip()
    return out


@pytest.mark.parametrize("name", _corpus())
def test_bad_inputs_corpus_file_is_rejected_with_its_expected_text(name):
    path = os.path.join(BAD_INPUTS, name)
    headers = _headers(path)
    assert headers.get("expect"), "%s has no '# expect:' header" % name
    if name.startswith("missing-file-"):
        variables = yaml.safe_load(open(path))
        files = values_validate.input_files(variables)
        problems = values_validate.check_input_files(files)
        text = values_problems.format_problems(problems)
    else:
        result = _validate({"name": path, "path": path})
        text = values_problems.format_problems(result["errors"])
    assert headers["expect"] in text, text
