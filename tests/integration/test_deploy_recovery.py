"""carto.selfhosted.deploy on the local control plane: recovery of stuck releases, automatic
rollback, the release lock, idempotence, check mode and diff-mode redaction (issue #5).

Source: https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md "Helm upgrade fails: another operation
(install/upgrade/rollback) is in progress"; https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes "Install CARTO".
"""

import atexit
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

# The deploy subset (@pytest.mark.deploy), also run on the oldest tested ansible-core with Helm 3 (tools/dev.py
# test: pytest -m deploy): the tests whose path depends on the Helm major or the ansible-core version (Helm's
# reaction to SIGTERM, its release storage, rollback, recovery, install/uninstall). The classification of
# Kubernetes' reasons is the same on both and runs once, on the current stack.

REPO = pathlib.Path(__file__).resolve().parents[2]
NOT_READY = {"mapsApi": {"podAnnotations": {"carto.selfhosted/test-not-ready": "true"}}}
# Short lock so that a killed run blocks the next one for seconds, not a minute.
FAST = {"deploy_lock_duration": 6, "deploy_lock_wait_timeout": 120}


def _flat(text):
    """Output with whitespace collapsed (the YAML callback wraps long messages)."""
    return " ".join(text.split())


def _history(cluster, namespace):
    proc = cluster.helm("history", "carto", "-n", namespace, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else []


def _status(cluster, namespace):
    history = _history(cluster, namespace)
    return history[-1] if history else None


def _values(cluster, namespace):
    return json.loads(cluster.helm("get", "values", "carto", "-n", namespace, "-o", "json").stdout)


_SHORT_DIRS = []


def _short_alias(path):
    """``path`` through a short symlink, for TMPDIR: ansible-core 2.21 puts the AF_UNIX socket of its local RPC server
    under $TMPDIR (``pymp-*/listener-*``), and a socket path over 107 bytes fails every run after 5 s with "Local RPC
    server did not start"; a test's tmp_path alone is about 75 bytes. The links go when the worker exits."""
    if not _SHORT_DIRS:
        _SHORT_DIRS.append(tempfile.mkdtemp(prefix="carto-tmp-"))
        atexit.register(shutil.rmtree, _SHORT_DIRS[0], True)
    link = os.path.join(_SHORT_DIRS[0], uuid.uuid4().hex[:8])
    os.symlink(str(path), link)
    return link


def _start_playbook(cluster, extra_vars, log, tmpdir):
    argv = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "playbooks/install.yml",
            "-i", "inventories/local", "-e", json.dumps(extra_vars)]
    # A SIGKILLed module cannot remove its AnsiballZ payload directory: keep it under the test's tmp_path.
    tmpdir.mkdir(exist_ok=True)
    return subprocess.Popen(argv, cwd=str(REPO), env=dict(cluster.env, TMPDIR=_short_alias(tmpdir)), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _process_tree(root):
    """``root`` and all its descendants (Ansible runs modules in their own sessions, so killpg is not enough)."""
    parents = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def _sigkill_tree(root):
    tree = _process_tree(root)
    for pid in tree:  # stop them all first so none reacts to the others dying
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            pass
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return tree


def _kill_when_pending(cluster, namespace, extra_vars, tmp_path, wanted):
    """Start install.yml, wait until the release shows ``wanted``, SIGKILL the run and its helm child."""
    with open(tmp_path / "killed.log", "w") as log:
        proc = _start_playbook(cluster, extra_vars, log, tmp_path / "tmp")
        deadline = time.time() + 240
        try:
            while time.time() < deadline:
                status = _status(cluster, namespace)
                if status and status["status"] == wanted:
                    break
                assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-4000:]
                time.sleep(0.5)
            else:
                pytest.fail("release never reached %s" % wanted)
            killed = _sigkill_tree(proc.pid)
            assert len(killed) > 2, killed  # ansible-playbook, its workers, the module and helm
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    time.sleep(1)
    assert _status(cluster, namespace)["status"] == wanted


@pytest.mark.deploy
def test_killed_upgrade_left_pending_is_recovered_then_upgraded(local_cluster, base_vars, namespace, tmp_path, helm):
    base_vars = dict(base_vars, carto_helm_binary=helm[1])
    first = local_cluster.run_playbook("playbooks/install.yml", dict(base_vars, **FAST))
    assert first.rc == 0, str(first)
    # An upgrade whose pods never become Ready: helm waits, and the run is killed meanwhile.
    _kill_when_pending(local_cluster, namespace, dict(base_vars, carto_values_overrides=NOT_READY, **FAST),
                       tmp_path, "pending-upgrade")

    again = local_cluster.run_playbook("playbooks/install.yml", dict(
        base_vars, carto_values_overrides={"mapsApi": {"podAnnotations": {"example.com/touched": "yes"}}}, **FAST))
    assert again.rc == 0, str(again)
    assert "was killed" in _flat(again.output), str(again)
    out = _flat(again.output)
    assert "was left pending-upgrade" in out and "rolled back to revision 1" in out, str(again)
    statuses = [(h["revision"], h["status"]) for h in _history(local_cluster, namespace)]
    # 1 install, 2 the killed upgrade (kept in the history), 3 the rollback, 4 the new upgrade.
    assert statuses[-1] == (4, "deployed"), statuses
    assert statuses[1][0] == 2 and statuses[2][1] == "superseded", statuses
    assert _values(local_cluster, namespace)["mapsApi"]["podAnnotations"] == {"example.com/touched": "yes"}
    # The lock was released.
    assert local_cluster.kubectl("get", "lease", "carto-carto-selfhosted-lock", "-n", namespace,
                                 check=False).returncode != 0


@pytest.mark.deploy
def test_killed_first_install_left_pending_install_is_recovered(local_cluster, base_vars, namespace, tmp_path, helm):
    base_vars = dict(base_vars, carto_helm_binary=helm[1])
    _kill_when_pending(local_cluster, namespace, dict(base_vars, carto_values_overrides=NOT_READY, **FAST),
                       tmp_path, "pending-install")
    again = local_cluster.run_playbook("playbooks/install.yml", dict(base_vars, **FAST))
    assert again.rc == 0, str(again)
    assert "no revision was ever deployed; uninstalled it (history kept)" in _flat(again.output), str(again)
    history = _history(local_cluster, namespace)
    assert history[-1]["status"] == "deployed", history
    assert history[0]["revision"] == 1 and len(history) == 2, history  # the failed first install is kept


@pytest.mark.deploy
def test_upgrade_that_never_becomes_ready_rolls_back_with_report(local_cluster, base_vars, namespace, helm):
    base_vars = dict(base_vars, carto_helm_binary=helm[1])
    first = local_cluster.run_playbook("playbooks/install.yml", base_vars)
    assert first.rc == 0, str(first)
    values_before = _values(local_cluster, namespace)

    broken = local_cluster.run_playbook("playbooks/install.yml", dict(
        base_vars, carto_deploy_timeout=15, carto_values_overrides=NOT_READY))
    assert broken.rc != 0, str(broken)
    out = _flat(broken.output)
    assert "Rolled back to revision 1" in out, str(broken)
    assert "Pods not Ready: carto-maps-api-" in out, str(broken)
    assert "workspace-migrations" in out and "LAST SEEN" in out, str(broken)  # logs + events sections
    statuses = [(h["revision"], h["status"]) for h in _history(local_cluster, namespace)]
    assert statuses == [(1, "superseded"), (2, "failed"), (3, "deployed")], statuses
    assert _values(local_cluster, namespace) == values_before
    assert broken.recap.get("failed") == 1, str(broken)


def test_two_runs_started_together_are_serialised(local_cluster, base_vars, namespace, tmp_path):
    local_cluster.kubectl("create", "namespace", namespace)
    procs = []
    logs = []
    for index in range(2):
        log = open(tmp_path / ("run%d.log" % index), "w")
        logs.append(log)
        procs.append(_start_playbook(local_cluster, dict(base_vars, deploy_lock_wait_timeout=300), log,
                                     tmp_path / ("tmp%d" % index)))
    for proc in procs:
        proc.wait(timeout=600)
    for log in logs:
        log.close()
    outputs = [_flat((tmp_path / ("run%d.log" % i)).read_text()) for i in range(2)]
    codes = [p.returncode for p in procs]
    assert codes == [0, 0], outputs
    # Exactly one run installed; the other waited for the lock then found nothing to change.
    assert sorted("installed or upgraded: new install" in o for o in outputs) == [False, True], outputs
    assert any("no change: chart and values are the same" in o for o in outputs), outputs
    history = _history(local_cluster, namespace)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "deployed")], history


def test_busy_lock_fails_cleanly_before_any_change(local_cluster, base_vars, namespace):
    local_cluster.kubectl("create", "namespace", namespace)
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "carto-carto-selfhosted-lock", "namespace": namespace},
             "spec": {"holderIdentity": "other-operator-run", "leaseDurationSeconds": 600,
                      "acquireTime": now, "renewTime": now}}
    local_cluster.kubectl("apply", "-f", "-", stdin=json.dumps(lease))
    result = local_cluster.run_playbook("playbooks/install.yml", dict(base_vars, deploy_lock_wait_timeout=3))
    assert result.rc != 0, str(result)
    assert "is locked by other-operator-run" in _flat(result.output), str(result)
    assert _history(local_cluster, namespace) == []
    lease_now = local_cluster.get_json("lease", "carto-carto-selfhosted-lock", "-n", namespace)
    assert lease_now["spec"]["holderIdentity"] == "other-operator-run"


def test_idempotence_check_mode_and_redacted_diff(local_cluster, base_vars, namespace, helm):
    base_vars = dict(base_vars, carto_helm_binary=helm[1])
    secret = "Sup3r-S3cret-Redis-Pw"
    extra = dict(base_vars, carto_external_redis={"host": "redis.example.internal", "password": secret})
    first = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert first.rc == 0, str(first)
    second = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert second.rc == 0 and second.recap["changed"] == 0, str(second)
    assert "no change: chart and values are the same" in _flat(second.output)
    assert [h["revision"] for h in _history(local_cluster, namespace)] == [1]

    changed = dict(extra, carto_values_overrides={"mapsApi": {"podAnnotations": {"example.com/checked": "yes"}},
                                                  "appSecrets": {"googleMapsApiKey": {"value": "AIza-" + secret}}})
    check = local_cluster.run_playbook("playbooks/install.yml", changed, args=("--check", "--diff", "-vvv"))
    assert check.rc == 0, str(check)
    assert "would be installed or upgraded: values changed" in _flat(check.output), str(check)
    assert "example.com/checked: ''yes''" in _flat(check.output), str(check)  # the redacted diff
    assert "Secret values changed (not shown): appSecrets.googleMapsApiKey.value" in _flat(check.output), str(check)
    for text in (check.output, _flat(check.output), first.output, second.output):
        assert secret not in text, "a secret value reached the output"
    assert [h["revision"] for h in _history(local_cluster, namespace)] == [1]  # check mode changed nothing
    assert "example.com/checked" not in json.dumps(_values(local_cluster, namespace))
