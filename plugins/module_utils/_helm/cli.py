# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Private: the helm CLI (``HelmRelease``, through kubernetes.core's ``AnsibleHelmModule``) and the
diagnostics read from the API server when a release fails (``ClusterReader``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import tempfile
import time
from ansible_collections.carto.selfhosted.plugins.module_utils import _process
from ansible_collections.carto.selfhosted.plugins.module_utils import k8s_status

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML is a requirement of ansible-core
    yaml = None

from ansible_collections.carto.selfhosted.plugins.module_utils._helm.history import _yaml, normalise_history
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s.client import api_client


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
