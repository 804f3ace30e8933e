# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Unit tests of plugins/module_utils/_helm/ops.py: recovery and upgrade decisions with a fake helm."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils._helm import ops
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.lease import LockLost


def _ago(seconds):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rev(revision, status, seconds_ago=3600, chart="carto-1.0.0", app_version="1"):
    return {"revision": revision, "status": status, "updated": _ago(seconds_ago), "chart": chart,
            "app_version": app_version}


class FakeHelm(object):
    """Plays helm for one release: a history, deployed values, a chart, scripted upgrade/rollback results."""

    name = "carto"
    namespace = "carto"
    version = "v3.22.0"

    def __init__(self, history, values=None, chart=None, upgrade_rc=0, rollback_rc=0, verdict=None):
        self._history = list(history)
        self._values = values or {}
        self.chart = chart or {"name": "carto", "version": "1.0.0", "appVersion": "1"}
        self.upgrade_rc = upgrade_rc
        self.rollback_rc = rollback_rc
        self.verdict = verdict
        self.watcher = None
        self.commands = []

    def history(self):
        self.commands.append("history")
        return [dict(h) for h in self._history]

    def values(self):
        self.commands.append("get values")
        return dict(self._values)

    def show_chart(self, chart_ref, repo_url=None, version=None):
        self.commands.append("show chart")
        return dict(self.chart)

    def _add(self, status):
        for entry in self._history:
            if entry["status"] == "deployed":
                entry["status"] = "superseded"
        revision = (self._history[-1]["revision"] if self._history else 0) + 1
        self._history.append(_rev(revision, status, 0, "%s-%s" % (self.chart["name"], self.chart["version"]),
                                  self.chart["appVersion"]))

    def upgrade(self, chart_ref, values, repo_url=None, version=None, wait=True, timeout=600, history_max=10,
                tick=None, tick_interval=5.0, watcher=None):
        self.commands.append("upgrade")
        self.watcher = watcher
        if tick:
            tick()
        if self.upgrade_rc == 0:
            self._add("deployed")
            self._values = dict(values)
            return 0, "", "", None
        if self._history:
            self._history[-1]["status"] = "superseded"
        self._add("failed")
        self._history[-1]["description"] = "Upgrade \"carto\" failed: context canceled"
        if self.verdict:
            return 1, "", "Error: context canceled", self.verdict
        return 1, "", "context deadline exceeded", None

    def rollback(self, revision, wait, timeout, history_max):
        self.commands.append("rollback %s" % revision)
        if self.rollback_rc:
            return 1, "", "rollback broke"
        self._history[-1]["status"] = "superseded"
        self._history.append(_rev(self._history[-1]["revision"] + 1, "deployed", 0))
        return 0, "", ""

    def uninstall_keep_history(self, wait, timeout):
        self.commands.append("uninstall")
        self._history[-1]["status"] = "uninstalled"
        return 0, "", ""


PARAMS = dict(chart_ref="carto", chart_repo_url=None, chart_version=None, values={"a": 1}, wait=True,
              timeout=60, history_max=10, allow_downgrade=False, rollback_on_failure=True, force=False,
              diagnostics_selector=None, migrations_container="workspace-migrations", log_lines=10, events_count=5,
              lock_duration=60, rollout_grace=5, rollout_restarts=2, managed_secrets=[])


class FakeWatcher(object):
    """What ops.upgrade needs of a RolloutWatcher: diagnose(), not_ready(), errors, stop(), api_client."""

    api_client = "client"

    def __init__(self, diagnosis=None):
        self.diagnosis = diagnosis
        self.errors = []
        self.stopped = False

    def diagnose(self):
        return self.diagnosis

    def not_ready(self):
        return ["Deployment/carto-router: 0/1 readyReplicas"]

    def stop(self):
        self.stopped = True


@pytest.fixture(autouse=True)
def fake_watcher(monkeypatch):
    """ops.upgrade starts a watcher when it waits; here it gets a fake one (no cluster)."""
    watcher = FakeWatcher()
    monkeypatch.setattr(ops, "start_watcher", lambda params, namespace, selector: watcher)
    return watcher


def _recover(helm, check_mode=False, **kwargs):
    args = dict(pending_timeout=900, orphaned_since=None, wait_timeout=0, poll_interval=0, wait=True, timeout=60,
                history_max=10)
    args.update(kwargs)
    return ops.recover(helm, check_mode=check_mode, sleep=lambda s: None, **args)


def test_recover_leaves_a_deployed_release_alone():
    helm = FakeHelm([_rev(1, "deployed")])
    result = _recover(helm)
    assert (result["action"], result["changed"]) == ("none", False)
    assert helm.commands == ["history"]


def test_recover_rolls_back_an_abandoned_pending_upgrade():
    helm = FakeHelm([_rev(1, "deployed"), _rev(2, "pending-upgrade", 3600)])
    result = _recover(helm)
    assert result["action"] == "rollback" and result["target_revision"] == 1 and result["changed"]
    assert "rolled back to revision 1" in result["report"]
    assert "rollback 1" in helm.commands
    assert result["history"][-1]["status"] == "deployed"


def test_recover_in_check_mode_only_says_so():
    helm = FakeHelm([_rev(1, "deployed"), _rev(2, "pending-upgrade", 3600)])
    result = _recover(helm, check_mode=True)
    assert result["changed"] and result["report"].startswith("would recover")
    assert not [c for c in helm.commands if c.startswith("rollback")]


def test_recover_fails_when_an_operation_is_still_running():
    helm = FakeHelm([_rev(1, "deployed"), _rev(2, "pending-upgrade", 5)])
    with pytest.raises(ops.ReleaseError) as err:
        _recover(helm)
    assert "Waited 0 s (wait_timeout)" in err.value.msg and "Nothing was changed" in err.value.msg
    assert err.value.result["action"] == "wait"


def test_recover_reports_a_failed_rollback():
    helm = FakeHelm([_rev(1, "deployed"), _rev(2, "pending-upgrade", 3600)], rollback_rc=1)
    with pytest.raises(ops.ReleaseError) as err:
        _recover(helm)
    assert "Recovery of release carto in namespace carto failed: helm rollback carto 1" in err.value.msg
    assert "rollback broke" in err.value.msg


def test_upgrade_is_skipped_when_chart_and_values_are_the_same():
    helm = FakeHelm([_rev(1, "deployed")], values={"a": 1})
    result = ops.upgrade(helm, dict(PARAMS), check_mode=False, diff_mode=False)
    assert result["changed"] is False and result["reasons"] == []
    assert "upgrade" not in helm.commands


def test_upgrade_reuses_the_history_read_by_the_recovery():
    helm = FakeHelm([_rev(1, "deployed")], values={"a": 1})
    recovery = _recover(helm)
    ops.upgrade(helm, dict(PARAMS), check_mode=False, diff_mode=False, recovery=recovery)
    assert helm.commands.count("history") == 1


def test_upgrade_runs_on_changed_values_and_names_secrets_without_values():
    helm = FakeHelm([_rev(1, "deployed")], values={"a": 1, "password": "old-secret"})
    params = dict(PARAMS, values={"a": 2, "password": "new-secret"})
    result = ops.upgrade(helm, params, check_mode=False, diff_mode=True)
    assert result["upgraded"] and result["changed"] and result["reasons"] == ["values changed"]
    assert result["secrets_changed"] == ["password"]
    text = "\n".join(result["values_diff"]) + str(result["diff"])
    assert "old-secret" not in text and "new-secret" not in text


def test_upgrade_check_mode_counts_a_planned_recovery_as_a_change():
    helm = FakeHelm([_rev(1, "deployed"), _rev(2, "pending-upgrade", 3600)], values={"a": 1})
    recovery = _recover(helm, check_mode=True)
    result = ops.upgrade(helm, dict(PARAMS), check_mode=True, diff_mode=False, recovery=recovery)
    assert result["changed"] and result["reasons"][0].startswith("would recover")
    assert "upgrade" not in helm.commands


def test_upgrade_refuses_a_pending_release_without_recovery():
    helm = FakeHelm([_rev(1, "deployed"), _rev(2, "pending-upgrade", 3600)])
    with pytest.raises(ops.ReleaseError) as err:
        ops.upgrade(helm, dict(PARAMS), check_mode=False, diff_mode=False)
    assert "is pending-upgrade (revision 2)" in err.value.msg


def test_upgrade_refuses_a_downgrade():
    helm = FakeHelm([_rev(1, "deployed", chart="carto-2.0.0")], chart={"name": "carto", "version": "1.5.0",
                                                                       "appVersion": "1"})
    with pytest.raises(ops.ReleaseError) as err:
        ops.upgrade(helm, dict(PARAMS), check_mode=False, diff_mode=False)
    assert "Refusing to downgrade chart carto from 2.0.0 (revision 1) to 1.5.0" in err.value.msg
    assert "upgrade" not in helm.commands


def test_failed_upgrade_rolls_back_and_reports(monkeypatch):
    class Reader(object):
        def __init__(self, params):
            pass

        def report(self, namespace, selector, container, lines, events):
            return {"deployments_not_available": ["carto-maps-api (0/1 available)"], "pods_not_ready": []}

    monkeypatch.setattr(ops, "ClusterReader", Reader)
    helm = FakeHelm([_rev(1, "deployed")], values={"a": 1}, upgrade_rc=1)
    with pytest.raises(ops.ReleaseError) as err:
        ops.upgrade(helm, dict(PARAMS, values={"a": 2}), check_mode=False, diff_mode=False)
    assert "Rolled back to revision 1" in err.value.msg
    assert "Not Available: carto-maps-api (0/1 available)" in err.value.msg
    assert err.value.result["failed_revision"] == 2 and err.value.result["rolled_back_to"] == 1


def test_renewer_turns_a_lost_lock_into_one_warning():
    class Lock(object):
        def renew(self):
            raise LockLost("the release lock carto/x is now held by other")

    renewer = ops.Renewer(Lock())
    renewer()
    renewer()
    assert renewer.warnings == ["the release lock carto/x is now held by other"]
    ops.Renewer(None)()  # no lock: nothing to do


VERDICT = {"terminal": True, "id": "container_crash", "reason": "CrashLoopBackOff",
           "culprit": "Pod/carto-workspace-api-1", "summary": "init container workspace-migrations of "
           "Pod/carto-workspace-api-1 (Deployment/carto-workspace-api): CrashLoopBackOff: back-off 20s",
           "verdict_after": 0.4, "logs": {}, "events": [], "findings": []}


class _Reader(object):
    def __init__(self, params):
        pass

    def report(self, namespace, selector, container, lines, events):
        return {"deployments_not_available": ["carto-workspace-api (0/1 available)"], "pods_not_ready": []}


def test_failed_upgrade_with_a_verdict_names_the_culprit_rolls_back_and_records_why(monkeypatch, fake_watcher):
    marked = []
    monkeypatch.setattr(ops, "ClusterReader", _Reader)
    from ansible_collections.carto.selfhosted.plugins.module_utils._rollout import storage
    monkeypatch.setattr(storage, "mark_failed", lambda *args, **kwargs: marked.append((args, kwargs)) or True)
    helm = FakeHelm([_rev(1, "deployed")], values={"a": 1}, upgrade_rc=1, verdict=VERDICT)
    with pytest.raises(ops.ReleaseError) as err:
        ops.upgrade(helm, dict(PARAMS, values={"a": 2}), check_mode=False, diff_mode=False)
    msg = err.value.msg
    assert "CrashLoopBackOff: back-off 20s [container_crash]" in msg
    assert "Stopped 0.4 s after the condition was first seen (helm error: Error: context canceled)" in msg
    assert "Rolled back to revision 1" in msg
    assert "Not Available" not in msg  # the verdict says why; the symptom list is for helm's own timeouts
    assert helm.watcher is fake_watcher and fake_watcher.stopped
    assert err.value.result["rollout"]["verdict"] is VERDICT
    (args, kwargs), = marked
    assert args[:4] == ("client", "carto", "carto", 2) and args[4].startswith("Upgrade failed [container_crash]: init")
    assert kwargs == {"expect_status": "failed"}


def test_helm_failing_on_its_own_gets_the_watchers_diagnosis(monkeypatch, fake_watcher):
    monkeypatch.setattr(ops, "ClusterReader", _Reader)
    fake_watcher.diagnosis = dict(VERDICT, terminal=False)
    helm = FakeHelm([], upgrade_rc=1)
    with pytest.raises(ops.ReleaseError) as err:
        ops.upgrade(helm, dict(PARAMS), check_mode=False, diff_mode=False)
    assert "[container_crash]. Helm: context deadline exceeded." in err.value.msg
    assert "It was a first install" in err.value.msg
    assert err.value.result["rollout"]["not_ready"] == ["Deployment/carto-router: 0/1 readyReplicas"]


def test_no_watcher_without_wait(monkeypatch):
    monkeypatch.setattr(ops, "start_watcher", lambda *a: pytest.fail("no watch when not waiting"))
    helm = FakeHelm([])
    result = ops.upgrade(helm, dict(PARAMS, wait=False), check_mode=False, diff_mode=False)
    assert result["upgraded"] and helm.watcher is None
