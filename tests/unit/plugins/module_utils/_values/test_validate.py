# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Unit tests of the values validation core (plugins/module_utils/_values/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import importlib.util
import json
import os

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils._values import loader as values_loader
from ansible_collections.carto.selfhosted.plugins.module_utils._values import merge as values_merge
from ansible_collections.carto.selfhosted.plugins.module_utils._values import problems as values_problems
from ansible_collections.carto.selfhosted.plugins.module_utils._values import schema as values_schema
from ansible_collections.carto.selfhosted.plugins.module_utils._values import secrets as values_secrets
from ansible_collections.carto.selfhosted.plugins.module_utils._values import validate as values_validate
from case_headers import read_headers  # tests/tools, on sys.path (tests/conftest.py)

# Module-scoped fixtures (one cluster setup or artifact for the whole file): keep the file on one
# xdist worker (--dist loadgroup); the other tests are spread one by one.
pytestmark = pytest.mark.xdist_group("carto_values")


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
CHART_VALUES = os.path.join(SHARED, "carto-chart", "values.yaml")
EXAMPLES_DIR = os.path.join(SHARED, "carto-chart", "customizations-examples")
EXAMPLES = sorted(glob.glob(os.path.join(EXAMPLES_DIR, "**", "*.yaml"), recursive=True))
BAD_DIR = os.path.join(ROOT, "tests", "fixtures", "bad_values")
BAD_FILES = sorted(glob.glob(os.path.join(BAD_DIR, "*.yaml")))
DOMAIN = {"name": "carto_domain", "content": {"appConfigValues": {"selfHostedDomain": "carto.example.com"}}}

needs_chart = pytest.mark.skipif(not os.path.exists(CHART_VALUES), reason="CARTO's chart carto/carto 1.287.1 "
                                 "(beside the repository as ../shared in CI) is not available")


@pytest.fixture(scope="module")
def schema():
    return values_schema.load_schema()


def _generator():
    path = os.path.join(ROOT, "tools", "gen_values_schema.py")
    spec = importlib.util.spec_from_file_location("gen_values_schema", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def _headers(path):
    return read_headers(path)


# ---------------------------------------------------------------------------
# CARTO's own examples must validate
# ---------------------------------------------------------------------------

@needs_chart
def test_examples_found():
    assert len(EXAMPLES) >= 14


@needs_chart
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: os.path.relpath(p, EXAMPLES_DIR))
def test_carto_examples_validate_without_errors(example):
    result = values_validate.validate_sources([DOMAIN, {"name": example, "path": example}])
    assert result["errors"] == [], values_problems.format_problems(result["errors"])
    assert result["ok"] is True


@needs_chart
def test_examples_combined_warn_about_static_and_autoscaling():
    folder = os.path.join(EXAMPLES_DIR, "high_availability", "standard")
    specs = [DOMAIN] + [{"name": n, "path": os.path.join(folder, n)}
                        for n in ("customizations.yaml", "development.yaml", "autoscaling.yaml")]
    result = values_validate.validate_sources(specs)
    assert result["errors"] == []
    scaling = [w for w in result["warnings"] if w["rule"] == "scaling-both"]
    assert sorted(w["path"] for w in scaling) == sorted(
        "%s.replicaCount" % c for c in ("accountsWww", "importApi", "ldsApi", "mapsApi", "router",
                                        "workspaceApi", "workspaceWww"))
    # provenance: replicaCount comes from development.yaml, with its line
    assert all(w["source"] == "development.yaml" and w["line"] for w in scaling)


# ---------------------------------------------------------------------------
# the corpus of bad inputs
# ---------------------------------------------------------------------------

def test_corpus_size():
    assert len(BAD_FILES) >= 40
    assert all("expect" in _headers(path) and "rule" in _headers(path) for path in BAD_FILES)


@pytest.mark.parametrize("bad", BAD_FILES, ids=os.path.basename)
def test_bad_values_are_rejected_naming_the_key(bad):
    headers = _headers(bad)
    name = os.path.basename(bad)
    specs = [] if headers.get("domain") == "none" else [DOMAIN]
    specs.append({"name": name, "path": bad})
    existing = json.loads(headers["existing_secrets"]) if "existing_secrets" in headers else None
    severity = headers.get("severity", "error")
    result = values_validate.validate_sources(specs, existing_secrets=existing)
    matching = [p for p in result["problems"]
                if p["path"] == headers["expect"] and p["rule"] == headers["rule"]]
    assert matching, "no %s problem at %s in:\n%s" % (headers["rule"], headers["expect"],
                                                      values_problems.format_problems(result["problems"]))
    problem = matching[0]
    assert problem["severity"] == severity
    # provenance names the file (a key no source sets is blamed on the merged values)
    source = values_problems.MERGED_SOURCE if headers.get("domain") == "none" else name
    assert problem["source"] == source
    text = values_problems.format_problem(problem)
    assert text.startswith(source)
    assert ": %s: " % headers["expect"] in text
    assert ". Fix: " in text and problem["fix"] and problem["doc"]
    assert problem["doc"].split("#")[0] in (
        "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md",
        "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster",
        "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes")
    if severity == "error":
        assert result["ok"] is False
    else:
        # strict mode turns the warning into an error
        strict = values_validate.validate_sources(specs, existing_secrets=existing, strict=True)
        assert strict["ok"] is False
        assert any(p["path"] == headers["expect"] and p["severity"] == "error" for p in strict["errors"])


# ---------------------------------------------------------------------------
# YAML loading
# ---------------------------------------------------------------------------

def test_duplicate_keys_report_both_lines():
    text = "appConfigValues:\n  selfHostedDomain: a.example.com\nrouter:\n  replicaCount: 1\n" \
           "appConfigValues:\n  httpCacheEnabled: true\n"
    data, problems, lines = values_loader.load_yaml_text(text, "dup.yaml")
    assert data["appConfigValues"] == {"httpCacheEnabled": True}  # Helm keeps the last one
    assert len(problems) == 1
    problem = problems[0]
    assert problem["path"] == "appConfigValues" and problem["rule"] == "duplicate-key"
    assert problem["line"] == 5
    assert "line 5" in problem["message"] and "line 1" in problem["message"]
    assert lines[("router", "replicaCount")] == 4


def test_duplicate_nested_and_list_item_keys():
    text = ("router:\n  extraEnvVars:\n    - name: A\n      value: '1'\n      name: B\n"
            "externalRedis:\n  host: a\n  host: b\n")
    _data, problems, _lines = values_loader.load_yaml_text(text, "dup.yaml")
    paths = sorted(p["path"] for p in problems)
    assert paths == ["externalRedis.host", "router.extraEnvVars[0].name"]
    redis = [p for p in problems if p["path"] == "externalRedis.host"][0]
    assert "line 8" in redis["message"] and "line 7" in redis["message"]


def test_yaml_syntax_error_has_line():
    data, problems, _lines = values_loader.load_yaml_text("a:\n  b: [1, 2\nc: d\n", "broken.yaml")
    assert data is None
    assert problems[0]["rule"] == "yaml-syntax" and problems[0]["line"]


def test_top_level_must_be_a_map():
    data, problems, _lines = values_loader.load_yaml_text("- a\n- b\n", "list.yaml")
    assert data is None and problems[0]["rule"] == "yaml-not-a-map"


def test_empty_document_is_empty_map():
    assert values_loader.load_yaml_text("# only comments\n", "empty.yaml")[0] == {}


def test_unreadable_file(tmp_path):
    data, problems, _lines = values_loader.load_yaml_file(str(tmp_path / "missing.yaml"))
    assert data is None and problems[0]["rule"] == "file-unreadable"


# ---------------------------------------------------------------------------
# merge and provenance
# ---------------------------------------------------------------------------

def test_merge_order_maps_merge_lists_and_scalars_replace():
    first = {"a": {"x": 1, "y": [1, 2], "m": {"k": "v"}}, "s": "first"}
    second = {"a": {"y": [3], "m": {"k2": "v2"}}, "s": "second"}
    merged = values_merge.merge_values([first, second])
    assert merged == {"a": {"x": 1, "y": [3], "m": {"k": "v", "k2": "v2"}}, "s": "second"}
    # inputs untouched
    assert first["a"]["y"] == [1, 2] and "k2" not in first["a"]["m"]
    # order matters
    assert values_merge.merge_values([second, first])["s"] == "first"


def test_merge_null_deletes_and_keep_nulls():
    base = {"a": {"x": 1, "y": 2}, "b": 1}
    override = {"a": {"x": None}, "b": None}
    assert values_merge.merge_values([base, override]) == {"a": {"y": 2}}
    assert values_merge.merge_values([base, override], keep_nulls=True) == {"a": {"x": None, "y": 2}, "b": None}
    # a later source can set the key again
    assert values_merge.merge_values([base, override, {"b": 3}]) == {"a": {"y": 2}, "b": 3}


def test_merge_type_change_replaces():
    assert values_merge.merge_values([{"a": {"x": 1}}, {"a": "scalar"}]) == {"a": "scalar"}
    assert values_merge.merge_values([{"a": "scalar"}, {"a": {"x": 1}}]) == {"a": {"x": 1}}


def test_merge_rejects_non_maps():
    with pytest.raises(values_problems.CartoValuesError):
        values_merge.merge_values([{"a": 1}, ["not", "a", "map"]])


def test_provenance_tracks_last_setter_and_lines():
    first, _p, first_lines = values_loader.load_yaml_text("a:\n  x: 1\n  y: 2\n", "one.yaml")
    second, _p, second_lines = values_loader.load_yaml_text("\n\na:\n  y: 3\n", "two.yaml")
    merged, prov = values_merge.merge_with_provenance([("one.yaml", first, first_lines), ("two.yaml", second, second_lines)])
    assert merged == {"a": {"x": 1, "y": 3}}
    assert prov[("a", "x")] == [("one.yaml", 2)]
    assert prov[("a", "y")][-1] == ("two.yaml", 4)
    # replacing a map by a scalar forgets the old subtree
    merged, prov = values_merge.merge_with_provenance([("one", {"a": {"x": 1}}), ("two", {"a": 5})])
    assert ("a", "x") not in prov and prov[("a",)][-1][0] == "two"


def test_messages_name_the_source_that_set_the_key():
    specs = [DOMAIN,
             {"name": "carto-values.yaml", "content": "externalPostgresql:\n  port: \"5432\"\n"},
             {"name": "customizations.yaml", "content": "router:\n  replicaCount: 1\nexternalPostgresql:\n"
                                                        "  port: 5432\n"},
             {"name": "carto_overrides", "content": {"appConfigValues": {"enableTrackJs": False}}}]
    result = values_validate.validate_sources(specs)
    port = [p for p in result["errors"] if p["path"] == "externalPostgresql.port"][0]
    assert port["source"] == "customizations.yaml" and port["line"] == 4
    typo = [p for p in result["errors"] if p["path"] == "appConfigValues.enableTrackJs"][0]
    assert typo["source"] == "carto_overrides" and typo["line"] is None
    assert "enableTrackJS" in typo["message"]
    assert values_problems.format_problem(typo).startswith("carto_overrides: appConfigValues.enableTrackJs: ")


def test_all_errors_are_reported_at_once():
    text = ("appConfigValue: {}\nexternalPostgres: {}\nmapsApi:\n  replicaCount: 'two'\n"
            "tlsCerts:\n  autoGenerate: false\n")
    result = values_validate.validate_sources([DOMAIN, {"name": "c.yaml", "content": text}])
    paths = set(p["path"] for p in result["errors"])
    assert {"appConfigValue", "externalPostgres", "mapsApi.replicaCount", "tlsCerts.existingSecret.name"} <= paths


# ---------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------

def test_bundled_schema_metadata(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["x-carto-chart"]["version"] == "1.287.1"
    assert "1.287.1" in schema["title"] and "1.287.1" in schema["$comment"]
    assert values_schema.chart_label(schema) == "carto 1.287.1"


def test_schema_shapes(schema):
    props = schema["properties"]
    assert schema["additionalProperties"] is False
    assert props["appConfigValues"]["additionalProperties"] is False
    assert props["appConfigValues"]["properties"]["selfHostedDomain"]["type"] == "string"
    assert "description" in props["appConfigValues"]["properties"]["selfHostedDomain"]
    assert props["externalPostgresql"]["properties"]["port"]["type"] == ["integer", "string"]
    router = props["router"]["properties"]
    assert router["service"]["properties"]["annotations"]["additionalProperties"] == {"type": ["string", "null"]}
    assert router["affinity"]["type"] == "object" and "additionalProperties" not in router["affinity"]
    assert router["resources"]["additionalProperties"] is True
    assert router["tolerations"]["type"] == "array"
    assert props["internalPostgresql"]["additionalProperties"] is True
    assert "maxUnavailable" in router["podDisruptionBudget"]["properties"]


@needs_chart
def test_schema_defaults_rebuild_chart_values(schema):
    import yaml
    with open(CHART_VALUES) as handle:
        values = yaml.safe_load(handle)
    assert values_schema.schema_defaults(schema) == values


@needs_chart
def test_generator_is_deterministic_and_bundled_files_are_current(tmp_path):
    gen = _generator()
    first = gen.render_json(gen.generate(CHART_VALUES))
    second = gen.render_json(gen.generate(CHART_VALUES))
    assert first == second
    with open(os.path.join(ROOT, "plugins", "module_utils", "values_schema.json")) as handle:
        assert handle.read() == first
    assert gen.main([CHART_VALUES, "--check"]) == 0
    # the bundled python module carries the same schema
    assert values_schema.load_schema() == json.loads(first)
    # a new chart version gives a new schema
    out = tmp_path / "schema.json"
    assert gen.main([CHART_VALUES, "--chart-version", "9.9.9", "--output", str(out)]) == 0
    other = json.loads(out.read_text())
    assert other["x-carto-chart"]["version"] == "9.9.9" and "9.9.9" in other["title"]
    assert values_schema.chart_label(values_schema.load_schema(str(out))) == "carto 9.9.9"


def test_generator_on_small_chart(tmp_path):
    gen = _generator()
    values = tmp_path / "values.yaml"
    values.write_text("## @param comp.replicaCount Number of replicas\ncomp:\n  replicaCount: 1\n"
                      "  annotations: {}\n  nothing:\n  name: \"\"\n  list: []\n  resources:\n    limits: {}\n")
    (tmp_path / "Chart.yaml").write_text("name: mini\nversion: 0.0.1\nappVersion: '1'\n")
    schema = gen.generate(str(values))
    comp = schema["properties"]["comp"]
    assert comp["additionalProperties"] is False
    assert comp["properties"]["replicaCount"] == {"type": "integer", "default": 1,
                                                  "description": "Number of replicas"}
    assert comp["properties"]["nothing"] == {"default": None}  # null: any type
    assert comp["properties"]["name"]["type"] == ["string", "integer", "number"]
    assert comp["properties"]["list"]["type"] == "array"
    assert comp["properties"]["resources"]["additionalProperties"] is True
    assert schema["title"] == "Helm values of chart mini 0.0.1"


def test_unknown_keys_with_closest_valid_key(schema):
    problems = values_schema.validate_schema({"appConfigValue": {}, "externalPostgres": {}, "router": {"servce": {}}},
                                             schema)
    by_path = dict((p["path"], p) for p in problems)
    assert "did you mean 'appConfigValues'" in by_path["appConfigValue"]["message"]
    assert "did you mean 'externalPostgresql'" in by_path["externalPostgres"]["message"]
    assert "rename 'servce' to 'service'" in by_path["router.servce"]["fix"]
    assert all(p["rule"] == "unknown-key" and p["severity"] == "error" for p in problems)


def test_wrong_types_name_expected_type(schema):
    problems = values_schema.validate_schema({"mapsApi": {"replicaCount": "2", "autoscaling": {"enabled": "yes"}}}, schema)
    by_path = dict((p["path"], p) for p in problems)
    assert "expected integer, got string" in by_path["mapsApi.replicaCount"]["message"]
    assert "without quotes" in by_path["mapsApi.replicaCount"]["fix"]
    assert "expected boolean" in by_path["mapsApi.autoscaling.enabled"]["message"]


def test_null_is_accepted_but_warned_on_sections(schema):
    problems = values_schema.validate_schema({"mapsApi": {"replicaCount": None}, "externalRedis": None}, schema)
    assert [p["rule"] for p in problems] == ["null-section"]
    assert problems[0]["path"] == "externalRedis" and problems[0]["severity"] == "warning"


def test_secret_values_are_not_echoed_in_type_errors(schema):
    problems = values_schema.validate_schema({"externalPostgresql": {"password": ["hunter2-123456789"]}}, schema)
    assert problems and "hunter2" not in values_problems.format_problems(problems)


# ---------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------

def _rules(text, **kwargs):
    specs = [DOMAIN, {"name": "c.yaml", "content": text}]
    return values_validate.validate_sources(specs, **kwargs)


@pytest.mark.parametrize("domain,ok,fix", [
    ("carto.example.com", True, None),
    ("sub.carto-selfhosted.example.co.uk", True, None),
    ("https://carto.example.com/", False, '"carto.example.com"'),
    ("carto.example.com:443", False, '"carto.example.com"'),
    ("http://carto.example.com:8080/x", False, '"carto.example.com"'),
    ("carto .example.com", False, None),
    ("-bad.example.com", False, None),
])
def test_domain_rule(domain, ok, fix):
    result = _rules({"appConfigValues": {"selfHostedDomain": domain}})
    problems = [p for p in result["errors"] if p["path"] == "appConfigValues.selfHostedDomain"]
    assert (not problems) is ok
    if fix:
        assert fix in problems[0]["fix"]


def test_domain_not_required_when_disabled():
    result = values_validate.validate_sources([{"name": "c", "content": {}}], domain_required=False)
    assert result["ok"] is True


def test_https_disabled_allowed_with_tls_offloading_or_declared_front():
    text = ("tlsCerts:\n  httpsEnabled: false\nrouter:\n  service:\n    type: LoadBalancer\n    annotations:\n"
            "      service.beta.kubernetes.io/aws-load-balancer-ssl-cert: arn:aws:acm:eu-west-1:1:certificate/x\n"
            "      service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout: '605'\n")
    assert _rules(text)["ok"] is True
    assert _rules("tlsCerts:\n  httpsEnabled: false\n")["ok"] is False
    assert _rules("tlsCerts:\n  httpsEnabled: false\n", external_tls_termination=True)["ok"] is True


def test_good_external_databases_and_buckets_pass():
    text = """
internalPostgresql: {enabled: false}
externalPostgresql:
  host: db.example.com
  user: "workspace_admin@srv"
  internalUser: workspace_admin
  adminUser: "postgres@srv"
  internalAdminUser: postgres
  existingSecret: pg
  existingSecretPasswordKey: carto-password
  existingSecretAdminPasswordKey: admin-password
  port: "5432"
internalRedis: {enabled: false}
externalRedis:
  host: redis.example.com
  port: "6379"
  existingSecret: redis
  existingSecretPasswordKey: password
appConfigValues:
  storageProvider: azure-blob
  azureStorageAccount: acct
  workspaceImportsBucket: imports
  workspaceImportsPublic: false
  workspaceThumbnailsBucket: thumbs
  workspaceThumbnailsPublic: false
  thumbnailsBucketExternalURL: https://acct.blob.core.windows.net/thumbs/
appSecrets:
  azureStorageAccessKey:
    existingSecret: {name: azure, key: azureStorageAccessKey}
"""
    result = _rules(text, existing_secrets={"pg": ["carto-password", "admin-password"], "redis": ["password"],
                                            "azure": ["azureStorageAccessKey"]})
    assert result["problems"] == [], values_problems.format_problems(result["problems"])
    names = [r["name"] for r in result["referenced_secrets"]]
    assert names == ["azure", "pg", "redis"]


def test_strict_promotes_warnings():
    text = "mapsApi:\n  replicaCount: 2\n  autoscaling:\n    enabled: true\n"
    assert _rules(text)["ok"] is True
    strict = _rules(text, strict=True)
    assert strict["ok"] is False and strict["warnings"] == []
    assert "strict" in strict["errors"][0]["message"]


def test_inline_secret_warnings_can_be_disabled():
    text = {"appSecrets": {"googleMapsApiKey": {"value": "AIzaSyExample"}}}
    assert [p["rule"] for p in _rules(text)["warnings"]] == ["inline-secret"]
    assert _rules(text, warn_inline_secrets=False)["warnings"] == []


# ---------------------------------------------------------------------------
# secrets
# ---------------------------------------------------------------------------

def test_secret_references_only_active_ones(schema):
    values = values_schema.schema_defaults(schema)
    values = values_merge.merge_values([values, {
        "appSecrets": {"googleMapsApiKey": {"existingSecret": {"name": "gmaps", "key": "k"}},
                       "bigqueryOauth2ClientSecret": {"value": "inline",
                                                      "existingSecret": {"name": "ignored", "key": "k"}}},
        "externalPostgresql": {"existingSecret": "pg-not-used", "existingSecretPasswordKey": "p"},
        "tlsCerts": {"autoGenerate": False, "existingSecret": {"name": "tls"}},
        "global": {"imagePullSecrets": ["regcred", {"name": "other"}]},
        "mapsApi": {"extraEnvVarsSecret": "maps-env"},
    }])
    refs = dict((r["name"], r) for r in values_secrets.secret_references(values))
    assert sorted(refs) == ["gmaps", "maps-env", "other", "regcred", "tls"]
    assert refs["gmaps"]["keys"] == ["k"]
    assert refs["gmaps"]["paths"] == ["appSecrets.googleMapsApiKey.existingSecret.name"]
    assert refs["tls"]["keys"] == ["tls.crt", "tls.key"] and refs["tls"]["type"] == "kubernetes.io/tls"
    assert refs["regcred"]["type"] == "kubernetes.io/dockerconfigjson"


def test_check_secret_references():
    refs = [{"name": "pg", "keys": ["a", "b"], "paths": ["externalPostgresql.existingSecret"], "sources": ["f"]}]
    assert values_secrets.check_secret_references(refs, {"pg": ["a", "b", "c"]}) == []
    problems = values_secrets.check_secret_references(refs, {"pg": ["a"]})
    assert [p["rule"] for p in problems] == ["secret-key-missing"] and "'b'" in problems[0]["message"]
    assert values_secrets.check_secret_references(refs, {})[0]["rule"] == "secret-missing"


def test_redaction_and_secret_values():
    values = {
        "appSecrets": {"googleMapsApiKey": {"value": "AIzaKEY", "existingSecret": {"name": "n", "key": "k"}}},
        "externalPostgresql": {"password": "pw-123456", "existingSecret": "pg",
                               "existingSecretPasswordKey": "carto-password", "user": "u", "sslEnabled": True},
        "router": {"tlsCertificates": {"privateKeyValueBase64": "LS0t", "certificateValueBase64": "Q0VSVA=="},
                   "extraEnvVars": [{"name": "API_TOKEN", "value": "tok"}, {"name": "MODE", "value": "x"}]},
        "cartoSecrets": {"jwtApiSecret": {"value": ""}},
    }
    redacted = values_secrets.redact_values(values)
    assert redacted["appSecrets"]["googleMapsApiKey"]["value"] == values_problems.REDACTED
    assert redacted["appSecrets"]["googleMapsApiKey"]["existingSecret"] == {"name": "n", "key": "k"}
    assert redacted["externalPostgresql"]["password"] == values_problems.REDACTED
    assert redacted["externalPostgresql"]["existingSecret"] == "pg"
    assert redacted["externalPostgresql"]["existingSecretPasswordKey"] == "carto-password"
    assert redacted["router"]["tlsCertificates"]["privateKeyValueBase64"] == values_problems.REDACTED
    assert redacted["router"]["tlsCertificates"]["certificateValueBase64"] == "Q0VSVA=="
    assert redacted["router"]["extraEnvVars"][0]["value"] == values_problems.REDACTED
    assert redacted["router"]["extraEnvVars"][1]["value"] == "x"
    assert redacted["cartoSecrets"]["jwtApiSecret"]["value"] == ""
    assert values["externalPostgresql"]["password"] == "pw-123456"  # input untouched
    assert values_secrets.secret_values(values) >= {"AIzaKEY", "pw-123456", "LS0t", "tok"}
    assert "carto-password" not in values_secrets.secret_values(values)


def test_validate_result_never_contains_secrets_in_redacted_copy():
    result = _rules({"appSecrets": {"googleMapsApiKey": {"value": "AIzaSECRETSECRET"}}})
    assert "AIzaSECRETSECRET" not in json.dumps(result["merged_values_redacted"])
    assert "AIzaSECRETSECRET" not in values_problems.format_problems(result["problems"])


def test_format_problem():
    problem = values_problems.make_problem("error", "f.yaml", ("a", "b.c", 0), "bad", "do this", "x.md#y", "r", line=3)
    assert values_problems.format_problem(problem) == 'f.yaml:3: a."b.c"[0]: bad. Fix: do this (see x.md#y)'
