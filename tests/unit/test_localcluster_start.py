"""Unit tests of the local cluster's start retry (tools/localcluster/cluster.py start): a port taken between
choosing it and binding it restarts the control plane with new ports; any other failure is raised at once."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools" / "localcluster"))

import cluster  # noqa: E402


def _fake_start(monkeypatch, tmp_path, failures):
    """cluster._start_once that fails with the given component logs ({name: text}) once per item of ``failures``."""
    monkeypatch.setenv("CARTO_LOCALCLUSTER_DIR", str(tmp_path))
    calls = []

    def start_once(nodes, fresh, loadbalancer):
        calls.append(sorted(p.name for p in (tmp_path / "logs").glob("*.log")) if (tmp_path / "logs").is_dir() else [])
        if len(calls) <= len(failures):
            (tmp_path / "logs").mkdir(exist_ok=True)
            for name, text in failures[len(calls) - 1].items():
                (tmp_path / "logs" / (name + ".log")).write_text(text)
            raise SystemExit("kwok exited while waiting for 3 kwok nodes Ready")
        return tmp_path / "kubeconfig"

    monkeypatch.setattr(cluster, "_start_once", start_once)
    return calls


def test_a_port_taken_before_binding_starts_again_with_the_old_logs_gone(monkeypatch, tmp_path):
    taken = {"kwok": "listen tcp 127.0.0.1:40411: bind: address already in use\n", "etcd": "ok\n"}
    calls = _fake_start(monkeypatch, tmp_path, [taken])
    assert cluster.start(nodes=1) == tmp_path / "kubeconfig"
    assert calls == [[], []]  # the second attempt does not see the first one's logs


def test_any_other_failure_is_raised_at_once(monkeypatch, tmp_path):
    calls = _fake_start(monkeypatch, tmp_path, [{"kube-apiserver": "invalid flag --foo\n"}])
    with pytest.raises(SystemExit, match="kwok exited"):
        cluster.start(nodes=1)
    assert len(calls) == 1


def test_the_last_attempt_raises(monkeypatch, tmp_path):
    taken = {"etcd": "bind: address already in use"}
    calls = _fake_start(monkeypatch, tmp_path, [taken, taken, taken])
    with pytest.raises(SystemExit):
        cluster.start(nodes=1, attempts=3)
    assert len(calls) == 3
