#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: helm_release_lock
short_description: Take or release the lock of a CARTO Helm release (a Kubernetes Lease)
version_added: 0.2.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - "Helm v3 has no lock of its own. Two C(helm upgrade) runs on one release at the same time fail with
    C(another operation (install/upgrade/rollback) is in progress) or leave it stuck in C(pending-upgrade)
    (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) I(Helm upgrade fails: another operation (install/upgrade/rollback)
    is in progress)). This module serialises the runs of this collection with a C(coordination.k8s.io/v1) Lease
    named I(lock_name) in the release namespace."
  - I(state=present) takes the Lease. A Lease held by another holder and not expired (C(renewTime) +
    C(leaseDurationSeconds) in the future) means another run is active; the module waits up to I(wait_timeout)
    seconds, then fails. Creation and take-over use the API server's optimistic concurrency (create, or replace with
    the C(resourceVersion) read), so two runs can never both get it.
  - A Lease that expired without being released belonged to a run that was killed; it is taken over and
    RV(took_over) tells when that run had taken it, so M(carto.selfhosted.helm_release_recover) can treat what it
    left pending as abandoned.
  - The holder must renew the Lease within I(duration) seconds; M(carto.selfhosted.helm_release_recover) and
    M(carto.selfhosted.helm_release_upgrade) renew it while they work (their C(lock_holder) option).
  - I(state=absent) deletes the Lease if I(holder) holds it (run it in an C(always) section).
  - The Lease is bookkeeping that lives only during a run, so the module always reports C(changed=false).
  - In check mode nothing is written; the module reports whether the Lease is free.
extends_documentation_fragment:
  - carto.selfhosted.cluster
  - carto.selfhosted.cluster.HELM
requirements:
  - kubernetes (Python client) >= 24.2.0
options:
  release_name:
    description: Name of the Helm release the lock protects.
    type: str
    required: true
    aliases: [name]
  release_namespace:
    description: Namespace of the release; the Lease is created there (the namespace must exist).
    type: str
    required: true
    aliases: [namespace]
  lock_name:
    description: Name of the Lease. Defaults to C(<release_name>-carto-selfhosted-lock).
    type: str
  holder:
    description:
      - Identity of this run (the Lease C(holderIdentity)).
      - Required for I(state=absent). With I(state=present) a unique one (host, process id, random suffix) is
        generated when omitted and returned in RV(holder).
    type: str
  state:
    description: C(present) takes the lock (waiting for it), C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  duration:
    description: C(leaseDurationSeconds) of the Lease, in seconds. A killed run blocks others for at most this long.
    type: int
    default: 60
  wait_timeout:
    description: How long to wait for another holder to release the Lease, in seconds (0 = do not wait).
    type: int
    default: 600
  poll_interval:
    description: Seconds between two attempts while waiting.
    type: int
    default: 2
notes:
  - "Failure messages: C(Release <name> in namespace <ns> is locked by <holder> (another carto.selfhosted run, lock
    Lease <ns>/<lock_name>, renewed <time>, expires in <n> s); waited <n> s. Re-run when that run has finished, or
    raise wait_timeout.) and C(Could not read or write the Lease <ns>/<lock_name>: <API error>)."
seealso:
  - module: carto.selfhosted.helm_release_recover
  - module: carto.selfhosted.helm_release_upgrade
"""

EXAMPLES = r"""
- name: Take the release lock
  carto.selfhosted.helm_release_lock:
    release_name: carto
    release_namespace: carto
    wait_timeout: 900
  register: lock

- name: Release the release lock
  carto.selfhosted.helm_release_lock:
    release_name: carto
    release_namespace: carto
    holder: "{{ lock.holder }}"
    state: absent
"""

RETURN = r"""
holder:
  description: Identity holding (or that held) the lock for this run.
  returned: always
  type: str
  sample: controller-4242-1a2b3c4d
lock_name:
  description: Name of the Lease.
  returned: always
  type: str
  sample: carto-carto-selfhosted-lock
acquired:
  description:
    - Whether the lock is held by I(holder) after the module ran.
    - Always false in check mode and for I(state=absent).
  returned: always
  type: bool
released:
  description: Whether the Lease was deleted (state=absent).
  returned: always
  type: bool
waited:
  description: Seconds spent waiting for another holder.
  returned: always
  type: float
  sample: 12.5
held_by:
  description: Holder found on the Lease when it was busy (or in check mode), else null.
  returned: always
  type: str
took_over:
  description: The expired Lease of a run that was killed, taken over by this run, else null.
  returned: always
  type: dict
  contains:
    holder:
      description: Identity of the run that stopped.
      type: str
    acquire_time:
      description: When it had taken the lock (RFC 3339).
      type: str
    renew_time:
      description: When it renewed it for the last time (RFC 3339).
      type: str
    expired_for:
      description: Seconds since its Lease expired.
      type: float
"""

from ansible.module_utils.basic import missing_required_lib  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client  # noqa: E402

try:
    import kubernetes  # noqa: F401  pylint: disable=unused-import

    HAS_K8S = True
except ImportError:
    HAS_K8S = False

from ansible_collections.carto.selfhosted.plugins.module_utils._helm.lease import release_argument_spec  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.ops import (  # noqa: E402
    ReleaseError,
    acquire_lock,
    release_lock,
)


def main():
    spec = release_argument_spec(
        lock_options=False,
        lock_name=dict(type="str"),
        holder=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        duration=dict(type="int", default=60),
        wait_timeout=dict(type="int", default=600),
        poll_interval=dict(type="int", default=2),
    )
    module = AnsibleHelmModule(argument_spec=spec, mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
                               required_if=[("state", "absent", ["holder"])], supports_check_mode=True)
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    params = module.params
    release, namespace = params["release_name"], params["release_namespace"]
    try:
        if params["state"] == "absent":
            result = release_lock(params, release, namespace, params["lock_name"], params["holder"],
                                  module.check_mode)
        else:
            dummy, result = acquire_lock(params, release, namespace, params["lock_name"], params["holder"],
                                         params["duration"], params["wait_timeout"], params["poll_interval"],
                                         module.check_mode)
    except ReleaseError as exc:
        module.fail_json(msg=exc.msg, **exc.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
