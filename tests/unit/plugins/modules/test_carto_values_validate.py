# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Tests of the carto_values_validate module through main()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.carto.selfhosted.plugins.modules import carto_values_validate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
EXAMPLES_DIR = os.path.normpath(os.path.join(ROOT, "..", "shared", "carto-chart", "customizations-examples"))
DOMAIN = {"name": "carto_domain", "content": {"appConfigValues": {"selfHostedDomain": "carto.example.com"}}}


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            carto_values_validate.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def test_valid_sources_exit_ok(capsys, tmp_path):
    custom = tmp_path / "customizations.yaml"
    custom.write_text("router:\n  service:\n    type: LoadBalancer\n    annotations:\n"
                      "      service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout: \"605\"\n")
    code, result, _raw = run({"sources": [DOMAIN, {"path": str(custom)}], "_ansible_check_mode": True}, capsys)
    assert code == 0
    assert result["changed"] is False
    assert result["errors"] == [] and result["problems"] == []
    assert result["chart"] == "carto 1.287.1"
    assert result["sources"] == ["carto_domain", str(custom)]
    assert result["merged_values_redacted"]["router"]["service"]["type"] == "LoadBalancer"


def test_all_errors_in_msg_one_per_line(capsys, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(carto_values_validate.AnsibleModule, "warn",
                        lambda self, warning, **kwargs: shown.append(warning))
    custom = tmp_path / "customizations.yaml"
    custom.write_text("appConfigValue:\n  x: 1\ninternalPostgresql:\n  enabled: false\nexternalPostgresql:\n"
                      "  adminUser: postgres\n  password: carto-pass\n  adminPassword: admin-pass\n"
                      "  port: 5432\n")
    code, result, _raw = run({"sources": [DOMAIN, {"name": "customizations.yaml", "path": str(custom)}]}, capsys)
    assert code == 1
    assert result["failed"] is True
    lines = result["msg"].splitlines()
    assert lines[0].startswith("Helm values validation failed with %d error(s)" % len(result["errors"]))
    assert len(lines) == 1 + len(result["errors"]) >= 4
    assert any(line.startswith("customizations.yaml:1: appConfigValue: unknown key") and
               "did you mean 'appConfigValues'" in line for line in lines)
    assert any(line.startswith("customizations.yaml:9: externalPostgresql.port: ") and ". Fix: " in line
               for line in lines)
    assert any(": externalPostgresql.host: " in line for line in lines)
    # structured returns
    assert set(p["severity"] for p in result["errors"]) == {"error"}
    assert [w["rule"] for w in result["validation_warnings"]] == ["inline-secret", "inline-secret"]
    # warnings are also shown as Ansible warnings
    assert any(w.startswith("customizations.yaml:8: externalPostgresql.adminPassword: secret value written inline")
               for w in shown)


def test_secrets_never_returned(capsys):
    content = ("appSecrets:\n  googleMapsApiKey:\n    value: AIzaSuperSecretValue42\n"
               "externalPostgresql:\n  adminPassword: pg-super-secret-pw\n")
    code, result, raw = run({"sources": [DOMAIN, {"name": "secrets", "content": content}]}, capsys)
    assert code == 0
    assert "AIzaSuperSecretValue42" not in raw and "pg-super-secret-pw" not in raw
    assert result["merged_values_redacted"]["appSecrets"]["googleMapsApiKey"]["value"] == "<redacted>"
    assert "merged_values" not in result


def test_strict_and_existing_secrets(capsys):
    content = {"internalPostgresql": {"enabled": False},
               "externalPostgresql": {"host": "db", "adminUser": "postgres", "existingSecret": "pg",
                                      "existingSecretPasswordKey": "carto-password",
                                      "existingSecretAdminPasswordKey": "admin-password", "port": "5432"},
               "mapsApi": {"replicaCount": 2, "autoscaling": {"enabled": True}}}
    sources = [DOMAIN, {"name": "carto_values_overrides", "content": content}]
    code, result, _raw = run({"sources": sources}, capsys)
    assert code == 0 and [w["rule"] for w in result["validation_warnings"]] == ["scaling-both"]
    assert result["referenced_secrets"][0]["name"] == "pg"
    assert result["referenced_secrets"][0]["keys"] == ["carto-password", "admin-password"]

    code, result, _raw = run({"sources": sources, "strict": True}, capsys)
    assert code == 1 and "carto_values_overrides: mapsApi.replicaCount:" in result["msg"]

    code, result, _raw = run({"sources": sources, "existing_secrets": {"pg": ["carto-password"]}}, capsys)
    assert code == 1
    assert [p["rule"] for p in result["missing_secrets"]] == ["secret-key-missing"]
    assert "Secret 'pg' has no key 'admin-password'" in result["msg"]

    code, result, _raw = run({"sources": sources,
                              "existing_secrets": {"pg": ["carto-password", "admin-password"]}}, capsys)
    assert code == 0 and result["missing_secrets"] == []


def test_duplicate_keys_in_yaml_content(capsys):
    content = "appConfigValues:\n  selfHostedDomain: a.example.com\nappConfigValues:\n  httpCacheEnabled: true\n"
    code, result, _raw = run({"sources": [DOMAIN, {"name": "dup", "content": content}]}, capsys)
    assert code == 1
    assert "dup:3: appConfigValues: duplicate key 'appConfigValues' at line 3, already defined at line 1" \
        in result["msg"]


def test_domain_and_tls_options(capsys):
    sources = [{"name": "c", "content": {"tlsCerts": {"httpsEnabled": False}}}]
    code, result, _raw = run({"sources": sources}, capsys)
    assert code == 1
    assert sorted(p["rule"] for p in result["errors"]) == ["domain-required", "https-disabled"]
    code, result, _raw = run({"sources": sources, "domain_required": False, "external_tls_termination": True},
                             capsys)
    assert code == 0


def test_path_and_content_are_exclusive(capsys):
    code, result, _raw = run({"sources": [{"name": "x", "path": "/tmp/a.yaml", "content": {}}]}, capsys)
    assert code == 1 and "mutually exclusive" in result["msg"]


def test_caller_problems_option(capsys):
    """``problems`` (a list of dicts without suboptions: ``message`` is reserved) is checked against PROBLEM_SPEC."""
    covered = {"name": "c", "content": {"router": {"service": {"type": 5}}}}
    structured = {"severity": "error", "source": "inventory variable carto_router", "line": None, "path": "type",
                  "message": "must be LoadBalancer or ClusterIP", "fix": "set carto_router.type", "doc": None,
                  "rule": "structured-router", "covers": ["router.service"], "covers_source": "c"}
    code, result, _raw = run({"sources": [DOMAIN, covered], "problems": [structured]}, capsys)
    assert code == 1
    assert [(p["source"], p["path"], p["rule"]) for p in result["errors"]] == [
        ("inventory variable carto_router", "type", "structured-router")]
    assert "inventory variable carto_router: type: must be LoadBalancer or ClusterIP" in result["msg"]
    # defaults and type conversion as for module options
    code, result, _raw = run({"sources": [DOMAIN], "problems": [{"source": "v", "message": "m", "line": "3",
                                                                "severity": "warning"}]}, capsys)
    assert code == 0
    assert result["validation_warnings"] == [{"severity": "warning", "source": "v", "line": 3, "path": "",
                                              "message": "m", "fix": "", "doc": None, "rule": "caller"}]
    # a problem that does not match fails the module, naming each bad entry
    code, result, _raw = run({"sources": [DOMAIN], "problems": [{"source": "v", "severity": "bogus"},
                                                                {"message": "m", "extra": 1}]}, capsys)
    assert code == 1 and result["msg"].startswith("Invalid value of option problems: ")
    assert "problems[0]: missing required arguments: message" in result["msg"]
    assert "problems[0]: value of severity must be one of: error, warning, got: bogus" in result["msg"]
    assert "problems[1]: missing required arguments: source" in result["msg"]
    assert "problems[1]: unsupported key(s) extra" in result["msg"]


def test_custom_schema_option(capsys, tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                                  "additionalProperties": False, "x-carto-chart": {"name": "mini", "version": "1"},
                                  "properties": {"appConfigValues": {"type": "object", "properties": {
                                      "selfHostedDomain": {"type": "string", "default": ""}}}}}))
    code, result, _raw = run({"sources": [DOMAIN, {"name": "c", "content": {"router": {}}}], "schema": str(schema)},
                             capsys)
    assert code == 1 and result["chart"] == "mini 1"
    assert result["errors"][0]["path"] == "router" and result["errors"][0]["rule"] == "unknown-key"


@pytest.mark.skipif(not os.path.isdir(EXAMPLES_DIR), reason="CARTO's example customizations of carto/carto 1.287.1 "
                    "(beside the repository as ../shared in CI) are not available")
def test_carto_examples_through_the_module(capsys):
    folder = os.path.join(EXAMPLES_DIR, "ingress", "gke")
    for name in sorted(os.listdir(folder)):
        code, result, _raw = run({"sources": [DOMAIN, {"path": os.path.join(folder, name)}]}, capsys)
        assert code == 0, result["msg"]


def _doc_options(options):
    out = {}
    for name, spec in options.items():
        entry = {"type": spec.get("type", "str"), "required": spec.get("required", False),
                 "default": spec.get("default"), "elements": spec.get("elements")}
        if "suboptions" in spec:
            entry["options"] = _doc_options(spec["suboptions"])
        out[name] = entry
    return out


def _spec_options(argument_spec):
    out = {}
    for name, spec in argument_spec.items():
        entry = {"type": spec.get("type", "str"), "required": spec.get("required", False),
                 "default": spec.get("default"), "elements": spec.get("elements")}
        if "options" in spec:
            entry["options"] = _spec_options(spec["options"])
        out[name] = entry
    return out


def test_documentation_matches_argument_spec():
    import yaml
    doc = yaml.safe_load(carto_values_validate.DOCUMENTATION)
    assert doc["module"] == "carto_values_validate" and doc["version_added"] == "0.1.0"
    assert doc["short_description"] and doc["author"]
    assert doc["extends_documentation_fragment"] == ["carto.selfhosted.cluster"]
    from ansible_collections.carto.selfhosted.plugins.doc_fragments.cluster import ModuleDocFragment
    options = dict(doc["options"], **yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    assert _doc_options(options) == _spec_options(carto_values_validate.ARGUMENT_SPEC)
    yaml.safe_load(carto_values_validate.EXAMPLES)
    returned = yaml.safe_load(carto_values_validate.RETURN)
    assert {"problems", "errors", "validation_warnings", "referenced_secrets", "merged_values_redacted",
            "missing_secrets", "msg"} <= set(returned)


def test_write_creates_the_file_0600_in_a_0700_directory_then_is_idempotent(capsys, tmp_path):
    text = "appConfigValues:\n  selfHostedDomain: carto.example.com\n"
    target = tmp_path / "out" / "customizations.yaml"
    args = {"sources": [{"name": str(target), "content": text}], "write": {"path": str(target), "content": text}}
    code, result, _raw = run(args, capsys)
    assert code == 0 and result["changed"] is True and result["written"] == str(target)
    assert target.read_text() == text
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert oct(target.parent.stat().st_mode & 0o777) == "0o700"
    assert [p.name for p in target.parent.iterdir()] == ["customizations.yaml"]  # no temporary file left
    code, again, _raw = run(args, capsys)
    assert code == 0 and again["changed"] is False and again["written"] is None


def test_write_fixes_the_mode_and_check_mode_writes_nothing(capsys, tmp_path):
    text = "appConfigValues:\n  selfHostedDomain: carto.example.com\n"
    target = tmp_path / "customizations.yaml"
    target.write_text(text)
    target.chmod(0o644)
    args = {"sources": [DOMAIN], "write": {"path": str(target), "content": text}}
    code, result, _raw = run(dict(args, _ansible_check_mode=True), capsys)
    assert code == 0 and result["changed"] is True
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    code, result, _raw = run(args, capsys)
    assert result["changed"] is True and oct(target.stat().st_mode & 0o777) == "0o600"
    fresh = tmp_path / "new" / "customizations.yaml"
    code, result, _raw = run({"sources": [DOMAIN], "write": {"path": str(fresh), "content": text},
                              "_ansible_check_mode": True}, capsys)
    assert result["changed"] is True and not fresh.parent.exists()


def test_write_diff_redacts_secrets_and_the_file_is_written_even_when_invalid(capsys, tmp_path):
    before = "externalRedis:\n  host: redis\n  password: old-Secret-1\n"
    after = "externalRedis:\n  host: redis\n  password: new-Secret-2\nappConfigValue: {}\n"
    target = tmp_path / "customizations.yaml"
    target.write_text(before)
    code, result, raw = run({"sources": [DOMAIN, {"name": str(target), "content": after}],
                             "write": {"path": str(target), "content": after}, "_ansible_diff": True}, capsys)
    assert code == 1 and "appConfigValue: unknown key" in result["msg"]
    assert target.read_text() == after  # the operator can open the file the errors name
    assert "old-Secret-1" not in raw and "new-Secret-2" not in raw
    assert "host: redis" in result["diff"]["after"] and "appConfigValue" in result["diff"]["after"]


def test_write_to_an_unwritable_place_names_the_fix(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, result, _raw = run({"sources": [DOMAIN], "write": {"path": str(blocker / "sub" / "c.yaml"),
                                                             "content": "a: 1\n"}}, capsys)
    assert code == 1 and result["msg"].startswith("Could not write %s" % (blocker / "sub" / "c.yaml"))
    assert "carto_output_dir" in result["msg"]


class _FakeResponse(object):
    def __init__(self, data):
        self.data = data


class _FakeClient(object):
    def __init__(self, items=None, error=None):
        self.items, self.error, self.paths = items or [], error, []

    def call_api(self, path, method, **kwargs):
        self.paths.append((method, path))
        if self.error:
            raise self.error
        return _FakeResponse(json.dumps({"items": self.items}).encode())


def _secret_refs_source():
    return {"name": "customizations.yaml", "content": {
        "appConfigValues": {"selfHostedDomain": "carto.example.com"},
        "internalRedis": {"enabled": False},
        "externalRedis": {"host": "redis.internal", "existingSecret": "carto-redis",
                          "existingSecretPasswordKey": "password"}}}


def test_secrets_namespace_lists_names_and_keys_only(capsys, monkeypatch):
    from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

    client = _FakeClient(items=[{"metadata": {"name": "carto-redis"},
                                 "data": {"password": "c2VjcmV0LXZhbHVlLTk4Nw=="}}])
    monkeypatch.setattr(cluster_client, "api_client", lambda params: client)
    code, result, raw = run({"sources": [_secret_refs_source()], "secrets_namespace": "carto"}, capsys)
    assert code == 0, result
    assert client.paths == [("GET", "/api/v1/namespaces/carto/secrets")]
    assert result["missing_secrets"] == []
    assert "c2VjcmV0LXZhbHVlLTk4Nw" not in raw


def test_secrets_namespace_reports_a_missing_key_and_merges_with_existing_secrets(capsys, monkeypatch):
    from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

    client = _FakeClient(items=[{"metadata": {"name": "carto-redis"}, "data": {"other": "eA=="}}])
    monkeypatch.setattr(cluster_client, "api_client", lambda params: client)
    code, result, _raw = run({"sources": [_secret_refs_source()], "secrets_namespace": "carto"}, capsys)
    assert code == 1 and "carto-redis" in result["msg"] and "password" in result["msg"]
    # The play creates the key later (existing_secrets): merged with what the cluster has, it passes.
    code, result, _raw = run({"sources": [_secret_refs_source()], "secrets_namespace": "carto",
                              "existing_secrets": {"carto-redis": ["password"]}}, capsys)
    assert code == 0, result


def test_secrets_namespace_unreachable_cluster_names_the_fix(capsys, monkeypatch):
    from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

    client = _FakeClient(error=ConnectionRefusedError("[Errno 111] Connection refused"))
    monkeypatch.setattr(cluster_client, "api_client", lambda params: client)
    code, result, _raw = run({"sources": [_secret_refs_source()], "secrets_namespace": "carto"}, capsys)
    assert code == 1
    assert result["msg"].startswith("Could not list the Secrets of namespace carto: [Errno 111] Connection refused")
    assert "carto_kubeconfig" in result["msg"] and "values_check_secrets=false" in result["msg"]


def test_secrets_namespace_is_not_read_when_the_play_creates_every_referenced_secret(capsys, monkeypatch):
    from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

    client = _FakeClient(error=AssertionError("the cluster must not be read"))
    monkeypatch.setattr(cluster_client, "api_client", lambda params: client)
    code, result, _raw = run({"sources": [_secret_refs_source()], "secrets_namespace": "carto",
                              "existing_secrets": {"carto-redis": ["password"]}}, capsys)
    assert code == 0, result
    assert client.paths == []
    code, result, _raw = run({"sources": [DOMAIN], "secrets_namespace": "carto"}, capsys)
    assert code == 0 and client.paths == []  # no Secret referenced at all
