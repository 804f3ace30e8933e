# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""The three release operations - take the release lock, recover a release left pending, upgrade -
as functions, which carto.selfhosted.helm_release_upgrade runs in one process (``lock=true``,
``recover=true``: one Python start and one kubernetes client import for the whole deployment).

Each function returns the module result (a dict) or raises ``ReleaseError(msg, result)``; the
module turns that into ``exit_json`` / ``fail_json``. Sources: see module_utils/_helm/history.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import redact_values
from ansible_collections.carto.selfhosted.plugins.module_utils._rollout import secrets as _secrets
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.cli import ClusterReader
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.history import (
    PENDING_STATES,
    compare_versions,
    last_good_revision,
    plan_recovery,
    secret_change_paths,
    split_chart,
    utcnow,
    values_diff,
    values_equal,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s.client import api_client
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.lease import (
    LeaseLock,
    LockLost,
    default_holder,
    lease_state,
    lock_name_of,
)


class ReleaseError(Exception):
    """A failed operation: ``msg`` for fail_json and the ``result`` collected so far."""

    def __init__(self, msg, result):
        super(ReleaseError, self).__init__(msg)
        self.msg = msg
        self.result = result


class Renewer(object):
    """Renews the release lock while helm runs; lost-lock and API errors become warnings."""

    def __init__(self, lock):
        self.lock = lock
        self.warnings = []

    def __call__(self):
        if self.lock is None:
            return
        try:
            self.lock.renew()
        except LockLost as exc:
            self._warn(str(exc))
        except Exception as exc:  # pylint: disable=broad-except
            self._warn("could not renew the release lock: %s" % exc)

    def _warn(self, text):
        if text not in self.warnings:
            self.warnings.append(text)


def api_reason(exc):
    body = getattr(exc, "body", None)
    return "%s %s" % (getattr(exc, "status", ""), body) if body else str(exc)


# --------------------------------------------------------------------------- lock


def lock_result(holder, name):
    return dict(changed=False, holder=holder, lock_name=name, acquired=False, released=False, waited=0.0,
                held_by=None, took_over=None)


def acquire_lock(params, release_name, namespace, lock_name, holder, duration, wait_timeout, poll_interval,
                 check_mode):
    """Take the release lock (a Lease), waiting up to ``wait_timeout`` s. Returns (LeaseLock or None, result).

    In check mode nothing is written: the result names the current holder (``held_by``) and the lock is None.
    """
    name = lock_name_of(release_name, lock_name)
    holder = holder or default_holder()
    result = lock_result(holder, name)
    try:
        lock = LeaseLock(params, name, namespace, holder, duration, release_name)
        if check_mode:
            state = lease_state(lock._read(), utcnow()) if namespace_exists(lock) else lease_state(None, utcnow())
            result["held_by"] = state["holder"] if state["held"] else None
            return None, result
        acquired, waited, state = lock.acquire(wait_timeout, poll_interval)
    except Exception as exc:  # pylint: disable=broad-except
        raise ReleaseError("Could not read or write the Lease %s/%s: %s" % (namespace, name, api_reason(exc)),
                           result)
    result.update(acquired=acquired, waited=round(waited, 1), took_over=lock.took_over)
    if not acquired:
        result["held_by"] = state["holder"]
        raise ReleaseError(
            "Release %s in namespace %s is locked by %s (another carto.selfhosted run, lock Lease %s/%s, renewed %s, "
            "expires in %d s); waited %d s. Re-run when that run has finished, or raise wait_timeout "
            "(deploy_lock_wait_timeout)." % (release_name, namespace, state["holder"], namespace, name,
                                             state["renew_time"], max(0, state["expires_in"] or 0), waited), result)
    return lock, result


def release_lock(params, release_name, namespace, lock_name, holder, check_mode, lock=None):
    """Delete the Lease if ``holder`` holds it. Returns the lock result (``released``)."""
    name = lock_name_of(release_name, lock_name)
    result = lock_result(holder, name)
    try:
        lock = lock or LeaseLock(params, name, namespace, holder, 60, release_name)
        if not check_mode:
            result["released"] = lock.release()
    except Exception as exc:  # pylint: disable=broad-except
        raise ReleaseError("Could not read or write the Lease %s/%s: %s" % (namespace, name, api_reason(exc)),
                           result)
    return result


def namespace_exists(lock):
    from kubernetes import client as k8s_client
    from kubernetes.client.rest import ApiException

    try:
        k8s_client.CoreV1Api(lock._api_client).read_namespace(lock.namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


# --------------------------------------------------------------------------- recovery


def _found(plan):
    return {key: plan.get(key) for key in ("state", "revision", "age", "updated", "chart", "stale_reason")}


def recover(helm, pending_timeout, orphaned_since, wait_timeout, poll_interval, wait, timeout, history_max,
            check_mode, renew=None, sleep=time.sleep):
    """Read the status and history; wait for an operation in progress; roll back or uninstall (history kept)
    a release left pending-* by a killed run. Returns the RV(recovery) of helm_release_upgrade."""
    renew = renew or (lambda: None)
    name, namespace = helm.name, helm.namespace
    start = time.monotonic()
    history = helm.history()
    plan = plan_recovery(history, utcnow(), pending_timeout, orphaned_since)
    first = dict(plan)
    while plan["action"] == "wait" and not check_mode:
        waited = time.monotonic() - start
        if waited >= wait_timeout:
            raise ReleaseError(
                "Release %s in namespace %s: %s. Waited %d s (wait_timeout) for it to finish. Nothing was changed. "
                "If no helm operation is running on this release any more, it is recovered automatically once "
                "the revision is older than pending_timeout (%d s, deploy_pending_timeout): lower it or re-run "
                "later." % (name, namespace, plan["reason"], waited, pending_timeout),
                dict(changed=False, found=_found(first), action="wait", waited=round(waited, 1), history=history,
                     commands=helm.commands, target_revision=None, report=plan["reason"]))
        sleep(poll_interval)
        renew()
        history = helm.history()
        plan = plan_recovery(history, utcnow(), pending_timeout, orphaned_since)
    waited = round(time.monotonic() - start, 1)

    result = dict(changed=False, found=_found(first), action=plan["action"], target_revision=plan.get("target"),
                  waited=waited, history=history, commands=helm.commands, report=plan["reason"])
    if first["action"] == "wait" and plan["action"] == "none":
        result["report"] = "%s; it finished (now %s) after %s s" % (first["reason"], plan["state"], waited)
    if plan["action"] in ("none", "wait"):
        return result

    result["changed"] = True
    if check_mode:
        result["report"] = "would recover: " + plan["reason"]
        return result

    renew()
    if plan["action"] == "rollback":
        rc, out, err = helm.rollback(plan["target"], wait, timeout, history_max)
        what = "helm rollback %s %s" % (name, plan["target"])
    else:
        rc, out, err = helm.uninstall_keep_history(wait, timeout)
        what = "helm uninstall %s --keep-history" % name
    renew()
    result["history"] = helm.history()
    result["commands"] = helm.commands
    if rc != 0:
        result["stderr"] = err
        raise ReleaseError("Recovery of release %s in namespace %s failed: %s (%s): %s" % (
            name, namespace, what, plan["reason"], (err or out).strip()), result)
    result["report"] = plan["reason"].replace("; rolling back to", "; rolled back to").replace(
        "; uninstalling it (history kept) so that it is installed again",
        "; uninstalled it (history kept) to install it again")
    return result


# --------------------------------------------------------------------------- upgrade


def safe_args(params):
    """Module arguments for the invocation record: values redacted, auth secrets dropped."""
    out = {k: v for k, v in params.items() if k not in ("values", "api_key", "kubeconfig")}
    out["values"] = redact_values(params.get("values") or {})
    out["kubeconfig"] = params["kubeconfig"] if isinstance(params.get("kubeconfig"), str) else None
    return out


def upgrade(helm, params, check_mode, diff_mode, renewer=None, recovery=None):
    """helm upgrade --install when the chart or the values changed; roll back a failed upgrade.

    ``recovery`` is the result of ``recover`` run just before (in check mode a planned recovery
    counts as a change instead of refusing the pending release). Returns the helm_release_upgrade result.
    """
    renewer = renewer or Renewer(None)
    name, namespace = helm.name, helm.namespace
    values = params["values"] or {}
    result = dict(changed=False, upgraded=False, reasons=[], previous_revision=None, status=None, chart=None,
                  values_diff=[], secrets_changed=[], rolled_back_to=None, failed_revision=None, report={},
                  helm_error="", commands=helm.commands, rollout={"verdict": None, "not_ready": [], "watch_errors": []},
                  helm_version=helm.version, secret_rotation=None)

    chart = helm.show_chart(params["chart_ref"], params["chart_repo_url"], params["chart_version"])
    result["chart"] = {"name": chart.get("name"), "version": str(chart.get("version", "")),
                       "app_version": str(chart.get("appVersion", "") or "")}
    target_chart = "%s-%s" % (result["chart"]["name"], result["chart"]["version"])

    history = recovery["history"] if recovery and not recovery["changed"] else helm.history()
    last = history[-1] if history else None
    result["previous_revision"] = last["revision"] if last else None
    result["status"] = last
    reasons = result["reasons"]
    if last and last.get("status") in PENDING_STATES:
        if check_mode and recovery and recovery["action"] in ("rollback", "reinstall"):
            reasons.append(recovery["report"])
            result["changed"] = True
            return result
        raise ReleaseError("Release %s in namespace %s is %s (revision %s): another operation is in progress or was "
                           "killed; run again with recover=true (the carto.selfhosted.deploy role does)." % (
                               name, namespace, last["status"], last["revision"]), result)

    deployed = [h for h in history if h.get("status") == "deployed"]
    current = deployed[-1] if deployed else None
    if current:
        deployed_name, deployed_version = split_chart(current.get("chart"))
        if deployed_name == result["chart"]["name"] and \
                compare_versions(result["chart"]["version"], deployed_version) < 0 and not params["allow_downgrade"]:
            raise ReleaseError(
                "Refusing to downgrade chart %s from %s (revision %s) to %s. Nothing was changed. Pin "
                "deploy_chart_version (carto_chart_version) to %s or later, or set deploy_allow_downgrade "
                "(carto_allow_downgrade) to true to allow it." % (
                    deployed_name, deployed_version, current["revision"], result["chart"]["version"],
                    deployed_version), result)

    current_values = {}
    if not last or last.get("status") == "uninstalled":
        reasons.append("new install")
    elif last.get("status") != "deployed":
        reasons.append("last revision %s is %s" % (last["revision"], last.get("status")))
    if current:
        current_values = helm.values() or {}
    if params.get("secret_checksums"):
        # Before the comparison: a Secret whose data changed changes its consumers' podAnnotations, hence the values.
        values = _with_secret_checksums(helm, params, values, current_values if current else None, result)
    if current:
        if current.get("chart") != target_chart:
            reasons.append("chart %s -> %s" % (current.get("chart"), target_chart))
        if (current.get("app_version") or "") != result["chart"]["app_version"]:
            reasons.append("app version %s -> %s" % (current.get("app_version"), result["chart"]["app_version"]))
        if not values_equal(current_values, values):
            rotation = _secrets.summary(result.get("secret_rotation"))
            if not rotation or not values_equal(_secrets.strip(current_values), _secrets.strip(values)):
                reasons.append("values changed")
            if rotation:
                reasons.append(rotation)
    if params["force"] and not reasons:
        reasons.append("force")

    if reasons:
        lines, before_text, after_text = values_diff(current_values, values)
        result["values_diff"] = lines
        result["secrets_changed"] = secret_change_paths(current_values, values)
        if diff_mode:
            result["diff"] = {"before": before_text, "after": after_text,
                              "before_header": "%s values (revision %s)" % (name, result["previous_revision"]),
                              "after_header": "%s values (%s)" % (name, target_chart)}
    if not reasons or check_mode:
        result["changed"] = bool(reasons)
        return result

    selector = params["diagnostics_selector"] or "app.kubernetes.io/instance=%s" % name
    watcher = start_watcher(params, namespace, selector) if params["wait"] else None
    try:
        rc, out, err, verdict = helm.upgrade(
            params["chart_ref"], values, params["chart_repo_url"], params["chart_version"], params["wait"],
            params["timeout"], params["history_max"], tick=renewer,
            tick_interval=min(5.0, max(1.0, params["lock_duration"] / 3.0)), watcher=watcher)
        if rc != 0 and watcher is not None and verdict is None:
            verdict = watcher.diagnose()  # helm failed on its own (a hook, its timeout): what the watch saw
        result["rollout"] = _rollout_result(verdict, watcher, rc)
    finally:
        if watcher is not None:
            watcher.stop()
    result["changed"] = True
    after = helm.history()
    result["status"] = after[-1] if after else None
    if rc == 0:
        result["upgraded"] = True
        if result.get("secret_rotation"):
            result["secret_rotation"]["applied"] = True
        return result

    # The upgrade failed: report first (the state that failed), then roll back.
    result["helm_error"] = (err or out or "").strip()
    new = after[-1] if after else None
    if new and (result["previous_revision"] is None or new["revision"] > result["previous_revision"]):
        result["failed_revision"] = new["revision"]
    if verdict and verdict.get("terminal") and new and result["failed_revision"] and \
            new.get("status") in ("pending-install", "failed"):
        # SIGTERM stops helm: a cancelled revision is recorded as failed "context canceled" (or, on some install
        # paths, not at all: pending-install). Record why in the history, as Helm's own failRelease would.
        _mark_failed(watcher.api_client, helm, new, verdict, result)
        after = helm.history()
        new = after[-1] if after else new
        result["status"] = new
    try:
        result["report"] = ClusterReader(params).report(namespace, selector, params["migrations_container"],
                                                        params["log_lines"], params["events_count"])
    except Exception as exc:  # pylint: disable=broad-except
        result["report"] = {"errors": ["could not collect the failure report: %s" % exc]}
    if verdict:
        msg = "helm upgrade --install of release %s in namespace %s to %s failed: %s [%s]." % (
            name, namespace, target_chart, verdict["summary"], verdict["id"])
        if verdict.get("terminal"):
            msg += " Stopped %.1f s after the condition was first seen (helm error: %s)." % (
                verdict["verdict_after"], _first_line(result["helm_error"]))
        else:
            msg += " Helm: %s." % result["helm_error"]
    else:
        msg = "helm upgrade of release %s in namespace %s to %s failed: %s." % (
            name, namespace, target_chart, result["helm_error"])
    target = last_good_revision(after, before=result["failed_revision"] or (new["revision"] + 1 if new else None))
    if not params["rollback_on_failure"]:
        msg += " Automatic rollback is disabled (deploy_rollback_on_failure)."
    elif target is None:
        msg += (" It was a first install: nothing to roll back to; the release stays failed and the next run "
                "installs over it.")
    else:
        renewer()
        rrc, rout, rerr = helm.rollback(target["revision"], params["wait"], params["timeout"], params["history_max"])
        final = helm.history()
        result["status"] = final[-1] if final else None
        if rrc == 0:
            result["rolled_back_to"] = target["revision"]
            msg += " Rolled back to revision %s (%s, now revision %s %s)." % (
                target["revision"], target.get("chart"), result["status"]["revision"], result["status"]["status"])
        else:
            msg += " The rollback to revision %s failed too: %s." % (target["revision"], (rerr or rout).strip())
    report = result["report"]
    if not verdict and (report.get("deployments_not_available") or report.get("pods_not_ready")):
        msg += " Not Available: %s. Pods not Ready: %s." % (
            ", ".join(report.get("deployments_not_available") or []) or "none",
            ", ".join(report.get("pods_not_ready") or []) or "none")
    raise ReleaseError(msg, result)


def _with_secret_checksums(helm, params, values, previous, result):
    """``values`` with a ``checksum/secrets`` pod annotation per component from the live data of the Secrets its pods
    read (``_rollout.secrets``); sets ``result["secret_rotation"]`` (checksums and names only). Raises ReleaseError
    when the chart cannot be rendered with the values (helm upgrade would fail the same way)."""
    try:
        values, rotation = _secrets.with_checksums(helm, api_client(params), params["chart_ref"],
                                                   params["chart_repo_url"], params["chart_version"], values,
                                                   previous)
    except _secrets.RenderError as exc:
        raise ReleaseError("Release %s in namespace %s: could not find the Secrets its workloads read: %s. Nothing "
                           "was changed." % (helm.name, helm.namespace, exc), result)
    except Exception as exc:  # pylint: disable=broad-except
        raise ReleaseError("Release %s in namespace %s: could not read the Secrets its workloads read (needed for "
                           "their checksums; set deploy_secret_checksums to false to skip): %s. Nothing was "
                           "changed." % (helm.name, helm.namespace, api_reason(exc)), result)
    rotation["applied"] = False
    result["secret_rotation"] = rotation
    return values


def start_watcher(params, namespace, selector):
    """A started rollout watcher for the release. Raises what the Kubernetes client raises when it cannot be built
    from the auth options (the release Lease taken just before uses the same client)."""
    from ansible_collections.carto.selfhosted.plugins.module_utils._rollout.watch import RolloutWatcher

    return RolloutWatcher(api_client(params), namespace, selector, grace=params["rollout_grace"],
                          restarts=params["rollout_restarts"], log_lines=params["log_lines"],
                          events_count=params["events_count"],
                          managed_secrets=params["managed_secrets"]).start()


def _rollout_result(verdict, watcher, rc):
    out = {"verdict": verdict, "not_ready": [], "watch_errors": []}
    if watcher is not None:
        out["not_ready"] = watcher.not_ready() if rc != 0 else []
        out["watch_errors"] = watcher.errors[:10]
    return out


def _first_line(text):
    return (text or "").strip().splitlines()[-1] if (text or "").strip() else "none"


def _mark_failed(client, helm, revision, verdict, result):
    from ansible_collections.carto.selfhosted.plugins.module_utils._rollout import storage

    description = "%s failed [%s]: %s" % ("Install" if revision["revision"] == 1 or not result["previous_revision"]
                                          else "Upgrade", verdict["id"], verdict["summary"])
    helm_said = revision.get("description") or ""
    if helm_said and "context canceled" not in helm_said:
        description += " (helm: %s)" % helm_said
    try:
        result["marked_failed"] = storage.mark_failed(client, helm.namespace, helm.name,
                                                      revision["revision"], description[:1000],
                                                      expect_status=revision.get("status"))
    except Exception as exc:  # pylint: disable=broad-except
        result["marked_failed"] = False
        result.setdefault("warnings", []).append(
            "could not mark revision %s failed (it stays pending-install; the next run recovers it): %s" % (
                revision["revision"], exc))
