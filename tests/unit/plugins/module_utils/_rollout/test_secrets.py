# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of plugins/module_utils/_rollout/secrets.py: which Secrets each component's pods read, their
checksums in the podAnnotations, and what a rotation rolls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils._rollout import secrets as S
from ansible_collections.carto.selfhosted.plugins.module_utils._helm import ops


def _deployment(name, path=None, spec=None, extra_annotations=None):
    annotations = dict(extra_annotations or {})
    if path is not None:
        annotations[S.MARKER + "0"] = json.dumps(list(path))
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"template": {"metadata": {"annotations": annotations}, "spec": spec or {}}}}


def _secret(name, data, uid="uid-1", kind="Opaque"):
    return {"kind": "Secret", "type": kind, "metadata": {"name": name, "uid": uid}, "data": data}


POD_SPEC = {
    "initContainers": [{"name": "migrations", "env": [
        {"name": "PG", "valueFrom": {"secretKeyRef": {"name": "carto-postgresql", "key": "admin-password"}}}]}],
    "containers": [
        {"name": "app",
         "env": [{"name": "PLAIN", "value": "x"},
                 {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}},
                 {"name": "REDIS", "valueFrom": {"secretKeyRef": {"name": "carto-redis", "key": "password"}}}],
         "envFrom": [{"configMapRef": {"name": "carto-workspace-api"}},
                     {"secretRef": {"name": "carto-workspace-api"}}]},
    ],
    "volumes": [{"name": "key", "secret": {"secretName": "carto-buckets"}},
                {"name": "cm", "configMap": {"name": "x"}},
                {"name": "proj", "projected": {"sources": [{"secret": {"name": "carto-tls"}},
                                                           {"configMap": {"name": "y"}}]}}],
    "imagePullSecrets": [{"name": "pull"}],
}


def test_pod_secret_refs_env_envfrom_volumes_projected_not_pull_secrets():
    assert S.pod_secret_refs(POD_SPEC) == ["carto-buckets", "carto-postgresql", "carto-redis", "carto-tls",
                                           "carto-workspace-api"]
    assert S.pod_secret_refs(None) == []
    assert S.pod_secret_refs({"containers": [{"name": "a", "env": [{"name": "X"}], "envFrom": [{}]}]}) == []


def test_annotation_paths_from_defaults_and_user_values():
    defaults = {"workspaceApi": {"podAnnotations": {}, "image": {"tag": "1"}},
                "router": {"podAnnotations": None},
                "internalPostgresql": {"primary": {"podAnnotations": {}}},
                "appConfigValues": {"selfHostedDomain": "x"},
                "weird": {"podAnnotations": "{{ tpl }}"}}
    user = {"mapsApi": {"podAnnotations": {"a": "b"}}}
    assert S.annotation_paths(defaults, user) == [("internalPostgresql", "primary"), ("mapsApi",), ("router",),
                                                  ("workspaceApi",)]


def test_marker_values_keeps_user_annotations_and_does_not_touch_the_input():
    values = {"mapsApi": {"podAnnotations": {"a": "b"}}, "x": {"podAnnotations": "{{ tpl }}"}}
    out = S.marker_values(values, [("mapsApi",), ("router",), ("x",)])
    assert out["mapsApi"]["podAnnotations"] == {"a": "b", S.MARKER + "0": '["mapsApi"]'}
    assert out["router"]["podAnnotations"] == {S.MARKER + "1": '["router"]'}
    assert out["x"]["podAnnotations"] == "{{ tpl }}"
    assert values == {"mapsApi": {"podAnnotations": {"a": "b"}}, "x": {"podAnnotations": "{{ tpl }}"}}


def test_consumers_maps_workloads_to_values_paths_without_rendered_secrets():
    manifest = [
        {"kind": "Secret", "metadata": {"name": "carto-workspace-api"}},
        _deployment("carto-workspace-api", ("workspaceApi",), POD_SPEC),
        _deployment("carto-plain", ("plain",), {"containers": [{"name": "a"}]}),
        _deployment("carto-nopodann", None, {"containers": [{"name": "a", "envFrom": [
            {"secretRef": {"name": "carto-redis"}}]}]}),
        {"kind": "List", "items": [{"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"template": {
            "metadata": {"annotations": {S.MARKER + "3": '["internalPostgresql", "primary"]',
                                         S.MARKER + "1": '["aaa"]'}},
            "spec": {"volumes": [{"name": "v", "secret": {"secretName": "carto-postgresql"}}]}}}}]},
        {"kind": "Job", "metadata": {"name": "hook"}, "spec": {"template": {"spec": POD_SPEC}}},
    ]
    loads, rendered = S.consumers(manifest)
    assert rendered == ["carto-workspace-api"]
    by_id = dict((load["id"], load) for load in loads)
    assert sorted(by_id) == ["Deployment/carto-nopodann", "Deployment/carto-plain", "Deployment/carto-workspace-api",
                             "StatefulSet/db"]
    assert by_id["Deployment/carto-workspace-api"]["path"] == ("workspaceApi",)
    assert by_id["Deployment/carto-workspace-api"]["secrets"] == ["carto-buckets", "carto-postgresql", "carto-redis",
                                                                  "carto-tls"]
    assert by_id["Deployment/carto-nopodann"]["path"] is None
    assert by_id["StatefulSet/db"]["path"] == ("aaa",)  # several paths feed it: the first one
    assert by_id["Deployment/carto-plain"]["secrets"] == []


def test_consumers_reads_yaml_text():
    text = "---\n# comment\n---\n" + json.dumps(_deployment("d", ("d",), {"containers": [
        {"name": "a", "envFrom": [{"secretRef": {"name": "s"}}]}]}))
    loads, _unused = S.consumers(text)
    assert loads == [{"kind": "Deployment", "name": "d", "id": "Deployment/d", "path": ("d",), "secrets": ["s"]}]


def test_secret_digest_depends_on_data_type_and_uid_never_returns_data():
    base = S.secret_digest(_secret("a", {"user-password": "cDE="}))
    assert len(base) == 64 and "cDE=" not in base
    assert S.secret_digest(_secret("a", {"user-password": "cDE="})) == base
    assert S.secret_digest(_secret("b-other-name", {"user-password": "cDE="})) == base  # the name is in aggregate
    assert S.secret_digest(_secret("a", {"user-password": "cDI="})) != base
    assert S.secret_digest(_secret("a", {"user-password": "cDE="}, uid="uid-2")) != base
    assert S.secret_digest(_secret("a", {"user-password": "cDE="}, kind="kubernetes.io/tls")) != base
    # keyed: not the plain SHA-256 of the data
    import hashlib
    body = json.dumps({"type": "Opaque", "data": {"user-password": "cDE="}}, sort_keys=True, separators=(",", ":"))
    assert base != hashlib.sha256(body.encode()).hexdigest()
    assert S.secret_digest(None) == S.ABSENT


def test_aggregate_and_per_secret_roundtrip():
    assert S.aggregate({"a": "1", "b": "2"}) == S.aggregate({"b": "2", "a": "1"})
    assert S.aggregate({"a": "1", "b": "2"}) != S.aggregate({"a": "1", "b": "3"})
    assert S.parse_per_secret("a=12,b=absent") == {"a": "12", "b": "absent"}
    assert S.parse_per_secret(None) == {} and S.parse_per_secret("junk") == {}


LOADS = [
    {"kind": "Deployment", "name": "carto-workspace-api", "id": "Deployment/carto-workspace-api",
     "path": ("workspaceApi",), "secrets": ["carto-postgresql", "carto-redis"]},
    {"kind": "Deployment", "name": "carto-maps-api", "id": "Deployment/carto-maps-api", "path": ("mapsApi",),
     "secrets": ["carto-postgresql"]},
    {"kind": "Deployment", "name": "carto-router", "id": "Deployment/carto-router", "path": ("router",),
     "secrets": ["carto-tls"]},
    {"kind": "Deployment", "name": "carto-http-cache", "id": "Deployment/carto-http-cache", "path": ("httpCache",),
     "secrets": []},
    {"kind": "Deployment", "name": "carto-odd", "id": "Deployment/carto-odd", "path": None, "secrets": ["carto-tls"]},
]
DIGESTS = {"carto-postgresql": "a" * 64, "carto-redis": "b" * 64, "carto-tls": "c" * 64}


def test_plan_merges_annotations_with_the_users_and_a_new_install_rolls_nothing():
    values = {"mapsApi": {"podAnnotations": {"example.com/x": "y"}, "replicaCount": 2}}
    new, report = S.plan(values, LOADS, DIGESTS, previous=None)
    assert values == {"mapsApi": {"podAnnotations": {"example.com/x": "y"}, "replicaCount": 2}}  # not mutated
    maps = new["mapsApi"]["podAnnotations"]
    assert maps["example.com/x"] == "y" and new["mapsApi"]["replicaCount"] == 2
    assert maps[S.CHECKSUM] == S.aggregate({"carto-postgresql": "a" * 64})
    assert maps[S.PER_SECRET] == "carto-postgresql=" + "a" * 16
    assert new["workspaceApi"]["podAnnotations"][S.PER_SECRET] == "carto-postgresql=%s,carto-redis=%s" % (
        "a" * 16, "b" * 16)
    assert "httpCache" not in new  # reads no Secret: untouched
    assert report["secrets"] == ["carto-postgresql", "carto-redis", "carto-tls"]
    assert report["workloads_rolled"] == [] and report["secrets_changed"] == [] and report["secrets_added"] == []
    assert report["unmanaged"] == ["Deployment/carto-odd"]
    # Only checksums in the report.
    assert "a" * 17 not in json.dumps(report).replace(maps[S.CHECKSUM], "")


def test_plan_same_data_is_a_no_op_rotation_rolls_exactly_the_consumers():
    deployed, _unused = S.plan({}, LOADS, DIGESTS, previous=None)
    again, report = S.plan({}, LOADS, DIGESTS, previous=deployed)
    assert again == deployed and report["workloads_rolled"] == [] and report["secrets_changed"] == []
    rotated = dict(DIGESTS, **{"carto-postgresql": "d" * 64})
    new, report = S.plan({}, LOADS, rotated, previous=deployed)
    assert new != deployed
    assert report["secrets_changed"] == ["carto-postgresql"]
    assert report["workloads_rolled"] == ["Deployment/carto-maps-api", "Deployment/carto-workspace-api"]
    assert new["router"] == deployed["router"]
    assert report["components"]["router"]["changed"] is False
    assert "rolls Deployment/carto-maps-api, Deployment/carto-workspace-api" in S.summary(report)
    assert "Secret data changed: carto-postgresql" in S.summary(report)


def test_plan_first_run_on_an_installed_release_adds_checksums():
    new, report = S.plan({}, LOADS, DIGESTS, previous={"mapsApi": {"podAnnotations": {"example.com/x": "y"}}})
    assert report["secrets_changed"] == []
    assert report["secrets_added"] == ["carto-postgresql", "carto-redis", "carto-tls"]
    assert len(report["workloads_rolled"]) == 3
    assert S.summary(report).startswith("Secret checksums added")


def test_plan_secret_gone_and_tpl_string_annotations():
    deployed, _unused = S.plan({}, LOADS, DIGESTS, previous=None)
    gone = dict(DIGESTS)
    del gone["carto-tls"]
    new, report = S.plan({"router": {"podAnnotations": "{{ .Values.x }}"}}, LOADS, gone, previous=deployed)
    assert report["skipped"] == ["router"] and new["router"]["podAnnotations"] == "{{ .Values.x }}"
    new, report = S.plan({}, LOADS, gone, previous=deployed)
    assert new["router"]["podAnnotations"][S.PER_SECRET] == "carto-tls=absent"
    assert report["secrets_changed"] == ["carto-tls"] and report["workloads_rolled"] == ["Deployment/carto-router"]


class FakeHelm(object):
    namespace = "carto"

    def __init__(self, manifest, defaults="workspaceApi:\n  podAnnotations: {}\n", rc=0):
        self.manifest, self.defaults, self.rc = manifest, defaults, rc
        self.rendered_with = None

    def show_values(self, chart_ref, repo_url=None, version=None):
        return 0, self.defaults, ""

    def template(self, chart_ref, values, repo_url=None, version=None):
        self.rendered_with = values
        return self.rc, self.manifest, "Error: boom" if self.rc else ""


def test_with_checksums_renders_with_markers_and_reads_only_consumed_secrets(monkeypatch):
    read = []

    def fake_read(client, namespace, names):
        read.append((namespace, list(names)))
        return {"carto-postgresql": "e" * 64}

    monkeypatch.setattr(S, "read_digests", fake_read)
    manifest = json.dumps(_deployment("carto-workspace-api", ("workspaceApi",), {"containers": [
        {"name": "a", "envFrom": [{"secretRef": {"name": "carto-postgresql"}}]}]}))
    helm = FakeHelm(manifest)
    values, report = S.with_checksums(helm, None, "chart", None, None, {"mapsApi": {"podAnnotations": {"k": "v"}}},
                                      None)
    assert helm.rendered_with["workspaceApi"]["podAnnotations"] == {S.MARKER + "1": '["workspaceApi"]'}
    assert helm.rendered_with["mapsApi"]["podAnnotations"] == {"k": "v", S.MARKER + "0": '["mapsApi"]'}
    assert read == [("carto", ["carto-postgresql"])]
    assert values["workspaceApi"]["podAnnotations"][S.PER_SECRET] == "carto-postgresql=" + "e" * 16
    assert values["mapsApi"]["podAnnotations"] == {"k": "v"}  # no marker leaks into the values
    with pytest.raises(S.RenderError, match="boom"):
        S.with_checksums(FakeHelm(manifest, rc=1), None, "chart", None, None, {}, None)


def test_upgrade_rolls_on_a_rotated_secret_and_is_a_no_op_otherwise(monkeypatch):
    """helm_release_ops.upgrade with secret_checksums: the checksum is part of the values comparison."""
    digests = {"carto-postgresql": "1" * 64}
    manifest = json.dumps(_deployment("carto-workspace-api", ("workspaceApi",), {"containers": [
        {"name": "a", "envFrom": [{"secretRef": {"name": "carto-postgresql"}}]}]}))

    monkeypatch.setattr(S, "read_digests", lambda client, namespace, names: dict(digests))
    monkeypatch.setattr(ops, "api_client", lambda params: None)

    class Helm(FakeHelm):
        name = "carto"
        version = "v3.22.0"
        commands = []

        def __init__(self, deployed_values):
            FakeHelm.__init__(self, manifest)
            self.deployed_values = deployed_values
            self.upgraded_with = None

        def show_chart(self, *args):
            return {"name": "carto", "version": "1.0.0", "appVersion": "1"}

        def history(self):
            return [{"revision": 1, "status": "deployed", "chart": "carto-1.0.0", "app_version": "1",
                     "updated": "2026-01-01T00:00:00Z"}]

        def values(self):
            return self.deployed_values

        def upgrade(self, chart_ref, values, *args, **kwargs):
            self.upgraded_with = values
            return 0, "", "", None

    params = {"chart_ref": "chart", "chart_repo_url": None, "chart_version": None, "values": {}, "force": False,
              "allow_downgrade": False, "wait": False, "timeout": 60, "history_max": 10, "lock_duration": 60,
              "secret_checksums": True, "diagnostics_selector": None}
    deployed, _unused = S.plan({}, S.consumers(manifest)[0], digests, None)
    same = ops.upgrade(Helm(deployed), params, False, False)
    assert same["changed"] is False and same["secret_rotation"]["workloads_rolled"] == []

    digests["carto-postgresql"] = "2" * 64
    helm = Helm(deployed)
    rotated = ops.upgrade(helm, params, False, False)
    assert rotated["changed"] is True and rotated["upgraded"] is True
    assert rotated["secret_rotation"]["secrets_changed"] == ["carto-postgresql"]
    assert rotated["secret_rotation"]["workloads_rolled"] == ["Deployment/carto-workspace-api"]
    assert rotated["secret_rotation"]["applied"] is True
    assert any(reason.startswith("Secret data changed: carto-postgresql") for reason in rotated["reasons"])
    assert "values changed" not in rotated["reasons"]  # only the checksums differ
    assert helm.upgraded_with["workspaceApi"]["podAnnotations"][S.PER_SECRET] == "carto-postgresql=" + "2" * 16


def test_strip_removes_only_the_checksums():
    deployed, _unused = S.plan({"mapsApi": {"podAnnotations": {"a": "b"}}, "x": {"y": {}}}, LOADS, DIGESTS, previous=None)
    assert S.strip(deployed) == {"mapsApi": {"podAnnotations": {"a": "b"}}, "x": {"y": {}}}
    assert S.strip(None) == {}
