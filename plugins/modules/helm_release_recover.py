#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: helm_release_recover
short_description: Recover a Helm release stuck in pending-install, pending-upgrade or pending-rollback
version_added: 0.2.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - "Reads the release's status and history (C(helm history -o json)) before an upgrade. A release whose last revision
    is C(pending-install), C(pending-upgrade) or C(pending-rollback) makes every later C(helm upgrade) fail with
    C(another operation (install/upgrade/rollback) is in progress). CARTO's fix is C(helm history) then C(helm rollback
    <release> <last deployed revision>) (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) I(Helm upgrade fails: another
    operation (install/upgrade/rollback) is in progress)); this module automates it."
  - "The pending revision is B(abandoned) when it is older than I(pending_timeout) seconds (its C(updated) time, the
    time Helm wrote the pending revision), or when I(orphaned_since) is given and the revision was written at or
    after it (M(carto.selfhosted.helm_release_lock) returns that time in C(took_over.acquire_time) when it takes over
    the lock of a killed run)."
  - "Abandoned: C(helm rollback <release> <revision> --wait) to the last C(deployed) revision, else the last
    C(superseded) one. A first install that never succeeded (no such revision) is removed with C(helm uninstall
    --keep-history) so that the next C(helm upgrade --install) installs it again. Recovery never deletes the release
    history (rollback adds a revision; the uninstall keeps the history) nor data (PersistentVolumeClaims and Secrets
    not created by the chart are untouched by Helm)."
  - Not abandoned (an operation may still be in progress, started by another run or operator) - it is not disturbed;
    the module polls the history every I(poll_interval) seconds for up to I(wait_timeout) seconds until the
    operation finishes (or becomes abandoned), then fails.
  - Releases in any other state (absent, C(deployed), C(failed), C(superseded), C(uninstalled)) are left alone
    (C(helm upgrade --install) handles them).
  - With I(lock_holder) the release lock is renewed while the module waits or rolls back.
  - In check mode it reports what it would do without doing it.
extends_documentation_fragment:
  - carto.selfhosted.cluster
  - carto.selfhosted.cluster.HELM
requirements:
  - helm >= 3.7 (C(uninstall --wait))
  - kubernetes (Python client), when I(lock_holder) is set
options:
  release_name:
    description: Release name.
    type: str
    required: true
    aliases: [name]
  release_namespace:
    description: Release namespace.
    type: str
    required: true
    aliases: [namespace]
  pending_timeout:
    description: Age in seconds after which a pending-* revision is considered abandoned.
    type: int
    default: 900
  orphaned_since:
    description:
      - RFC 3339 time. A pending-* revision written at or after it was started by a run whose lock expired without
        being released, and is abandoned whatever its age.
    type: str
  wait_timeout:
    description: How long to wait, in seconds, for an operation still in progress before failing.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two reads of the history while waiting.
    type: int
    default: 5
  wait:
    description: Pass C(--wait) to C(helm rollback) / C(helm uninstall).
    type: bool
    default: true
  timeout:
    description: C(--timeout) of C(helm rollback) / C(helm uninstall), in seconds.
    type: int
    default: 600
  history_max:
    description: C(--history-max) of C(helm rollback) (revisions kept).
    type: int
    default: 10
  lock_name:
    description: Lease to renew (defaults to C(<release_name>-carto-selfhosted-lock)).
    type: str
  lock_holder:
    description: Holder identity of the release lock taken by M(carto.selfhosted.helm_release_lock); renewed while waiting.
    type: str
  lock_duration:
    description: C(leaseDurationSeconds) written when renewing the lock, in seconds.
    type: int
    default: 60
notes:
  - "Failure messages: C(Release <name> in namespace <ns>: revision <n> has been pending-upgrade for <n> s: another
    operation (install/upgrade/rollback) may still be in progress ... waited <n> s ...) (lower I(pending_timeout)
    only if you are sure nothing runs), C(Recovery of release <name> ... failed: helm rollback ...: <stderr>),
    C(helm history <name> -n <ns> failed: <stderr>)."
seealso:
  - module: carto.selfhosted.helm_release_lock
  - module: carto.selfhosted.helm_release_upgrade
"""

EXAMPLES = r"""
- name: Recover the release if a killed run left it pending
  carto.selfhosted.helm_release_recover:
    release_name: carto
    release_namespace: carto
    pending_timeout: 900
    orphaned_since: "{{ lock.took_over.acquire_time | default(omit) }}"
    lock_holder: "{{ lock.holder }}"
  register: recovery
"""

RETURN = r"""
found:
  description: What was found before recovery.
  returned: always
  type: dict
  contains:
    state:
      description: Status of the last revision (C(absent) when the release does not exist).
      type: str
      sample: pending-upgrade
    revision:
      description: Last revision number (null when absent).
      type: int
    age:
      description: Seconds since the last revision was written.
      type: float
    updated:
      description: When the last revision was written (RFC 3339).
      type: str
    chart:
      description: Chart of the last revision (NAME-VERSION).
      type: str
    stale_reason:
      description: Why a pending revision was considered abandoned.
      type: str
action:
  description: C(none), C(rollback), C(reinstall) (uninstall keeping history; the upgrade installs again).
  returned: always
  type: str
target_revision:
  description: Revision rolled back to (action rollback), else null.
  returned: always
  type: int
waited:
  description: Seconds waited for an operation in progress.
  returned: always
  type: float
report:
  description: One sentence saying what was found and done.
  returned: always
  type: str
  sample: "revision 3 was left pending-upgrade (it is 950 s old, more than the 900 s pending timeout); rolled back to revision 2"
history:
  description: C(helm history -o json) entries after recovery (oldest first).
  returned: always
  type: list
  elements: dict
commands:
  description: helm commands run.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import missing_required_lib  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule, HAS_YAML  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.cli import HelmRelease  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.lease import (  # noqa: E402
    lock_from_params,
    release_argument_spec,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.ops import (  # noqa: E402
    ReleaseError,
    Renewer,
    recover,
)


def main():
    spec = release_argument_spec(
        pending_timeout=dict(type="int", default=900),
        orphaned_since=dict(type="str"),
        wait_timeout=dict(type="int", default=600),
        poll_interval=dict(type="int", default=5),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=600),
        history_max=dict(type="int", default=10),
    )
    module = AnsibleHelmModule(argument_spec=spec, mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
                               supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    params = module.params
    helm = HelmRelease(module, params["release_name"], params["release_namespace"])
    renew = Renewer(lock_from_params(params) if not module.check_mode else None)
    try:
        result = recover(helm, params["pending_timeout"], params["orphaned_since"], params["wait_timeout"],
                         params["poll_interval"], params["wait"], params["timeout"], params["history_max"],
                         module.check_mode, renew=renew)
    except ReleaseError as exc:
        _warn(module, renew.warnings)
        module.fail_json(msg=exc.msg, **exc.result)
    _warn(module, renew.warnings)
    module.exit_json(**result)


def _warn(module, warnings):
    for warning in warnings:
        module.warn(warning)


if __name__ == "__main__":
    main()
