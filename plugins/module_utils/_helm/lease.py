# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Private: the release lock, a ``coordination.k8s.io`` Lease (state, body, acquire/renew/release), and the
argument spec the release modules share (the cluster options of module_utils/_k8s/client.py, the release, the
lock).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import time
import uuid
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client
from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import secret_values

from ansible_collections.carto.selfhosted.plugins.module_utils._helm.history import format_time, parse_time, utcnow


LOCK_SUFFIX = "-carto-selfhosted-lock"


MANAGED_BY = "carto.selfhosted"


# --------------------------------------------------------------------------- Lease


def lease_state(lease, now):
    """State of a release lock Lease (a dict as the API returns it, or None).

    Returns ``held`` (bool: a holder is set and the lease has not expired), ``holder``,
    ``expires_in`` (seconds, negative once expired), ``acquire_time``, ``renew_time``, ``duration``.
    """
    if not lease:
        return {"held": False, "holder": None, "expires_in": None, "acquire_time": None, "renew_time": None,
                "duration": None}
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity") or None
    duration = int(spec.get("leaseDurationSeconds") or 0)
    renew = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    expires_in = (renew + datetime.timedelta(seconds=duration) - now).total_seconds() if renew else -1.0
    return {"held": bool(holder) and expires_in > 0, "holder": holder, "expires_in": expires_in,
            "acquire_time": spec.get("acquireTime"), "renew_time": spec.get("renewTime"), "duration": duration}


def _expired_for(expires_in):
    """Seconds since a Lease expired (``expires_in`` of lease_state; None, no Lease, counts as 0)."""
    if expires_in is None:
        return 0.0
    return max(0.0, -expires_in)


def lease_body(name, namespace, holder, duration, now, release_name, acquire_time=None, resource_version=None,
               transitions=0):
    metadata = {"name": name, "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/instance": release_name}}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": int(duration),
                     "acquireTime": acquire_time or format_time(now), "renewTime": format_time(now),
                     "leaseTransitions": int(transitions)}}


def default_holder():
    return "%s-%d-%s" % (os.uname()[1] if hasattr(os, "uname") else "host", os.getpid(), uuid.uuid4().hex[:8])


class LockLost(Exception):
    pass


class LeaseLock(object):
    """The release lock: a coordination.k8s.io/v1 Lease held by one run at a time.

    Acquire = create the Lease, or replace an expired / free one with an optimistic
    ``resourceVersion`` precondition, so two runs can never both win. The holder renews it while
    it works (``renew``) and deletes it at the end (``release``). A run that is killed stops
    renewing; the Lease expires ``duration`` seconds later and the next run takes it over
    (``took_over`` tells when that run had acquired it).
    """

    def __init__(self, params, name, namespace, holder, duration, release_name, clock=utcnow, sleep=time.sleep):
        from kubernetes import client as k8s_client

        self._api_client = cluster_client.api_client(params)
        self.api = k8s_client.CoordinationV1Api(self._api_client)
        self.name = name
        self.namespace = namespace
        self.holder = holder
        self.duration = int(duration)
        self.release_name = release_name
        self.clock = clock
        self.sleep = sleep
        self.took_over = None
        self.last_renew = None

    def _read(self):
        from kubernetes.client.rest import ApiException

        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return self._api_client.sanitize_for_serialization(lease)

    def try_acquire(self):
        """One attempt. Returns (acquired, state of the Lease as found)."""
        from kubernetes.client.rest import ApiException

        now = self.clock()
        current = self._read()
        state = lease_state(current, now)
        try:
            if current is None:
                self.api.create_namespaced_lease(self.namespace, lease_body(
                    self.name, self.namespace, self.holder, self.duration, now, self.release_name))
            elif state["holder"] == self.holder:
                self._replace(current, now, acquire_time=state["acquire_time"])
            elif state["held"]:
                return False, state
            else:
                if state["holder"]:
                    # Expired without being released: its holder stopped (killed, crashed).
                    self.took_over = {"holder": state["holder"], "acquire_time": state["acquire_time"],
                                      "renew_time": state["renew_time"],
                                      "expired_for": _expired_for(state["expires_in"])}
                self._replace(current, now, transitions=int((current.get("spec") or {}).get("leaseTransitions")
                                                            or 0) + 1)
        except ApiException as exc:
            if exc.status in (409, 422):  # somebody else won the race, or created it meanwhile
                return False, lease_state(self._read(), self.clock())
            raise
        self.last_renew = now
        return True, state

    def _replace(self, current, now, acquire_time=None, transitions=None):
        spec = current.get("spec") or {}
        body = lease_body(self.name, self.namespace, self.holder, self.duration, now, self.release_name,
                          acquire_time=acquire_time,
                          resource_version=(current.get("metadata") or {}).get("resourceVersion"),
                          transitions=spec.get("leaseTransitions") or 0 if transitions is None else transitions)
        self.api.replace_namespaced_lease(self.name, self.namespace, body)

    def acquire(self, wait_timeout, poll_interval=2.0, on_wait=None):
        """Try until acquired or ``wait_timeout`` seconds passed. Returns (acquired, waited s, last state)."""
        start = time.monotonic()
        while True:
            acquired, state = self.try_acquire()
            waited = time.monotonic() - start
            if acquired or waited >= wait_timeout:
                return acquired, waited, state
            if on_wait:
                on_wait(state)
            self.sleep(min(poll_interval, max(0.1, wait_timeout - waited)))

    def renew(self, force=False):
        """Renew the Lease if a third of its duration passed (or ``force``). Raises LockLost if not ours."""
        now = self.clock()
        if not force and self.last_renew and (now - self.last_renew).total_seconds() < self.duration / 3.0:
            return
        current = self._read()
        state = lease_state(current, now)
        if current is None or state["holder"] != self.holder:
            raise LockLost("the release lock %s/%s is now held by %s" % (self.namespace, self.name, state["holder"]))
        self._replace(current, now, acquire_time=state["acquire_time"])
        self.last_renew = now

    def release(self):
        """Delete the Lease if we hold it. Returns True when deleted."""
        from kubernetes import client as k8s_client
        from kubernetes.client.rest import ApiException

        current = self._read()
        if current is None or (current.get("spec") or {}).get("holderIdentity") != self.holder:
            return False
        try:
            self.api.delete_namespaced_lease(self.name, self.namespace, body=k8s_client.V1DeleteOptions(
                preconditions=k8s_client.V1Preconditions(
                    resource_version=(current.get("metadata") or {}).get("resourceVersion"))))
        except ApiException as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True


def lock_name_of(release_name, lock_name=None):
    """The release lock's Lease name: ``lock_name``, else ``<release_name>-carto-selfhosted-lock``."""
    return lock_name or release_name + LOCK_SUFFIX


def mask_secret_values(module, values, api_key=None):
    """Mask exactly the secret values of ``values`` (and the API token) in everything an AnsibleHelmModule
    returns. Masking every string of the values (``no_log`` on the option) would garble manifests and diffs."""
    masked = set(secret_values(values or {}))
    if api_key:
        masked.add(api_key)
    module._module.no_log_values = masked


def lock_from_params(params):
    """A LeaseLock from the common ``lock_*`` module options, or None when ``lock_holder`` is not set."""
    if not params.get("lock_holder"):
        return None
    name = lock_name_of(params["release_name"], params.get("lock_name"))
    return LeaseLock(params, name, params["release_namespace"], params["lock_holder"],
                     params.get("lock_duration") or 60, params["release_name"])


LOCK_ARG_SPEC = dict(
    lock_name=dict(type="str"),
    lock_holder=dict(type="str"),
    lock_duration=dict(type="int", default=60),
)


def release_argument_spec(lock_options=True, **options):
    """The argument spec (dict) every release module starts from.

    The cluster and helm options (module_utils/_k8s/client.py, doc fragments ``carto.selfhosted.cluster`` and
    ``carto.selfhosted.cluster.HELM``), then the release (``release_name`` / ``release_namespace``), the run's Lease
    options when ``lock_options`` is true, and the module's own ``options``.
    """
    spec = cluster_client.argument_spec(helm=True)
    if lock_options:
        spec.update(LOCK_ARG_SPEC)
    spec.update(
        release_name=dict(type="str", required=True, aliases=["name"]),
        release_namespace=dict(type="str", required=True, aliases=["namespace"]),
    )
    spec.update(options)
    return spec
