# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Unit tests of plugins/module_utils/_helm/history.py and lease.py (no cluster, no helm)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils._helm import history as helm_history
from ansible_collections.carto.selfhosted.plugins.module_utils._helm import lease as helm_lease

NOW = datetime.datetime(2026, 1, 2, 12, 0, 0, tzinfo=datetime.timezone.utc)


def _rev(revision, status, seconds_ago, chart="carto-1.287.1"):
    updated = (NOW - datetime.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
    return {"revision": revision, "status": status, "updated": updated, "chart": chart, "app_version": "1"}


@pytest.mark.parametrize("text,expected", [
    ("2026-01-02T11:59:00.890507773Z", datetime.datetime(2026, 1, 2, 11, 59, 0, 890507, tzinfo=datetime.timezone.utc)),
    ("2026-01-02 11:59:00.5 +0000 UTC", datetime.datetime(2026, 1, 2, 11, 59, 0, 500000, tzinfo=datetime.timezone.utc)),
    ("2026-01-02T13:59:00+02:00", datetime.datetime(2026, 1, 2, 11, 59, 0, tzinfo=datetime.timezone.utc)),
    ("2026-01-02T11:59:00Z", datetime.datetime(2026, 1, 2, 11, 59, 0, tzinfo=datetime.timezone.utc)),
])
def test_parse_time(text, expected):
    assert helm_history.parse_time(text) == expected


def test_parse_time_rejects_garbage():
    with pytest.raises(ValueError):
        helm_history.parse_time("yesterday")
    assert helm_history.parse_time("") is None


def test_absent_and_deployed_need_nothing():
    assert helm_history.plan_recovery([], NOW, 900)["action"] == "none"
    plan = helm_history.plan_recovery([_rev(1, "superseded", 500), _rev(2, "deployed", 100)], NOW, 900)
    assert plan["action"] == "none" and plan["state"] == "deployed" and plan["revision"] == 2


def test_recent_pending_upgrade_is_left_alone():
    plan = helm_history.plan_recovery([_rev(1, "deployed", 500), _rev(2, "pending-upgrade", 30)], NOW, 900)
    assert plan["action"] == "wait"
    assert "may still be in progress" in plan["reason"]


def test_old_pending_upgrade_rolls_back_to_last_deployed():
    # The history of carto-customizations.md: 27 deployed, 28 pending-upgrade.
    history = [_rev(n, "superseded", 5000) for n in range(20, 27)]
    history += [_rev(27, "deployed", 4000), _rev(28, "pending-upgrade", 3600)]
    plan = helm_history.plan_recovery(history, NOW, 900)
    assert plan["action"] == "rollback" and plan["target"] == 27
    assert "more than the 900 s pending timeout" in plan["stale_reason"]


def test_pending_rollback_goes_back_to_last_superseded_when_none_deployed():
    history = [_rev(1, "superseded", 900), _rev(2, "failed", 800), _rev(3, "pending-rollback", 700)]
    plan = helm_history.plan_recovery(history, NOW, 600)
    assert plan["action"] == "rollback" and plan["target"] == 1


def test_pending_install_without_good_revision_is_reinstalled():
    plan = helm_history.plan_recovery([_rev(1, "pending-install", 2000)], NOW, 900)
    assert plan["action"] == "reinstall" and plan["target"] is None
    assert "history kept" in plan["reason"]


def test_orphaned_lock_makes_a_young_pending_revision_stale():
    history = [_rev(1, "deployed", 500), _rev(2, "pending-upgrade", 20)]
    orphaned = (NOW - datetime.timedelta(seconds=25)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    plan = helm_history.plan_recovery(history, NOW, 900, orphaned_since=orphaned)
    assert plan["action"] == "rollback" and plan["target"] == 1
    assert "killed" in plan["stale_reason"]
    # A pending revision older than the dead run's lock was not written by it: still waits.
    later = (NOW - datetime.timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert helm_history.plan_recovery(history, NOW, 900, orphaned_since=later)["action"] == "wait"


def test_pending_timeout_none_means_the_default():
    # an explicit null option (pending_timeout: null) is None in the module parameters
    old = [_rev(1, "deployed", 5000), _rev(2, "pending-upgrade", helm_history.PENDING_TIMEOUT + 100)]
    assert helm_history.plan_recovery(old, NOW, None)["action"] == "rollback"
    young = [_rev(1, "deployed", 5000), _rev(2, "pending-upgrade", helm_history.PENDING_TIMEOUT - 100)]
    assert helm_history.plan_recovery(young, NOW, None)["action"] == "wait"


def test_expired_for():
    assert helm_lease._expired_for(-12.5) == 12.5  # pylint: disable=protected-access
    assert helm_lease._expired_for(3.0) == 0.0  # pylint: disable=protected-access
    assert helm_lease._expired_for(None) == 0.0  # pylint: disable=protected-access


def test_last_good_revision_only_before_the_failed_one():
    history = [_rev(1, "superseded", 9), _rev(2, "deployed", 8), _rev(3, "failed", 7)]
    assert helm_history.last_good_revision(history)["revision"] == 2
    assert helm_history.last_good_revision(history, before=2)["revision"] == 1
    assert helm_history.last_good_revision([_rev(1, "failed", 1)]) is None


@pytest.mark.parametrize("chart,name,version", [
    ("carto-1.287.1", "carto", "1.287.1"),
    ("carto-1.287.1-test", "carto", "1.287.1-test"),
    ("my-chart-name-0.1.0-beta.1", "my-chart-name", "0.1.0-beta.1"),
    ("carto-1.42.10-beta", "carto", "1.42.10-beta"),
])
def test_split_chart(chart, name, version):
    assert helm_history.split_chart(chart) == (name, version)


@pytest.mark.parametrize("left,right,expected", [
    ("1.287.1", "1.287.1", 0),
    ("1.287.0", "1.287.1", -1),
    ("1.300.0", "1.287.1", 1),
    ("1.42.10-beta", "1.42.5-beta", 1),
    ("1.287.1-rc.1", "1.287.1", -1),
    ("1.287.1-test", "1.287.1-test", 0),
    ("v2.0.0", "1.999.0", 1),
    ("1.0.0+build.5", "1.0.0", 0),
])
def test_compare_versions(left, right, expected):
    assert helm_history.compare_versions(left, right) == expected


def test_values_diff_redacts_secrets_and_names_changed_ones():
    before = {"appSecrets": {"googleMapsApiKey": {"value": "old-secret-AAAA"}}, "mapsApi": {"replicaCount": 1},
              "externalRedis": {"password": "p-OLD-redis"}}
    after = {"appSecrets": {"googleMapsApiKey": {"value": "new-secret-BBBB"}}, "mapsApi": {"replicaCount": 2},
             "externalRedis": {"password": "p-OLD-redis"}}
    lines, before_text, after_text = helm_history.values_diff(before, after)
    joined = "\n".join(lines) + before_text + after_text
    for secret in ("old-secret-AAAA", "new-secret-BBBB", "p-OLD-redis"):
        assert secret not in joined
    assert "+  replicaCount: 2" in lines and "-  replicaCount: 1" in lines
    assert helm_history.secret_change_paths(before, after) == ["appSecrets.googleMapsApiKey.value"]


def test_values_equal_is_exact():
    assert helm_history.values_equal({"a": {"b": 1}}, {"a": {"b": 1}})
    assert not helm_history.values_equal({"a": {"b": 1}}, {"a": {"b": "1"}})
    assert helm_history.values_equal(None, {})


def test_lease_state():
    assert helm_lease.lease_state(None, NOW)["held"] is False
    renew = (NOW - datetime.timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lease = {"spec": {"holderIdentity": "run-a", "leaseDurationSeconds": 60, "renewTime": renew,
                      "acquireTime": renew}}
    state = helm_lease.lease_state(lease, NOW)
    assert state["held"] and state["holder"] == "run-a" and 49 < state["expires_in"] <= 50
    lease["spec"]["leaseDurationSeconds"] = 5
    assert helm_lease.lease_state(lease, NOW)["held"] is False
    lease["spec"]["holderIdentity"] = ""
    lease["spec"]["leaseDurationSeconds"] = 600
    assert helm_lease.lease_state(lease, NOW)["held"] is False


def test_lease_body():
    body = helm_lease.lease_body("carto-carto-selfhosted-lock", "ns", "me", 30, NOW, "carto", resource_version="7")
    assert body["metadata"]["resourceVersion"] == "7"
    assert body["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "carto.selfhosted"
    assert body["spec"]["renewTime"] == "2026-01-02T12:00:00.000000Z"
    assert body["spec"]["leaseDurationSeconds"] == 30


class FakeLeaseApi(object):
    """In-memory CoordinationV1Api with resourceVersion preconditions (409 on conflict)."""

    def __init__(self):
        self.lease = None
        self.version = 0

    def _conflict(self, status=409):
        from kubernetes.client.rest import ApiException
        return ApiException(status=status)

    def read_namespaced_lease(self, name, namespace):
        if self.lease is None:
            raise self._conflict(404)
        return self.lease

    def create_namespaced_lease(self, namespace, body):
        if self.lease is not None:
            raise self._conflict()
        self.version += 1
        body["metadata"]["resourceVersion"] = str(self.version)
        self.lease = body

    def replace_namespaced_lease(self, name, namespace, body):
        if self.lease is None or body["metadata"].get("resourceVersion") != self.lease["metadata"]["resourceVersion"]:
            raise self._conflict()
        self.version += 1
        body["metadata"]["resourceVersion"] = str(self.version)
        self.lease = body

    def delete_namespaced_lease(self, name, namespace, body=None):
        self.lease = None


class FakeClient(object):
    @staticmethod
    def sanitize_for_serialization(obj):
        return obj


def _lock(api, holder, clock):
    lock = helm_lease.LeaseLock.__new__(helm_lease.LeaseLock)
    lock._api_client, lock.api = FakeClient(), api
    lock.name, lock.namespace, lock.holder, lock.duration, lock.release_name = "l", "ns", holder, 30, "carto"
    lock.clock, lock.sleep, lock.took_over, lock.last_renew = clock, lambda s: None, None, None
    return lock


def test_lease_lock_serialises_and_takes_over_expired_holders():
    pytest.importorskip("kubernetes")
    now = [NOW]
    api = FakeLeaseApi()
    first, second = _lock(api, "run-a", lambda: now[0]), _lock(api, "run-b", lambda: now[0])
    assert first.try_acquire()[0] is True
    acquired, state = second.try_acquire()
    assert acquired is False and state["holder"] == "run-a"
    acquired, waited, state = second.acquire(0)
    assert acquired is False
    # run-a renews, then stops (killed): after the lease duration run-b takes over and knows since when.
    now[0] += datetime.timedelta(seconds=20)
    first.renew(force=True)
    now[0] += datetime.timedelta(seconds=31)
    assert second.try_acquire()[0] is True
    assert second.took_over["holder"] == "run-a"
    assert second.took_over["acquire_time"] == "2026-01-02T12:00:00.000000Z"
    assert 0 < second.took_over["expired_for"] <= 31
    with pytest.raises(helm_lease.LockLost):
        first.renew(force=True)
    assert first.release() is False and api.lease is not None
    assert second.release() is True and api.lease is None
