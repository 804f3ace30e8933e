"""Support bundle redaction and writer (plugins/module_utils/support_bundle.py)."""

import base64
import tarfile

from ansible_collections.carto.selfhosted.plugins.module_utils import _support_bundle as support_bundle


def test_secret_strings_and_scrub():
    secret = {"data": {"password": base64.b64encode(b"s3cr3t-pass!").decode(), "port": base64.b64encode(b"5432").decode()}}
    strings = support_bundle.secret_strings_from_secrets([secret])
    scrub = support_bundle.expand(strings)
    text = "pw=s3cr3t-pass! b64=%s port=5432" % base64.b64encode(b"s3cr3t-pass!").decode()
    out = support_bundle.scrub(text, scrub)
    assert "s3cr3t-pass!" not in out and base64.b64encode(b"s3cr3t-pass!").decode() not in out
    assert "port=5432" in out  # short strings are kept


def test_reduce_secret_keeps_key_names_only():
    reduced = support_bundle.reduce_secret({"metadata": {"name": "s"}, "type": "Opaque", "data": {"k": "dmFsdWU="}})
    assert reduced == {"name": "s", "type": "Opaque", "keys": ["k"], "labels": {}}


def test_redact_env_and_manifest():
    pod = {"spec": {"containers": [{"env": [{"name": "DB_PASSWORD", "value": "hunter22"},
                                            {"name": "LOG_LEVEL", "value": "debug"}]}]}}
    out = support_bundle.redact_env(pod)
    assert out["spec"]["containers"][0]["env"][0]["value"] == support_bundle.REDACTED
    assert out["spec"]["containers"][0]["env"][1]["value"] == "debug"
    manifest = support_bundle.redact_manifest([{"kind": "Secret", "data": {"a": "c2VjcmV0"}}])
    assert manifest[0]["data"] == {"a": support_bundle.REDACTED}


def test_write_bundle(tmp_path):
    path = tmp_path / "b.tar.gz"
    names = support_bundle.write_bundle(str(path), {"a.txt": "token=abcdef123456", "b.json": {"x": 1}},
                                        ["abcdef123456"], top="top")
    assert names == ["a.txt", "b.json"]
    with tarfile.open(str(path)) as tar:
        assert sorted(tar.getnames()) == ["top/a.txt", "top/b.json"]
        assert tar.extractfile("top/a.txt").read() == b"token=[REDACTED]"
