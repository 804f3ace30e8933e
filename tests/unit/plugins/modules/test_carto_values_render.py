# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Tests of the carto_values_render module through main() (a bare module run; the action plugin has its own)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.carto.selfhosted.plugins.modules import carto_values_render

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
EXAMPLES_DIR = os.path.normpath(os.path.join(ROOT, "..", "shared", "carto-chart", "customizations-examples"))
OVERRIDES = "inventory variable carto_values_overrides"


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            carto_values_render.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def options(tmp_path, **extra):
    """The options of a run: package files (empty maps), the domain, customizations.yaml under tmp_path/out."""
    package = tmp_path / "package"
    package.mkdir(exist_ok=True)
    for name in ("carto-values.yaml", "carto-secrets.yaml"):
        (package / name).write_text("{}\n")
    args = {"package_values_file": str(package / "carto-values.yaml"),
            "package_secrets_file": str(package / "carto-secrets.yaml"),
            "customizations": {"domain": "carto.example.com"},
            "customizations_path": str(tmp_path / "out" / "customizations.yaml")}
    args.update(extra)
    return args


def test_valid_sources_exit_ok_in_helm_order(capsys, tmp_path):
    custom = tmp_path / "custom.yaml"
    custom.write_text("router:\n  service:\n    type: LoadBalancer\n    annotations:\n"
                      "      service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout: \"605\"\n")
    args = options(tmp_path, customization_files=[str(custom)], _ansible_check_mode=True)
    code, result, _raw = run(args, capsys)
    assert code == 0, result
    assert result["changed"] is True and not (tmp_path / "out").exists()  # check mode writes nothing
    assert result["errors"] == [] and result["problems"] == []
    assert result["chart"] == "carto 1.287.1"
    assert result["files"] == [args["package_values_file"], args["package_secrets_file"],
                               args["customizations_path"], str(custom)]
    assert result["sources"][:4] == result["files"]
    assert result["merged_values_redacted"]["router"]["service"]["type"] == "LoadBalancer"
    assert result["merged_values_redacted"]["appConfigValues"]["selfHostedDomain"] == "carto.example.com"
    assert "merged_values" not in result  # a bare module run leaves the secret merge out


def test_all_errors_in_msg_one_per_line(capsys, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(carto_values_render.AnsibleModule, "warn",
                        lambda self, warning, **kwargs: shown.append(warning))
    custom = tmp_path / "custom.yaml"
    custom.write_text("appConfigValue:\n  x: 1\ninternalPostgresql:\n  enabled: false\nexternalPostgresql:\n"
                      "  adminUser: postgres\n  password: carto-pass\n  adminPassword: admin-pass\n"
                      "  port: 5432\n")
    code, result, _raw = run(options(tmp_path, customization_files=[str(custom)]), capsys)
    assert code == 1
    assert result["failed"] is True
    lines = result["msg"].splitlines()
    assert lines[0].startswith("Helm values validation failed with %d error(s)" % len(result["errors"]))
    assert len(lines) == 1 + len(result["errors"]) >= 4
    assert any(line.startswith("%s:1: appConfigValue: unknown key" % custom) and
               "did you mean 'appConfigValues'" in line for line in lines)
    assert any(line.startswith("%s:9: externalPostgresql.port: " % custom) and ". Fix: " in line
               for line in lines)
    assert any(": externalPostgresql.host: " in line for line in lines)
    # structured returns
    assert set(p["severity"] for p in result["errors"]) == {"error"}
    assert [w["rule"] for w in result["validation_warnings"]] == ["inline-secret", "inline-secret"]
    # warnings are also shown as Ansible warnings
    assert any(w.startswith("%s:8: externalPostgresql.adminPassword: secret value written inline" % custom)
               for w in shown)
    # customizations.yaml was written all the same: the operator can open every file the errors name
    assert (tmp_path / "out" / "customizations.yaml").is_file()


def test_secrets_never_returned(capsys, tmp_path):
    overrides = {"appSecrets": {"googleMapsApiKey": {"value": "AIzaSuperSecretValue42"}},
                 "externalPostgresql": {"adminPassword": "pg-super-secret-pw"}}
    customizations = {"domain": "carto.example.com", "external_redis": {"host": "r", "password": "redis-Secret-77"}}
    code, result, raw = run(options(tmp_path, overrides=overrides, customizations=customizations), capsys)
    assert code == 0, result
    for secret in ("AIzaSuperSecretValue42", "pg-super-secret-pw", "redis-Secret-77"):
        assert secret not in raw
        assert secret not in (tmp_path / "out" / "customizations.yaml").read_text()
    assert result["merged_values_redacted"]["appSecrets"]["googleMapsApiKey"]["value"] == "<redacted>"
    assert "merged_values" not in result


def test_strict_and_existing_secrets(capsys, tmp_path):
    content = {"internalPostgresql": {"enabled": False},
               "externalPostgresql": {"host": "db", "adminUser": "postgres", "existingSecret": "pg",
                                      "existingSecretPasswordKey": "carto-password",
                                      "existingSecretAdminPasswordKey": "admin-password", "port": "5432"},
               "mapsApi": {"replicaCount": 2, "autoscaling": {"enabled": True}}}
    base = options(tmp_path, overrides=content)
    code, result, _raw = run(base, capsys)
    assert code == 0 and [w["rule"] for w in result["validation_warnings"]] == ["scaling-both"]
    assert result["referenced_secrets"][0]["name"] == "pg"
    assert result["referenced_secrets"][0]["keys"] == ["carto-password", "admin-password"]

    code, result, _raw = run(dict(base, strict=True), capsys)
    assert code == 1 and "%s: mapsApi.replicaCount:" % OVERRIDES in result["msg"]

    code, result, _raw = run(dict(base, existing_secrets={"pg": ["carto-password"]}), capsys)
    assert code == 1
    assert [p["rule"] for p in result["missing_secrets"]] == ["secret-key-missing"]
    assert "Secret 'pg' has no key 'admin-password'" in result["msg"]

    code, result, _raw = run(dict(base, existing_secrets={"pg": ["carto-password", "admin-password"]}), capsys)
    assert code == 0 and result["missing_secrets"] == []


def test_duplicate_keys_in_a_customization_file(capsys, tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text("appConfigValues:\n  selfHostedDomain: a.example.com\nappConfigValues:\n  httpCacheEnabled: true\n")
    code, result, _raw = run(options(tmp_path, customization_files=[str(dup)]), capsys)
    assert code == 1
    assert "%s:3: appConfigValues: duplicate key 'appConfigValues' at line 3, already defined at line 1" % dup \
        in result["msg"]


def test_domain_required_and_tls_terminated_in_front(capsys, tmp_path):
    overrides = {"tlsCerts": {"httpsEnabled": False}}
    code, result, _raw = run(options(tmp_path, customizations={}, overrides=overrides), capsys)
    assert code == 1
    # the domain is reported once, as the inventory variable that sets it
    assert [(p["source"], p["rule"]) for p in result["errors"]] == [
        ("inventory variable carto_domain", "structured-domain"), (OVERRIDES, "https-disabled")]
    code, result, _raw = run(options(tmp_path, overrides=overrides), capsys)
    assert [p["rule"] for p in result["errors"]] == ["https-disabled"]
    # carto_tls.external_termination: TLS ends in front of the router, which allows httpsEnabled=false
    customizations = {"domain": "carto.example.com", "tls": {"mode": "disabled", "external_termination": True}}
    code, result, _raw = run(options(tmp_path, customizations=customizations, overrides=overrides), capsys)
    assert code == 0, result


def test_unknown_customizations_key_fails_naming_the_keys(capsys, tmp_path):
    code, result, _raw = run(options(tmp_path, customizations={"domain": "carto.example.com", "bogus": {}}), capsys)
    assert code == 1
    assert result["msg"].startswith("Invalid value of option customizations: unknown key(s) bogus; the keys are domain")


def test_structured_problems_name_the_variable_and_cover_the_chart_keys(capsys, tmp_path):
    args = options(tmp_path, customizations={"domain": "https://carto.example.com/"}, package_secrets_file="")
    code, result, _raw = run(args, capsys)
    assert code == 1
    assert [(p["source"], p["path"], p["rule"]) for p in result["errors"]] == [
        ("inventory variable carto_package_secrets_file", "", "package-file"),
        ("inventory variable carto_domain", "appConfigValues.selfHostedDomain", "structured-domain")]
    # the domain written to customizations.yaml is not reported a second time
    assert args["customizations_path"] not in [p["source"] for p in result["errors"]]
    assert "carto-secrets.yaml" in result["errors"][0]["fix"]
    # the prefix names the variables
    code, result, _raw = run(dict(args, variable_prefix="values_"), capsys)
    assert "inventory variable values_domain" in [p["source"] for p in result["errors"]]


def test_missing_input_files_are_problems_of_the_same_list(capsys, tmp_path):
    customizations = {"domain": "carto.example.com",
                      "tls": {"mode": "existing_secret", "certificate_file": str(tmp_path / "no.crt"),
                              "private_key_file": str(tmp_path / "no.key")}}
    args = options(tmp_path, customizations=customizations, customization_files=[str(tmp_path / "no.yaml")])
    code, result, _raw = run(args, capsys)
    assert code == 1
    variables = [p["path"] for p in result["errors"] if p["rule"] == "input-file"]
    assert sorted(variables) == ["carto_customization_files[0]", "carto_tls.certificate_file",
                                 "carto_tls.private_key_file"], result["errors"]


def test_custom_schema_option(capsys, tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                                  "additionalProperties": False, "x-carto-chart": {"name": "mini", "version": "1"},
                                  "properties": {"appConfigValues": {"type": "object", "properties": {
                                      "selfHostedDomain": {"type": "string", "default": ""}}}}}))
    code, result, _raw = run(options(tmp_path, overrides={"router": {}}, schema=str(schema)), capsys)
    assert code == 1 and result["chart"] == "mini 1"
    assert result["errors"][0]["path"] == "router" and result["errors"][0]["rule"] == "unknown-key"


@pytest.mark.skipif(not os.path.isdir(EXAMPLES_DIR), reason="CARTO's example customizations of carto/carto 1.287.1 "
                    "(beside the repository as ../shared in CI) are not available")
def test_carto_examples_through_the_module(capsys, tmp_path):
    folder = os.path.join(EXAMPLES_DIR, "ingress", "gke")
    for name in sorted(os.listdir(folder)):
        code, result, _raw = run(options(tmp_path, customization_files=[os.path.join(folder, name)]), capsys)
        assert code == 0, result["msg"]


def _options(options, sub_key):
    """{name: type, required, default, elements[, options]} of a doc's options (sub_key "suboptions") or of an
    argument spec (sub_key "options"), to compare the two."""
    out = {}
    for name, spec in options.items():
        entry = {"type": spec.get("type", "str"), "required": spec.get("required", False),
                 "default": spec.get("default"), "elements": spec.get("elements")}
        if sub_key in spec:
            entry["options"] = _options(spec[sub_key], sub_key)
        out[name] = entry
    return out


def test_documentation_matches_argument_spec():
    doc = yaml.safe_load(carto_values_render.DOCUMENTATION)
    assert doc["module"] == "carto_values_render" and doc["version_added"] == "0.1.0"
    assert doc["short_description"] and doc["author"]
    assert doc["extends_documentation_fragment"] == ["carto.selfhosted.cluster"]
    from ansible_collections.carto.selfhosted.plugins.doc_fragments.cluster import ModuleDocFragment
    options = dict(doc["options"], **yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    assert _options(options, "suboptions") == _options(carto_values_render.ARGUMENT_SPEC, "options")
    yaml.safe_load(carto_values_render.EXAMPLES)
    returned = yaml.safe_load(carto_values_render.RETURN)
    assert {"merged_values", "files", "managed_secrets", "problems", "errors", "validation_warnings", "referenced_secrets",
            "merged_values_redacted", "missing_secrets", "msg"} <= set(returned)


def _customizations_text(domain="carto.example.com"):
    """What customizations.yaml holds for the domain alone (the chart's router and TLS defaults made explicit)."""
    return yaml.safe_dump({"appConfigValues": {"selfHostedDomain": domain}, "router": {"service": {"type": "ClusterIP"}},
                           "tlsCerts": {"autoGenerate": True, "httpsEnabled": True}}, indent=2,
                          default_flow_style=False)


def test_write_creates_the_file_0600_in_a_0700_directory_then_is_idempotent(capsys, tmp_path):
    args = options(tmp_path)
    target = tmp_path / "out" / "customizations.yaml"
    code, result, _raw = run(args, capsys)
    assert code == 0 and result["changed"] is True and result["written"] == str(target)
    assert target.read_text() == _customizations_text()
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert oct(target.parent.stat().st_mode & 0o777) == "0o700"
    assert [p.name for p in target.parent.iterdir()] == ["customizations.yaml"]  # no temporary file left
    code, again, _raw = run(args, capsys)
    assert code == 0 and again["changed"] is False and again["written"] is None


def test_write_fixes_the_mode_and_check_mode_writes_nothing(capsys, tmp_path):
    target = tmp_path / "customizations.yaml"
    target.write_text(_customizations_text())
    target.chmod(0o644)
    args = options(tmp_path, customizations_path=str(target))
    code, result, _raw = run(dict(args, _ansible_check_mode=True), capsys)
    assert code == 0 and result["changed"] is True
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    code, result, _raw = run(args, capsys)
    assert result["changed"] is True and oct(target.stat().st_mode & 0o777) == "0o600"
    fresh = tmp_path / "new" / "customizations.yaml"
    code, result, _raw = run(dict(args, customizations_path=str(fresh), _ansible_check_mode=True), capsys)
    assert result["changed"] is True and not fresh.parent.exists()


def test_write_diff_redacts_secrets_and_the_file_is_written_even_when_invalid(capsys, tmp_path):
    target = tmp_path / "customizations.yaml"
    target.write_text("externalRedis:\n  host: redis\n  password: old-Secret-1\n")
    args = options(tmp_path, customizations_path=str(target), overrides={"appConfigValue": {}}, _ansible_diff=True)
    code, result, raw = run(args, capsys)
    assert code == 1 and "appConfigValue: unknown key" in result["msg"]
    assert target.read_text() == _customizations_text()  # the operator can open the file the errors name
    assert "old-Secret-1" not in raw
    assert "host: redis" in result["diff"]["before"] and "selfHostedDomain" in result["diff"]["after"]


def test_write_to_an_unwritable_place_names_the_fix(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, result, _raw = run(options(tmp_path, customizations_path=str(blocker / "sub" / "c.yaml")), capsys)
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


def _secret_refs(tmp_path, **extra):
    """Options whose overrides make the chart read the Secret carto-redis (key password), which no role creates."""
    return options(tmp_path, overrides={
        "internalRedis": {"enabled": False},
        "externalRedis": {"host": "redis.internal", "existingSecret": "carto-redis",
                          "existingSecretPasswordKey": "password"}}, **extra)


def test_secrets_namespace_lists_names_and_keys_only(capsys, tmp_path, monkeypatch):
    from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

    client = _FakeClient(items=[{"metadata": {"name": "carto-redis"},
                                 "data": {"password": "c2VjcmV0LXZhbHVlLTk4Nw=="}}])
    monkeypatch.setattr(cluster_client, "api_client", lambda params: client)
    code, result, raw = run(_secret_refs(tmp_path, secrets_namespace="carto"), capsys)
    assert code == 0, result
    assert client.paths == [("GET", "/api/v1/namespaces/carto/secrets")]
    assert result["missing_secrets"] == []
    assert "c2VjcmV0LXZhbHVlLTk4Nw" not in raw


def test_secrets_namespace_reports_a_missing_key_and_merges_with_existing_secrets(capsys, tmp_path, monkeypatch):
    from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

    client = _FakeClient(items=[{"metadata": {"name": "carto-redis"}, "data": {"other": "eA=="}}])
    monkeypatch.setattr(cluster_client, "api_client", lambda params: client)
    code, result, _raw = run(_secret_refs(tmp_path, secrets_namespace="carto"), capsys)
    assert code == 1 and "carto-redis" in result["msg"] and "password" in result["msg"]
    # The play creates the key later (existing_secrets): merged with what the cluster has, it passes.
    code, result, _raw = run(_secret_refs(tmp_path, secrets_namespace="carto",
                                          existing_secrets={"carto-redis": ["password"]}), capsys)
    assert code == 0, result


def test_secrets_namespace_unreachable_cluster_names_the_fix(capsys, tmp_path, monkeypatch):
    from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

    client = _FakeClient(error=ConnectionRefusedError("[Errno 111] Connection refused"))
    monkeypatch.setattr(cluster_client, "api_client", lambda params: client)
    code, result, _raw = run(_secret_refs(tmp_path, secrets_namespace="carto"), capsys)
    assert code == 1
    assert result["msg"].startswith("Could not list the Secrets of namespace carto: [Errno 111] Connection refused")
    assert "carto_kubeconfig" in result["msg"] and "values_check_secrets=false" in result["msg"]


def test_secrets_namespace_is_not_read_when_the_play_creates_every_referenced_secret(capsys, tmp_path, monkeypatch):
    from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

    client = _FakeClient(error=AssertionError("the cluster must not be read"))
    monkeypatch.setattr(cluster_client, "api_client", lambda params: client)
    code, result, _raw = run(_secret_refs(tmp_path, secrets_namespace="carto",
                                          existing_secrets={"carto-redis": ["password"]}), capsys)
    assert code == 0, result
    assert client.paths == []
    code, result, _raw = run(options(tmp_path, secrets_namespace="carto"), capsys)
    assert code == 0 and client.paths == []  # no Secret referenced at all
    # a Secret the secrets role creates for the structured variables (carto_external_redis.password) counts too
    customizations = {"domain": "carto.example.com", "external_redis": {"host": "r", "password": "Redis-pw-1234"}}
    code, result, _raw = run(options(tmp_path, customizations=customizations, secrets_namespace="carto"), capsys)
    assert code == 0 and client.paths == [], result
    assert result["managed_secrets"] and result["managed_secrets"] == [r["name"] for r in result["referenced_secrets"]]
