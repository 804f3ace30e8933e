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
    carto-values.yaml -f carto-secrets.yaml -f customizations.yaml); U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes)
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
    U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes) I(Post-installation checks)), then runs C(helm rollback <release>
    <previous revision> --wait) to the last C(deployed) (else C(superseded)) revision, and fails with the report.
    A failed first install has nothing to roll back to and stays C(failed); the next run installs over it."
  - "Without I(recover=true), a release whose last revision is pending-* is refused (set I(recover=true);
    U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) I(Helm upgrade fails: another operation
    (install/upgrade/rollback) is in
    progress))."
  - "Secrets: I(values) is a no_log option; every secret-looking value (by key name, the rules of
    the values role's redaction) is masked in everything the module returns, including helm's error
    output. RV(diff) and RV(values_diff) show the values with secrets replaced by C(<redacted>); secrets that changed
    are only named in RV(secrets_changed)."
  - With I(lock_holder) (the holder of a release lock taken by the caller), that Lease is renewed while helm runs.
  - "One call for the whole deployment (what the C(carto.selfhosted.deploy) role uses): with I(lock=true) the module
    takes the release lock itself (a Lease I(lock_name) in the release namespace, waiting up to I(lock_wait_timeout)
    seconds), renews it while helm runs and releases it at the end, also when the upgrade fails; with
    I(recover=true) it first recovers a release left C(pending-install), C(pending-upgrade) or C(pending-rollback)
    by a killed run (rollback to the last good revision, or a reinstall of a first install, history kept)
    (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md)
    I(Helm upgrade fails: another operation (install/upgrade/rollback) is in progress)). A lock taken over from a run
    that stopped renewing it makes that run's pending revision abandoned (I(orphaned_since) is then the acquire time
    of the lock taken over). One Python process instead of four module runs."
  - "Rollout engine: while Helm waits (C(--wait) on Helm 3, C(--wait=watcher) on Helm 4) the module watches the
    release's Pods, Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, PersistentVolumeClaims and Events
    (label C(app.kubernetes.io/instance=<release>), or I(diagnostics_selector)) through the Kubernetes API. At the
    first terminal failure - C(Unschedulable), a claim that cannot bind, C(ErrImagePull)/C(ImagePullBackOff)/
    C(InvalidImageName), C(CrashLoopBackOff) of any container (init containers first; C(workspace-migrations) named as
    CARTO's migrations), C(CreateContainerConfigError)/C(CreateContainerError), C(FailedCreate), C(ProgressDeadlineExceeded),
    a failed Helm hook Job - it sends Helm SIGTERM, on which Helm stops waiting and records the revision failed; the
    module writes the verdict into the revision's description, rolls an upgrade back (I(rollback_on_failure)) and fails
    with the culprit, reason, Kubernetes message, events and the failing container's logs (current and previous, read
    as soon as it failed, before a hook's pod is deleted). Transient states are tolerated by I(rollout_grace) and
    I(rollout_restarts). A slow rollout that progresses is never cut short: the timeout stays I(timeout)."
  - "Helm 3 (>= 3.6) and Helm 4 are supported: the major version is read with C(helm version) and the wait flag
    mapped. Helm 4 applies server-side by default for new releases (C(--server-side=auto) on upgrades follows the
    release's previous method); the module passes no apply flags, so each major keeps its own default."
  - Check mode reports whether an upgrade would run (and the diff in diff mode) without running it.
extends_documentation_fragment:
  - carto.selfhosted.cluster
  - carto.selfhosted.cluster.HELM
requirements:
  - helm 3 (>= 3.7) or helm 4
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
    description: Chart repository (U(https://helm.carto.com)); omit for a local chart.
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
  rollout_grace:
    description:
      - Seconds a failure that can clear by itself (C(Unschedulable), C(ErrImagePull)/C(ImagePullBackOff), C(FailedCreate),
        a PersistentVolumeClaim that cannot bind, C(CreateContainerConfigError)/C(CreateContainerError)) must persist
        before the rollout engine calls it terminal. C(InvalidImageName), C(ProgressDeadlineExceeded), a failed Job and a
        container at I(rollout_restarts) restarts are terminal at once.
    type: int
    default: 5
  rollout_restarts:
    description: Restarts of a crashing container (C(CrashLoopBackOff)) or failed pods of a Job that are terminal; fewer
      are tolerated.
    type: int
    default: 2
  managed_secrets:
    description: Names of the Secrets the play creates, so that a container that cannot start for a missing Secret is
      reported as one the collection was meant to create, or one it does not manage.
    type: list
    elements: str
    default: []
  secret_checksums:
    description:
      - Roll exactly the workloads whose Secrets changed. The chart is rendered once (C(helm show values), C(helm
        template)) with a marker in every C(<component>.podAnnotations) of its values, which shows which values path
        feeds which pod template and which Secrets each pod template reads (C(env[].valueFrom.secretKeyRef),
        C(envFrom[].secretRef), C(volumes[].secret), C(projected) sources), minus the Secrets the release renders
        itself (the chart checksums those). Their live data (also of Secrets made by an operator) is digested,
        HMAC-SHA256 keyed with the Secret's C(metadata.uid), and merged into that component's C(podAnnotations)
        with the user's annotations - C(checksum/secrets) (one digest over its Secrets) and
        C(carto.selfhosted/secret-checksums) (C(name=<16 hex>) per Secret) - before the values are compared.
      - "A rotated password (docs.carto.com, Self-hosted, Customizations, I(Setup Postgres creating secrets)) then
        changes the values of its consumers only: C(helm upgrade --wait) with the rollout engine rolls and verifies
        exactly them; unchanged Secrets give the same values, so a no-op run changes nothing. The first run with
        checksums on an installed release rolls every consumer once (the annotations are new)."
      - Only checksums and Secret names are returned (RV(secret_rotation)), never Secret data.
    type: bool
    default: false
  lock_name:
    description: Lease to renew while helm runs (defaults to C(<release_name>-carto-selfhosted-lock)).
    type: str
  lock_holder:
    description:
      - Holder identity of a release lock (Lease I(lock_name)) the caller already holds.
      - The lock is renewed while helm runs.
    type: str
  lock_duration:
    description: C(leaseDurationSeconds) written when renewing the lock, in seconds.
    type: int
    default: 60
  lock:
    description:
      - Take the release lock (a Lease I(lock_name)) before anything else and release it at the end, also on
        failure. I(lock_holder) is the holder identity (a unique one is generated when it is not set).
      - In check mode the Lease is only read (C(held_by) in RV(lock)).
    type: bool
    default: false
  lock_wait_timeout:
    description: With I(lock=true), how long to wait for another holder to release the lock, in seconds.
    type: int
    default: 600
  lock_poll_interval:
    description: With I(lock=true), seconds between two attempts to take the lock while waiting.
    type: int
    default: 2
  recover:
    description: Recover a release left pending-* before the upgrade (rollback or reinstall; RV(recovery)).
    type: bool
    default: false
  pending_timeout:
    description: With I(recover=true), age in seconds after which a pending-* revision is considered abandoned.
    type: int
    default: 900
  orphaned_since:
    description:
      - With I(recover=true), an RFC 3339 time; a pending-* revision written at or after it is abandoned whatever
        its age. Defaults to the acquire time of a lock taken over from a run that was killed (I(lock=true)).
    type: str
  pending_wait_timeout:
    description: With I(recover=true), how long to wait, in seconds, for an operation still in progress.
    type: int
    default: 600
  pending_poll_interval:
    description: With I(recover=true), seconds between two reads of the history while waiting.
    type: int
    default: 5
notes:
  - "Failure messages of I(lock=true): C(Release <name> in namespace <ns> is locked by <holder> ...),
    C(Could not read or write the Lease ...); of I(recover=true): C(Release <name> in namespace <ns>: revision <n>
    has been pending-upgrade for <n> s ... Waited <n> s ...), C(Recovery of release <name> ... failed: ...)."
  - "Failure messages: C(Release <name> in namespace <ns> is <pending-*> (revision <n>) ... run
    with recover=true (the carto.selfhosted.deploy role does)), C(Refusing to downgrade chart <name> from <deployed> (revision <n>)
    to <version> ... set deploy_allow_downgrade (carto_allow_downgrade) to true), C(helm show chart <ref> failed ...),
    C(helm upgrade of release <name> ... failed: <helm error>. Rolled back to revision <n> (now <status>) ...),
    C(... The rollback to revision <n> failed too: <error>), C(... It was a first install: nothing to roll back to)."
seealso:
  - module: kubernetes.core.helm
"""

EXAMPLES = r"""
- name: Lock, recover a release left pending, install or upgrade, roll back on failure - in one call
  carto.selfhosted.helm_release_upgrade:
    release_name: carto
    release_namespace: carto
    chart_ref: carto
    chart_repo_url: https://helm.carto.com
    chart_version: 1.287.1
    values: "{{ values_final }}"
    lock: true
    lock_wait_timeout: 900
    recover: true
    pending_timeout: 900
  register: release
  no_log: true
  failed_when: false

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
helm_version:
  description: The Helm CLI's version (C(helm version --template {{.Version}})); Helm 3 and Helm 4 flags differ.
  returned: always
  type: str
  sample: v4.3.1
rollout:
  description:
    - What the rollout engine saw while Helm waited (see the description). RV(rollout.verdict) is null on success.
  returned: always
  type: dict
  contains:
    verdict:
      description:
        - The first terminal failure (C(terminal=true)), or when Helm failed on its own (its timeout, a rejected
          manifest) the best explanation seen (C(terminal=false)). Keys - C(id) (C(unschedulable), C(pvc_not_bound),
          C(image_pull), C(container_crash), C(container_config), C(create_failed), C(progress_deadline),
          C(hook_failed), C(job_failed)), C(reason) (Kubernetes' reason string), C(culprit) (C(Kind/name)), C(owner),
          C(container), C(init), C(image), C(message) (Kubernetes' text), C(summary), C(missing), C(events) (list),
          C(logs) (per C(pod/container), the C(current) and C(previous) lines), C(log_text), C(first_seen), C(detected_at)
          (UTC ISO 8601), C(verdict_after) (seconds from the first sight of the condition), C(findings).
      type: dict
    not_ready:
      description: C(Kind/name - why) of the workloads not ready when Helm failed.
      type: list
      elements: str
    watch_errors:
      description: Errors of the watches (the verdict may then come late or from Helm alone).
      type: list
      elements: str
secret_rotation:
  description:
    - With I(secret_checksums=true), what the Secret checksums changed (names and checksums only); null without.
  returned: always
  type: dict
  contains:
    components:
      description: Per values path (C(workspaceApi)), C(checksum) (C(checksum/secrets)), C(secrets) (name -> short
        digest), C(workloads) (C(Kind/name)) and C(changed) (its checksum differs from the deployed one).
      type: dict
    secrets:
      description: Every Secret the release's workloads read and the release does not render itself.
      type: list
      elements: str
    secrets_changed:
      description: Secrets whose data (or uid) differs from the deployed checksums.
      type: list
      elements: str
    secrets_added:
      description: Secrets checksummed for the first time (first run with checksums, or newly referenced).
      type: list
      elements: str
    workloads_rolled:
      description: C(Kind/name) of the workloads whose pod template changes through C(checksum/secrets) (empty for
        a new install).
      type: list
      elements: str
    unmanaged:
      description: Workloads that read such Secrets but whose pod template takes no podAnnotations (not rolled).
      type: list
      elements: str
    skipped:
      description: Values paths whose C(podAnnotations) is not a dict (a tpl string), left as they are.
      type: list
      elements: str
    applied:
      description: Whether the upgrade carrying the checksums ran and succeeded.
      type: bool
  sample: {"secrets_changed": ["carto-postgresql"], "secrets_added": [],
           "workloads_rolled": ["Deployment/carto-workspace-api"], "applied": true}
marked_failed:
  description: Whether the failed revision's status and description were written with the verdict (Helm's storage).
  returned: when the rollout engine stopped Helm
  type: bool
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
lock:
  description:
    - With I(lock=true), the release lock (C(holder),
      C(lock_name), C(acquired), C(waited) in seconds, C(held_by), C(took_over)) and C(released) (deleted at the end).
    - Null without I(lock=true).
  returned: always
  type: dict
  sample: {"holder": "controller-4242-1a2b3c4d", "lock_name": "carto-carto-selfhosted-lock", "acquired": true,
           "released": true, "waited": 0.0, "held_by": null, "took_over": null}
recovery:
  description:
    - With I(recover=true), what was found and done (C(found), C(action) none, rollback or reinstall,
      C(target_revision), C(waited) in seconds, C(report), C(history), C(commands)). Null without I(recover=true).
  returned: always
  type: dict
  sample: {"action": "none", "found": {"state": "deployed", "revision": 2}, "report": "revision 2 is deployed"}
"""

from ansible.module_utils.basic import missing_required_lib  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule, HAS_YAML  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.cli import HelmRelease  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.lease import (  # noqa: E402
    lock_from_params,
    mask_secret_values,
    release_argument_spec,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.ops import (  # noqa: E402
    ReleaseError,
    Renewer,
    acquire_lock,
    recover,
    release_lock,
    safe_args,
    upgrade,
)


def argument_spec():
    spec = release_argument_spec(
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
        rollout_grace=dict(type="int", default=5),
        rollout_restarts=dict(type="int", default=2),
        managed_secrets=dict(type="list", elements="str", default=[], no_log=False),  # names, not secret values
        secret_checksums=dict(type="bool", default=False),
        lock=dict(type="bool", default=False),
        lock_wait_timeout=dict(type="int", default=600),
        lock_poll_interval=dict(type="int", default=2),
        recover=dict(type="bool", default=False),
        pending_timeout=dict(type="int", default=900),
        orphaned_since=dict(type="str"),
        pending_wait_timeout=dict(type="int", default=600),
        pending_poll_interval=dict(type="int", default=5),
    )
    return spec


def main():
    module = AnsibleHelmModule(argument_spec=argument_spec(), mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
                               supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    params = module.params
    mask_secret_values(module, params["values"], params.get("api_key"))

    name, namespace = params["release_name"], params["release_namespace"]
    helm = HelmRelease(module, name, namespace)
    extra = dict(invocation={"module_args": safe_args(params)}, lock=None, recovery=None)
    renewer = Renewer(None)
    lock = None
    try:
        if params["lock"]:
            lock, extra["lock"] = acquire_lock(
                params, name, namespace, params["lock_name"], params["lock_holder"], params["lock_duration"],
                params["lock_wait_timeout"], params["lock_poll_interval"], module.check_mode)
        elif not module.check_mode:
            lock = lock_from_params(params)
        renewer.lock = lock
        try:
            if params["recover"]:
                took_over = (extra["lock"] or {}).get("took_over")
                try:
                    extra["recovery"] = recover(
                        helm, params["pending_timeout"],
                        params["orphaned_since"] or (took_over["acquire_time"] if took_over else None),
                        params["pending_wait_timeout"], params["pending_poll_interval"], params["wait"],
                        params["timeout"], params["history_max"], module.check_mode, renew=renewer)
                except ReleaseError as exc:
                    extra["recovery"] = exc.result
                    raise ReleaseError(exc.msg, dict(changed=exc.result.get("changed", False),
                                                     commands=helm.commands))
            result = upgrade(helm, params, module.check_mode, module._diff, renewer, extra["recovery"])
            result["changed"] = result["changed"] or bool(extra["recovery"] and extra["recovery"]["changed"])
        finally:
            if params["lock"] and lock is not None:
                extra["lock"]["released"] = _release(params, name, namespace, lock, renewer)
    except ReleaseError as exc:
        _warn(module, renewer.warnings)
        module.fail_json(msg=exc.msg, **dict(exc.result, **extra))
    _warn(module, renewer.warnings)
    module.exit_json(**dict(result, **extra))


def _release(params, name, namespace, lock, renewer):
    try:
        return release_lock(params, name, namespace, lock.name, lock.holder, False, lock=lock)["released"]
    except ReleaseError as exc:
        renewer.warnings.append(exc.msg)
        return False


def _warn(module, warnings):
    for warning in warnings:
        module.warn(warning)


if __name__ == "__main__":
    main()
