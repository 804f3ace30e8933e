#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: helm_release_upgrade
short_description: Idempotent helm upgrade --install of CARTO with automatic rollback on failure
version_added: 0.2.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - Installs or upgrades a release like CARTO's guide does (C(helm upgrade --install <release> carto/carto -f
    carto-values.yaml -f carto-secrets.yaml -f customizations.yaml); C(../shared/docs/carto-kubernetes-install.md)
    I(Install CARTO)), with the final merged values in one 0600 temporary file that is removed afterwards,
    C(--reset-values), C(--wait --timeout) (pods can take up to 5 minutes to run, same section) and
    C(--history-max) so the revision history stays bounded.
  - "Idempotent: no upgrade runs when the last revision is C(deployed) with the same chart name and version, the same
    app version and exactly the same values (C(helm get values -o json)) - the comparison of kubernetes.core.helm's
    default check. RV(changed) is then false."
  - "Chart pinning: with I(chart_repo_url), I(chart_version) is passed as C(--version). A chart version lower than the
    deployed one (SemVer order) is refused before anything changes unless I(allow_downgrade=true)."
  - "Automatic rollback: when C(helm upgrade) fails (pods not Ready before the timeout, a failed hook, a rejected
    manifest) the module first collects a report (Deployments not Available, pods not Ready with a C(kubectl get
    pods)-like table, recent events and the C(workspace-migrations) init container logs of the workspace-api pods,
    C(../shared/docs/carto-kubernetes-install.md) I(Post-installation checks)), then runs C(helm rollback <release>
    <previous revision> --wait) to the last C(deployed) (else C(superseded)) revision, and fails with the report.
    A failed first install has nothing to roll back to and stays C(failed); the next run installs over it."
  - "A release whose last revision is pending-* is refused (run M(carto.selfhosted.helm_release_recover) first;
    C(../shared/docs/carto-customizations.md) I(Helm upgrade fails: another operation (install/upgrade/rollback) is in
    progress))."
  - "Secrets: I(values) is a no_log option; every secret-looking value (the rules of the
    C(carto.selfhosted.values_redact) filter) is masked in everything the module returns, including helm's error
    output. RV(diff) and RV(values_diff) show the values with secrets replaced by C(<redacted>); secrets that changed
    are only named in RV(secrets_changed)."
  - With I(lock_holder) the release lock (M(carto.selfhosted.helm_release_lock)) is renewed while helm runs.
  - Check mode reports whether an upgrade would run (and the diff in diff mode) without running it.
extends_documentation_fragment:
  - kubernetes.core.helm_common_options
requirements:
  - helm >= 3.7
  - PyYAML
  - kubernetes (Python client), for the failure report and I(lock_holder)
options:
  release_name:
    description: Release name.
    type: str
    required: true
    aliases: [name]
  release_namespace:
    description: Release namespace (must exist).
    type: str
    required: true
    aliases: [namespace]
  chart_ref:
    description: Chart name in I(chart_repo_url) (C(carto)), or a local chart directory or C(.tgz).
    type: str
    required: true
  chart_repo_url:
    description: Chart repository (C(https://helm.carto.com)); omit for a local chart.
    type: str
  chart_version:
    description: Chart version to pin (C(--version)); used with I(chart_repo_url), a local chart has its own version.
    type: str
  values:
    description: Final values (a dict); sent to helm as one values file.
    type: dict
    default: {}
  wait:
    description: Pass C(--wait) (wait until Deployments are rolled out and pods Ready).
    type: bool
    default: true
  timeout:
    description: C(--timeout) of the upgrade and of the rollback, in seconds.
    type: int
    default: 600
  history_max:
    description: C(--history-max), revisions kept in the release history.
    type: int
    default: 10
  allow_downgrade:
    description: Allow a chart version lower than the deployed one.
    type: bool
    default: false
  rollback_on_failure:
    description: Roll back to the previous good revision when the upgrade fails.
    type: bool
    default: true
  force:
    description: Run the upgrade even when nothing changed.
    type: bool
    default: false
  diagnostics_selector:
    description:
      - Label selector of the release's objects for the failure report.
      - Defaults to C(app.kubernetes.io/instance=<release_name>).
    type: str
  migrations_container:
    description: Init container whose logs go into the failure report.
    type: str
    default: workspace-migrations
  log_lines:
    description: Lines of I(migrations_container) logs in the failure report.
    type: int
    default: 100
  events_count:
    description: Recent events in the failure report.
    type: int
    default: 30
  lock_name:
    description: Lease to renew while helm runs (defaults to C(<release_name>-carto-selfhosted-lock)).
    type: str
  lock_holder:
    description:
      - Holder identity of the release lock (from M(carto.selfhosted.helm_release_lock)).
      - The lock is renewed while helm runs.
    type: str
  lock_duration:
    description: C(leaseDurationSeconds) written when renewing the lock, in seconds.
    type: int
    default: 60
notes:
  - "Failure messages: C(Release <name> in namespace <ns> is <pending-*> (revision <n>) ... run
    carto.selfhosted.helm_release_recover first), C(Refusing to downgrade chart <name> from <deployed> (revision <n>)
    to <version> ... set deploy_allow_downgrade (carto_allow_downgrade) to true), C(helm show chart <ref> failed ...),
    C(helm upgrade of release <name> ... failed: <helm error>. Rolled back to revision <n> (now <status>) ...),
    C(... The rollback to revision <n> failed too: <error>), C(... It was a first install: nothing to roll back to)."
seealso:
  - module: carto.selfhosted.helm_release_recover
  - module: carto.selfhosted.helm_release_lock
  - module: kubernetes.core.helm
"""

EXAMPLES = r"""
- name: Install or upgrade CARTO
  carto.selfhosted.helm_release_upgrade:
    release_name: carto
    release_namespace: carto
    chart_ref: carto
    chart_repo_url: https://helm.carto.com
    chart_version: 1.287.1
    values: "{{ values_final }}"
    timeout: 600
    history_max: 10
  register: release
  no_log: true
  failed_when: false

- name: Fail with the report
  ansible.builtin.fail:
    msg: "{{ release.msg }}"
  when: release.failed
"""

RETURN = r"""
changed:
  description: Whether an upgrade ran (or, in check mode, would run).
  returned: always
  type: bool
upgraded:
  description: Whether C(helm upgrade) ran and succeeded.
  returned: always
  type: bool
reasons:
  description: Why an upgrade is needed (new install, chart changed, values changed, last revision failed...).
  returned: always
  type: list
  elements: str
  sample: ["values changed", "chart carto-1.287.0 -> carto-1.287.1"]
previous_revision:
  description: Last revision before this run (null when the release did not exist).
  returned: always
  type: int
status:
  description: Last revision after the run (C(helm history) entry).
  returned: always
  type: dict
  sample: {"revision": 3, "status": "deployed", "chart": "carto-1.287.1", "app_version": "2026.8.11-rc.7"}
chart:
  description: Chart that was (or would be) deployed, from C(helm show chart).
  returned: always
  type: dict
  contains:
    name:
      description: Chart name.
      type: str
    version:
      description: Chart version.
      type: str
    app_version:
      description: Chart appVersion.
      type: str
values_diff:
  description: Unified diff of the deployed and new values, secrets redacted (empty when no upgrade is needed).
  returned: always
  type: list
  elements: str
secrets_changed:
  description: Key paths of secret values that changed (never the values).
  returned: always
  type: list
  elements: str
diff:
  description: Redacted values before/after, shown by C(--diff).
  returned: in diff mode, when an upgrade is needed
  type: dict
rolled_back_to:
  description: Revision the release was rolled back to after a failed upgrade, else null.
  returned: always
  type: int
failed_revision:
  description: Revision whose upgrade failed, else null.
  returned: always
  type: int
report:
  description: Failure report collected before the rollback (empty when the upgrade did not fail).
  returned: always
  type: dict
  contains:
    deployments_not_available:
      description: C(name (reason)) of each Deployment not rolled out.
      type: list
      elements: str
    pods_not_ready:
      description: C(name (reason)) of each pod not Running and Ready.
      type: list
      elements: str
    pods:
      description: C(kubectl get pods)-like table lines.
      type: list
      elements: str
    events:
      description: Recent events, oldest first.
      type: list
      elements: str
    migrations_logs:
      description: Log lines of the migrations container, by pod name.
      type: dict
    errors:
      description: What could not be read.
      type: list
      elements: str
helm_error:
  description: helm's error output when it failed (secrets masked).
  returned: always
  type: str
commands:
  description: helm commands run (the values file path is replaced by C(<values file>)).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import missing_required_lib  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule, HAS_YAML  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import (  # noqa: E402
    HELM_AUTH_ARG_SPEC,
    HELM_AUTH_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.carto.selfhosted.plugins.module_utils.carto_values import (  # noqa: E402
    redact_values,
    secret_values,
)
from ansible_collections.carto.selfhosted.plugins.module_utils.helm_release import (  # noqa: E402
    PENDING_STATES,
    ClusterReader,
    HelmRelease,
    LockLost,
    compare_versions,
    last_good_revision,
    lock_from_params,
    secret_change_paths,
    split_chart,
    values_diff,
    values_equal,
    release_argument_spec,
)


def argument_spec():
    spec = release_argument_spec(
        HELM_AUTH_ARG_SPEC,
        chart_ref=dict(type="str", required=True),
        chart_repo_url=dict(type="str"),
        chart_version=dict(type="str"),
        values=dict(type="dict", default={}, no_log=True),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=600),
        history_max=dict(type="int", default=10),
        allow_downgrade=dict(type="bool", default=False),
        rollback_on_failure=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
        diagnostics_selector=dict(type="str"),
        migrations_container=dict(type="str", default="workspace-migrations"),
        log_lines=dict(type="int", default=100),
        events_count=dict(type="int", default=30),
    )
    return spec


def main():
    module = AnsibleHelmModule(argument_spec=argument_spec(), mutually_exclusive=HELM_AUTH_MUTUALLY_EXCLUSIVE,
                               supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    params = module.params
    values = params["values"] or {}
    # Mask exactly the secret values (not every string of the values, which would garble the output);
    # keep the auth secrets masked too.
    masked = set(secret_values(values))
    if params.get("api_key"):
        masked.add(params["api_key"])
    module._module.no_log_values = masked

    name, namespace = params["release_name"], params["release_namespace"]
    helm = HelmRelease(module, name, namespace)
    result = dict(changed=False, upgraded=False, reasons=[], previous_revision=None, status=None, chart=None,
                  values_diff=[], secrets_changed=[], rolled_back_to=None, failed_revision=None, report={},
                  helm_error="", commands=helm.commands,
                  invocation={"module_args": _safe_args(params)})

    chart = helm.show_chart(params["chart_ref"], params["chart_repo_url"], params["chart_version"])
    result["chart"] = {"name": chart.get("name"), "version": str(chart.get("version", "")),
                       "app_version": str(chart.get("appVersion", "") or "")}
    target_chart = "%s-%s" % (result["chart"]["name"], result["chart"]["version"])

    history = helm.history()
    last = history[-1] if history else None
    result["previous_revision"] = last["revision"] if last else None
    result["status"] = last
    if last and last.get("status") in PENDING_STATES:
        module.fail_json(msg=("Release %s in namespace %s is %s (revision %s): another operation is in progress or was "
                              "killed; run carto.selfhosted.helm_release_recover first." % (
                                  name, namespace, last["status"], last["revision"])), **result)

    deployed = [h for h in history if h.get("status") == "deployed"]
    current = deployed[-1] if deployed else None
    if current:
        deployed_name, deployed_version = split_chart(current.get("chart"))
        if deployed_name == result["chart"]["name"] and \
                compare_versions(result["chart"]["version"], deployed_version) < 0 and not params["allow_downgrade"]:
            module.fail_json(msg=(
                "Refusing to downgrade chart %s from %s (revision %s) to %s. Nothing was changed. Pin "
                "deploy_chart_version (carto_chart_version) to %s or later, or set deploy_allow_downgrade "
                "(carto_allow_downgrade) to true to allow it." % (
                    deployed_name, deployed_version, current["revision"], result["chart"]["version"],
                    deployed_version)), **result)

    reasons = result["reasons"]
    current_values = {}
    if not last or last.get("status") == "uninstalled":
        reasons.append("new install")
    elif last.get("status") != "deployed":
        reasons.append("last revision %s is %s" % (last["revision"], last.get("status")))
    if current:
        current_values = helm.values() or {}
        if current.get("chart") != target_chart:
            reasons.append("chart %s -> %s" % (current.get("chart"), target_chart))
        if (current.get("app_version") or "") != result["chart"]["app_version"]:
            reasons.append("app version %s -> %s" % (current.get("app_version"), result["chart"]["app_version"]))
        if not values_equal(current_values, values):
            reasons.append("values changed")
    if params["force"] and not reasons:
        reasons.append("force")

    if reasons:
        lines, before_text, after_text = values_diff(current_values, values)
        result["values_diff"] = lines
        result["secrets_changed"] = secret_change_paths(current_values, values)
        if module._diff:
            result["diff"] = {"before": before_text, "after": after_text,
                              "before_header": "%s values (revision %s)" % (name, result["previous_revision"]),
                              "after_header": "%s values (%s)" % (name, target_chart)}
    if not reasons or module.check_mode:
        result["changed"] = bool(reasons)
        module.exit_json(**result)

    lock = lock_from_params(params)
    warnings = []

    def tick():
        if lock is not None:
            try:
                lock.renew()
            except LockLost as exc:
                if str(exc) not in warnings:
                    warnings.append(str(exc))
            except Exception as exc:  # pylint: disable=broad-except
                warnings.append("could not renew the release lock: %s" % exc)

    rc, out, err = helm.upgrade(params["chart_ref"], values, params["chart_repo_url"], params["chart_version"],
                                params["wait"], params["timeout"], params["history_max"], tick=tick,
                                tick_interval=min(5.0, max(1.0, params["lock_duration"] / 3.0)))
    result["changed"] = True
    after = helm.history()
    result["status"] = after[-1] if after else None
    if rc == 0:
        result["upgraded"] = True
        _warn(module, warnings)
        module.exit_json(**result)

    # The upgrade failed: report first (the state that failed), then roll back.
    result["helm_error"] = (err or out or "").strip()
    new = after[-1] if after else None
    if new and (result["previous_revision"] is None or new["revision"] > result["previous_revision"]):
        result["failed_revision"] = new["revision"]
    try:
        selector = params["diagnostics_selector"] or "app.kubernetes.io/instance=%s" % name
        result["report"] = ClusterReader(params).report(namespace, selector, params["migrations_container"],
                                                        params["log_lines"], params["events_count"])
    except Exception as exc:  # pylint: disable=broad-except
        result["report"] = {"errors": ["could not collect the failure report: %s" % exc]}
    msg = "helm upgrade of release %s in namespace %s to %s failed: %s." % (
        name, namespace, target_chart, result["helm_error"])
    target = last_good_revision(after, before=result["failed_revision"] or (new["revision"] + 1 if new else None))
    if not params["rollback_on_failure"]:
        msg += " Automatic rollback is disabled (deploy_rollback_on_failure)."
    elif target is None:
        msg += (" It was a first install: nothing to roll back to; the release stays failed and the next run "
                "installs over it.")
    else:
        tick()
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
    if report.get("deployments_not_available") or report.get("pods_not_ready"):
        msg += " Not Available: %s. Pods not Ready: %s." % (
            ", ".join(report.get("deployments_not_available") or []) or "none",
            ", ".join(report.get("pods_not_ready") or []) or "none")
    _warn(module, warnings)
    module.fail_json(msg=msg, **result)


def _safe_args(params):
    """Module arguments for the invocation record: values redacted, auth secrets dropped."""
    out = {k: v for k, v in params.items() if k not in ("values", "api_key", "kubeconfig")}
    out["values"] = redact_values(params.get("values") or {})
    out["kubeconfig"] = params["kubeconfig"] if isinstance(params.get("kubeconfig"), str) else None
    return out


def _warn(module, warnings):
    for warning in warnings:
        module.warn(warning)


if __name__ == "__main__":
    main()
