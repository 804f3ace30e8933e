# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Helm release state, recovery of stuck releases, safe upgrades and the release lock (Lease).

Shared by the modules carto.selfhosted.helm_release_lock, helm_release_recover and
helm_release_upgrade. The pure functions (history analysis, version comparison, Lease
state, values diff) have no I/O and are unit tested; ``HelmRelease`` runs the helm CLI
through kubernetes.core's ``AnsibleHelmModule`` (kubeconfig/context handling) and
``LeaseLock`` / ``ClusterReader`` talk to the API server with the kubernetes client.

Sources:
- ../shared/docs/carto-customizations.md, "Helm upgrade fails: another operation
  (install/upgrade/rollback) is in progress": a release left in ``pending-upgrade`` by an
  upgrade that was not killed gracefully is fixed by ``helm history`` + ``helm rollback
  <release> <last deployed revision>``, then the upgrade is run again.
- ../shared/docs/carto-kubernetes-install.md, "Install CARTO" (``helm install`` / ``helm
  upgrade`` with ``-f carto-values.yaml -f carto-secrets.yaml -f customizations.yaml``; pods
  can take up to 5 minutes) and "Post-installation checks" (workspace-migrations logs).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import difflib
import json
import os
import re
import signal
import tempfile
import time
import uuid

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML is a requirement of ansible-core
    yaml = None

from ansible_collections.carto.selfhosted.plugins.module_utils._auth import auth_argument_spec
from ansible_collections.carto.selfhosted.plugins.module_utils import _process
from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import redact_values, secret_values
from ansible_collections.carto.selfhosted.plugins.module_utils import k8s_status

PENDING_STATES = ("pending-install", "pending-upgrade", "pending-rollback")
GOOD_STATES = ("deployed", "superseded")
LOCK_SUFFIX = "-carto-selfhosted-lock"
PENDING_TIMEOUT = 900  # seconds, default of helm_release_recover's pending_timeout
MANAGED_BY = "carto.selfhosted"
DOC_STUCK = ('../shared/docs/carto-customizations.md "Helm upgrade fails: another operation '
             '(install/upgrade/rollback) is in progress"')


# --------------------------------------------------------------------------- time


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(value):
    """Parse Helm / Kubernetes timestamps into an aware UTC datetime (None when empty).

    Accepts ``2026-11-21T05:30:08.890507773Z`` (helm history -o json, RFC 3339 with
    nanoseconds), ``2026-11-21 05:30:14.2697 +0000 UTC`` (helm list) and Kubernetes
    MicroTime/Time (``...Z``). datetime objects are returned as UTC.
    """
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).strip()
    text = re.sub(r" UTC$", "", text)
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$", text)
    if not match:
        raise ValueError("unrecognised timestamp %r" % (value,))
    day, clock, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    stamp = datetime.datetime.strptime(day + "T" + clock, "%Y-%m-%dT%H:%M:%S").replace(microsecond=micro)
    offset = datetime.timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (stamp - offset).replace(tzinfo=datetime.timezone.utc)


def format_time(value):
    """RFC 3339 MicroTime as Kubernetes Leases use it (``2026-01-02T03:04:05.000006Z``)."""
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- history


def normalise_history(history):
    """``helm history -o json`` entries sorted by revision, with ``revision`` as int."""
    out = []
    for entry in history or []:
        item = dict(entry)
        item["revision"] = int(item.get("revision", 0))
        out.append(item)
    return sorted(out, key=lambda item: item["revision"])


def last_good_revision(history, before=None):
    """The revision to go back to: the newest ``deployed`` one, else the newest ``superseded`` one.

    Only revisions lower than ``before`` count when it is given. Returns the history entry or None.
    """
    candidates = [h for h in normalise_history(history) if before is None or h["revision"] < before]
    for wanted in ("deployed", "superseded"):
        matching = [h for h in candidates if h.get("status") == wanted]
        if matching:
            return matching[-1]
    return None


def plan_recovery(history, now, pending_timeout, orphaned_since=None):
    """Decide what to do with a release before an upgrade.

    Returns a dict: ``state`` (absent, deployed, failed, uninstalled, pending-*, ...), ``revision``
    (last revision or None), ``age`` (seconds since the last revision was written, or None),
    ``action`` (``none``, ``wait``, ``rollback`` or ``reinstall``), ``target`` (revision to roll
    back to), ``stale_reason`` and ``reason`` (a sentence for the report).

    A pending-* last revision is stale (its operation is no longer in progress) when it is older than
    ``pending_timeout`` seconds, or when ``orphaned_since`` is given (the acquire time of a release
    lock whose holder stopped renewing it: that run died) and the revision was written at or after it.
    Stale: roll back to the last deployed, else last superseded revision; when there is none (a first
    install that never succeeded) uninstall it keeping the history and install again. Not stale: wait.
    ``pending_timeout`` None (an explicit null option) means the default, ``PENDING_TIMEOUT``.
    """
    if pending_timeout is None:
        pending_timeout = PENDING_TIMEOUT
    hist = normalise_history(history)
    if not hist:
        return {"state": "absent", "revision": None, "age": None, "action": "none", "target": None,
                "stale_reason": None, "reason": "the release does not exist yet"}
    last = hist[-1]
    updated = parse_time(last.get("updated"))
    age = max(0.0, (now - updated).total_seconds()) if updated else None
    plan = {"state": last.get("status"), "revision": last["revision"], "age": age, "action": "none",
            "target": None, "stale_reason": None, "chart": last.get("chart"), "updated": last.get("updated"),
            "reason": "revision %s is %s" % (last["revision"], last.get("status"))}
    if last.get("status") not in PENDING_STATES:
        return plan
    orphaned = parse_time(orphaned_since) if orphaned_since else None
    if orphaned is not None and updated is not None and updated >= orphaned:
        plan["stale_reason"] = ("it was started by a carto.selfhosted run whose release lock expired without "
                                "being released (that run was killed)")
    elif age is not None:
        # the age is unknown (no updated time) -> only an orphaned lock makes the revision stale
        if age >= pending_timeout:
            plan["stale_reason"] = "it is %d s old, more than the %d s pending timeout" % (age, pending_timeout)
    if not plan["stale_reason"]:
        plan["action"] = "wait"
        plan["reason"] = ("revision %s has been %s for %s s: another operation (install/upgrade/rollback) may still "
                          "be in progress" % (last["revision"], last.get("status"), "?" if age is None else int(age)))
        return plan
    target = last_good_revision(hist, before=last["revision"])
    if target is not None:
        plan.update(action="rollback", target=target["revision"],
                    reason="revision %s was left %s (%s); rolling back to revision %s (%s, chart %s)" % (
                        last["revision"], last.get("status"), plan["stale_reason"], target["revision"],
                        target.get("status"), target.get("chart")))
    else:
        plan.update(action="reinstall",
                    reason="revision %s was left %s (%s) and no revision was ever deployed; uninstalling it "
                           "(history kept) so that it is installed again" % (
                               last["revision"], last.get("status"), plan["stale_reason"]))
    return plan


# --------------------------------------------------------------------------- charts


def split_chart(chart):
    """``carto-1.287.1-test`` -> (``carto``, ``1.287.1-test``) as Helm prints NAME-VERSION."""
    match = re.match(r"^(.*?)-(v?\d+(?:\.\d+)*(?:[-+].*)?)$", chart or "")
    if not match:
        return chart or "", ""
    return match.group(1), match.group(2)


def _version_key(version):
    text = str(version or "").lstrip("vV").split("+", 1)[0]
    core, _sep, pre = text.partition("-")
    nums = []
    for part in core.split("."):
        digits = re.match(r"\d+", part)
        nums.append(int(digits.group(0)) if digits else 0)
    while len(nums) < 3:
        nums.append(0)
    pre_key = []
    for part in pre.split(".") if pre else []:
        pre_key.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    # A release sorts after its pre-releases (SemVer 2.0.0 section 11).
    return tuple(nums), (1,) if not pre else (0, tuple(pre_key))


def compare_versions(left, right):
    """-1, 0 or 1 as SemVer orders ``left`` and ``right`` (build metadata ignored)."""
    a, b = _version_key(left), _version_key(right)
    return (a > b) - (a < b)


# --------------------------------------------------------------------------- values


def values_equal(left, right):
    """Exact comparison after a JSON round trip (what ``helm get values -o json`` returns)."""
    return json.loads(json.dumps(left or {}, sort_keys=True, default=str)) == \
        json.loads(json.dumps(right or {}, sort_keys=True, default=str))


def _yaml(data):
    return yaml.safe_dump(json.loads(json.dumps(data or {}, default=str)), default_flow_style=False, sort_keys=True)


def values_diff(before, after, before_header="deployed values", after_header="new values"):
    """Unified diff lines of the two values dicts with every secret redacted, and the redacted texts."""
    before_text = _yaml(redact_values(before or {}))
    after_text = _yaml(redact_values(after or {}))
    lines = list(difflib.unified_diff(before_text.splitlines(), after_text.splitlines(),
                                      before_header, after_header, lineterm="", n=2))
    return lines, before_text, after_text


def secret_change_paths(before, after):
    """Dotted key paths of secret leaves whose value differs (their values are never returned)."""
    from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import _iter_secret_leaves

    old = dict(_iter_secret_leaves(before or {}))
    new = dict(_iter_secret_leaves(after or {}))
    return sorted(".".join(str(p) for p in path) for path in set(old) | set(new) if old.get(path) != new.get(path))


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


def api_client(params):
    """A kubernetes ApiClient from the helm auth options (kubeconfig path or dict, context, host, api_key...)."""
    from kubernetes import client as k8s_client, config as k8s_config

    kubeconfig = params.get("kubeconfig")
    context = params.get("context")
    configuration = k8s_client.Configuration()
    if isinstance(kubeconfig, dict):
        k8s_config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=configuration)
    elif kubeconfig or os.environ.get("KUBECONFIG") or os.path.exists(os.path.expanduser("~/.kube/config")) \
            or not params.get("host"):
        try:
            k8s_config.load_kube_config(config_file=os.path.expanduser(kubeconfig) if kubeconfig else None,
                                        context=context, client_configuration=configuration)
        except Exception:  # pylint: disable=broad-except
            if kubeconfig or not os.environ.get("KUBERNETES_SERVICE_HOST"):
                raise
            k8s_config.load_incluster_config(client_configuration=configuration)
    if params.get("host"):
        configuration.host = params["host"]
    if params.get("api_key"):
        configuration.api_key = {"authorization": "Bearer " + params["api_key"]}
    if params.get("ca_cert"):
        configuration.ssl_ca_cert = params["ca_cert"]
    if params.get("validate_certs") is False:
        configuration.verify_ssl = False
    return k8s_client.ApiClient(configuration)


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

        self._api_client = api_client(params)
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


def release_argument_spec(auth_spec, lock_options=True, **options):
    """The argument spec every release module starts from.

    ``auth_spec`` is kubernetes.core's ``HELM_AUTH_ARG_SPEC`` (Helm CLI and cluster access; ``kubeconfig`` no_log on
    every kubernetes.core 6.x: module_utils/_auth.py); then the
    release (``release_name`` / ``release_namespace``), the run's Lease options when ``lock_options`` is true,
    and the module's own ``options``.
    """
    spec = auth_argument_spec(auth_spec)
    if lock_options:
        spec.update(LOCK_ARG_SPEC)
    spec.update(
        release_name=dict(type="str", required=True, aliases=["name"]),
        release_namespace=dict(type="str", required=True, aliases=["namespace"]),
    )
    spec.update(options)
    return spec


# --------------------------------------------------------------------------- diagnostics


class ClusterReader(object):
    """Read-only look at the release's Deployments, pods, events and workspace-migrations logs."""

    def __init__(self, params):
        from kubernetes import client as k8s_client

        self._client = api_client(params)
        self.core = k8s_client.CoreV1Api(self._client)
        self.apps = k8s_client.AppsV1Api(self._client)

    @staticmethod
    def _items(response):
        """Items of a list call made with ``_preload_content=False`` (the API's own JSON, timestamps as ...Z)."""
        return (json.loads(response.data) or {}).get("items") or []

    def report(self, namespace, selector, container="workspace-migrations", log_lines=100, events=30):
        """Deployments not Available, pods not Ready (with the kubectl-like table), events and migration logs."""
        out = {"deployments_not_available": [], "pods_not_ready": [], "pods": [], "events": [],
               "migrations_logs": {}, "errors": []}
        pods = []
        try:
            deployments = self._items(self.apps.list_namespaced_deployment(
                namespace, label_selector=selector, _preload_content=False))
            out["deployments_not_available"] = k8s_status.deployments_not_available(deployments)
            pods = self._items(self.core.list_namespaced_pod(
                namespace, label_selector=selector, _preload_content=False))
            out["pods_not_ready"] = k8s_status.pods_not_ready(pods)
            out["pods"] = k8s_status.format_table(k8s_status.pod_table(pods),
                                                  ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
        except Exception as exc:  # pylint: disable=broad-except
            out["errors"].append("listing Deployments/pods: %s" % exc)
        try:
            out["events"] = k8s_status.recent_events(self._items(self.core.list_namespaced_event(
                namespace, _preload_content=False)), events)
        except Exception as exc:  # pylint: disable=broad-except
            out["errors"].append("listing events: %s" % exc)
        for name in k8s_status.pods_with_container(pods, container):
            try:
                text = self.core.read_namespaced_pod_log(name, namespace, container=container, tail_lines=log_lines)
                out["migrations_logs"][name] = (text or "").splitlines()
            except Exception as exc:  # pylint: disable=broad-except
                out["migrations_logs"][name] = ["logs unavailable: %s" % getattr(exc, "reason", exc)]
        return out


# --------------------------------------------------------------------------- helm


class HelmRelease(object):
    """helm CLI calls for one release, through kubernetes.core's AnsibleHelmModule environment."""

    def __init__(self, module, release_name, namespace):
        self.module = module
        self.name = release_name
        self.namespace = namespace
        self.commands = []
        self._version = None

    def _base(self):
        return [self.module.get_helm_binary()]

    @property
    def version(self):
        """Helm's version (``v3.22.0``, ``v4.3.1``), read once with ``helm version --template {{.Version}}``."""
        if self._version is None:
            rc, out, err = self.module.run_helm_command(self._base() + ["version", "--template", "{{.Version}}"],
                                                        fails_on_error=False)
            if rc != 0:
                self.module.fail_json(msg="helm version failed: %s" % (err or out).strip())
            self._version = out.strip()
        return self._version

    @property
    def major(self):
        """3 or 4 (int). Helm 4 renamed or changed flags: see ``wait_args``."""
        return helm_major(self.version)

    def wait_args(self, wait, timeout):
        """``--wait`` per major: Helm 3's boolean, Helm 4's ``--wait=watcher`` (its default strategy when the flag is
        given alone, kstatus-based; https://helm.sh/docs/helm/helm_upgrade/). Helm 4 without ``--wait`` waits for
        hooks only (``hookOnly``), like Helm 3 without it."""
        if not wait:
            return []
        return ["--wait=watcher" if self.major >= 4 else "--wait", "--timeout", "%ss" % int(timeout)]

    def _run(self, args, fails_on_error=True):
        command = self._base() + args
        self.commands.append(" ".join(command))
        return self.module.run_helm_command(command, fails_on_error=fails_on_error)

    def history(self):
        """Revisions of the release (oldest first); [] when it does not exist."""
        rc, out, err = self._run(["history", self.name, "--namespace", self.namespace, "--max", "1000",
                                  "--output", "json"], fails_on_error=False)
        if rc != 0:
            if "not found" in (err or "").lower():
                return []
            self.module.fail_json(msg="helm history %s -n %s failed: %s" % (self.name, self.namespace, err.strip()),
                                  stderr=err)
        return normalise_history(json.loads(out or "[]"))

    def values(self):
        rc, out, err = self._run(["get", "values", self.name, "--namespace", self.namespace, "--output", "json"],
                                 fails_on_error=False)
        if rc != 0:
            return None
        data = json.loads(out or "null")
        return data or {}

    def show_chart(self, chart_ref, repo_url=None, version=None):
        args = ["show", "chart", chart_ref]
        if repo_url:
            args += ["--repo", repo_url]
        if version and repo_url:
            args += ["--version", version]
        rc, out, err = self._run(args, fails_on_error=False)
        if rc != 0:
            self.module.fail_json(msg="helm show chart %s failed (chart ref %s%s): %s" % (
                chart_ref, chart_ref, " from " + repo_url if repo_url else "", err.strip()), stderr=err)
        return yaml.safe_load(out) or {}

    def show_values(self, chart_ref, repo_url=None, version=None):
        """``helm show values`` of the chart (its default values). Returns (rc, stdout, stderr)."""
        args = ["show", "values", chart_ref]
        if repo_url:
            args += ["--repo", repo_url]
            if version:
                args += ["--version", version]
        return self._run(args, fails_on_error=False)

    def rollback(self, revision, wait, timeout, history_max):
        args = ["rollback", self.name, str(revision), "--namespace", self.namespace, "--history-max",
                str(history_max)] + self.wait_args(wait, timeout)
        return self._run(args, fails_on_error=False)

    def uninstall_keep_history(self, wait, timeout):
        args = ["uninstall", self.name, "--namespace", self.namespace, "--keep-history"] + \
            self.wait_args(wait, timeout)
        return self._run(args, fails_on_error=False)

    def template(self, chart_ref, values, repo_url=None, version=None):
        """helm template of the release with the values in a 0600 temp file. Returns (rc, stdout, stderr)."""
        fd, path = tempfile.mkstemp(prefix="carto-values-", suffix=".yaml")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(_yaml(values))
            args = ["template", self.name, chart_ref, "--namespace", self.namespace, "--values", path]
            if repo_url:
                args += ["--repo", repo_url]
                if version:
                    args += ["--version", version]
            command = self._base() + args
            self.commands.append(" ".join(command).replace(path, "<values file>"))
            return self.module.run_helm_command(command, fails_on_error=False)
        finally:
            os.remove(path)

    def upgrade(self, chart_ref, values, repo_url=None, version=None, wait=True, timeout=600, history_max=10,
                tick=None, tick_interval=5.0, watcher=None):
        """helm upgrade --install with the values in a 0600 temp file; ``tick()`` runs while helm works.

        Returns (rc, stdout, stderr, verdict). ``tick`` renews the release lock; an exception it raises ends the
        watch and is raised once helm has exited (at its own timeout at the latest). ``watcher`` (a started
        ``_rollout.watch.RolloutWatcher``) is polled while helm waits; on its first terminal verdict helm gets
        SIGTERM, on which Helm 3 and 4 stop waiting, mark an upgrade's revision failed ("context canceled") and
        exit non-zero. ``verdict`` is that verdict, or None.
        """
        fd, path = tempfile.mkstemp(prefix="carto-values-", suffix=".yaml")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(_yaml(values))
            args = ["upgrade", self.name, chart_ref, "--install", "--namespace", self.namespace,
                    "--values", path, "--reset-values", "--history-max", str(history_max)]
            if repo_url:
                args += ["--repo", repo_url]
                if version:
                    args += ["--version", version]
            args += self.wait_args(wait, timeout)
            command = self._base() + args
            self.commands.append(" ".join(command).replace(path, "<values file>"))
            # run_command reads helm's output; the watch and the lock renewal run beside it (_process.run).
            rc, out, err, _timed_out, verdict = _process.run(
                self.module, command, environ_update=self.module.env_update,
                beside=lambda proc: self._wait(proc, tick, tick_interval, watcher))
            return rc, out, err, verdict
        finally:
            if os.path.exists(path):
                os.remove(path)

    @staticmethod
    def _wait(proc, tick, tick_interval, watcher):
        verdict = None
        next_tick = time.monotonic() + tick_interval
        while proc.poll() is None:
            if watcher is not None and verdict is None:
                verdict = watcher.poll(0.25)
                if verdict is not None:
                    proc.send_signal(signal.SIGTERM)
            else:
                time.sleep(0.25)
            if tick and time.monotonic() >= next_tick:
                next_tick = time.monotonic() + tick_interval
                tick()
        return verdict


def helm_major(version):
    """The major version (int) of a ``helm version`` string such as ``v3.22.0`` or ``v4.3.1+g1234``."""
    try:
        return int(str(version).lstrip("v").split(".", 1)[0])
    except ValueError:
        return 3
