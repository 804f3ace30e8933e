# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Watch a release's objects while Helm applies them and reach a verdict within seconds of a terminal failure.

One thread per kind runs the API's list-then-watch protocol (``?watch=true&resourceVersion=...``, relist on
``410 Gone``, https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes) and feeds
one queue; ``RolloutWatcher.poll`` applies the changes to a ``classify.Snapshot`` and classifies them. Logs of a
failing container (current and previous) are read the moment it is seen failing, before a hook Job with
``hook-delete-policy: hook-failed`` (or ``before-hook-creation`` on the next run) deletes its pod.

The verdict (``RolloutWatcher.verdict``) is a dict: ``id`` (reason id of ``classify``), ``reason``, ``culprit``
(``Kind/name``), ``owner``, ``container``, ``init``, ``image``, ``message`` (Kubernetes' text), ``summary`` (one
sentence for the operator), ``events`` (list of str), ``logs`` (``{"pod/container": {"current": [...],
"previous": [...]}}``), ``first_seen`` / ``detected_at`` (UTC, ISO 8601), ``verdict_after`` (seconds from the first
sight of the condition to the verdict), ``log_text`` (the logs as one list of lines, each block headed
``pod/container (current logs):``), ``missing`` (the Secret/ConfigMap a container needs, with ``managed``: whether
this collection creates it) and ``findings`` (every other problem seen, one line each).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import threading
import time

try:
    import queue
except ImportError:  # pragma: no cover - Python 2
    import Queue as queue  # noqa: N813

from ansible_collections.carto.selfhosted.plugins.module_utils._rollout import classify

DOC_MIGRATIONS = ("CARTO's database migrations (init container workspace-migrations) failed: check the database "
                  "host, port, user and password and that the cluster reaches the database "
                  "(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#troubleshooting)")


def _utc(ts=None):
    return datetime.datetime.fromtimestamp(ts if ts is not None else time.time(), tz=datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def _lister(api_client, kind, namespace, selector):
    from kubernetes import client as k8s_client

    core, apps, batch = (k8s_client.CoreV1Api(api_client), k8s_client.AppsV1Api(api_client),
                         k8s_client.BatchV1Api(api_client))
    namespaced = {
        "Pod": (core.list_namespaced_pod, True),
        "Deployment": (apps.list_namespaced_deployment, True),
        "StatefulSet": (apps.list_namespaced_stateful_set, True),
        "DaemonSet": (apps.list_namespaced_daemon_set, True),
        "ReplicaSet": (apps.list_namespaced_replica_set, True),
        "Job": (batch.list_namespaced_job, True),
        "PersistentVolumeClaim": (core.list_namespaced_persistent_volume_claim, False),
        "Event": (core.list_namespaced_event, False),
    }
    func, use_selector = namespaced[kind]
    if use_selector and selector:
        return lambda **kw: func(namespace, label_selector=selector, **kw)
    return lambda **kw: func(namespace, **kw)


class _KindWatch(threading.Thread):
    """list, then watch from the list's resourceVersion; every change goes to ``out`` as (kind, type, obj)."""

    def __init__(self, api_client, kind, namespace, selector, out, stop):
        super(_KindWatch, self).__init__(name="watch-" + kind)
        self.daemon = True
        self.kind, self.out, self.stop = kind, out, stop
        self.call = _lister(api_client, kind, namespace, selector)

    def run(self):
        while not self.stop.is_set():
            try:
                listed = json.loads(self.call(_preload_content=False).data)
                for item in listed.get("items") or []:
                    self.out.put((self.kind, "ADDED", item))
                self.out.put((self.kind, "SYNCED", None))
                version = (listed.get("metadata") or {}).get("resourceVersion")
                while not self.stop.is_set():
                    version = self._watch(version)
                    if version is None:
                        break  # 410 Gone: relist
            except Exception as exc:  # pylint: disable=broad-except
                self.out.put((self.kind, "ERROR", {"message": str(exc)}))
                self.stop.wait(1.0)

    def _watch(self, version):
        resp = self.call(watch=True, resource_version=version, timeout_seconds=60, allow_watch_bookmarks=True,
                         _preload_content=False)
        try:
            buffer = b""
            for chunk in resp.stream(4096, decode_content=False):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    obj = event.get("object") or {}
                    if event.get("type") == "ERROR":
                        return None if obj.get("code") == 410 else version
                    version = (obj.get("metadata") or {}).get("resourceVersion") or version
                    if event.get("type") != "BOOKMARK":
                        self.out.put((self.kind, event.get("type"), obj))
                if self.stop.is_set():
                    break
        finally:
            resp.release_conn()
        return version


class RolloutWatcher(object):
    """Watches the objects of release ``selector`` in ``namespace`` (see the module docstring).

    ``grace`` (seconds): how long a non-immediate failure (``Unschedulable``, an image pull failure, a missing
    Secret...) must persist to be terminal. ``restarts`` (int): restarts of a crashing container, or failed pods of
    a Job, that make it terminal. ``managed_secrets``: names of the Secrets this collection creates.
    """

    KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "PersistentVolumeClaim", "Event")

    def __init__(self, api_client, namespace, selector, grace=5, restarts=2, log_lines=100, events_count=20,
                 managed_secrets=(), clock=time.monotonic):
        self.api_client, self.namespace, self.selector = api_client, namespace, selector
        self.grace, self.restarts, self.log_lines, self.events_count = grace, restarts, log_lines, events_count
        self.managed_secrets = set(managed_secrets or ())
        self.clock = clock
        self.snapshot = classify.Snapshot()
        self.queue = queue.Queue()
        self.stop_event = threading.Event()
        self.first_seen = {}
        self.logs = {}
        self.errors = []
        self.started_wall = time.time()
        self._verdict = None
        self._threads = []

    def start(self):
        from kubernetes import client as k8s_client

        self.core = k8s_client.CoreV1Api(self.api_client)
        try:
            classes = json.loads(k8s_client.StorageV1Api(self.api_client).list_storage_class(
                _preload_content=False).data)
            for item in classes.get("items") or []:
                self.snapshot.apply("StorageClass", "ADDED", item)
        except Exception as exc:  # pylint: disable=broad-except
            self.errors.append("listing StorageClasses: %s" % exc)
        for kind in self.KINDS:
            thread = _KindWatch(self.api_client, kind, self.namespace, self.selector, self.queue, self.stop_event)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        self.stop_event.set()

    def _drain(self, timeout):
        deadline = self.clock() + max(0.0, timeout)
        while True:
            remaining = deadline - self.clock()
            try:
                kind, event_type, obj = self.queue.get(timeout=max(0.0, remaining)) if remaining > 0 \
                    else self.queue.get_nowait()
            except queue.Empty:
                return
            if event_type == "ERROR":
                self.errors.append("watch %s: %s" % (kind, obj.get("message")))
                continue
            if event_type == "SYNCED":
                continue
            if kind == "Event" and (classify.event_time(obj) or "") < _utc(self.started_wall - 2):
                continue  # from before this run (an earlier failed run in the same namespace)
            self.snapshot.apply(kind, event_type, obj)

    def _classify(self, now, prune):
        """(current findings, culprit first; the terminal ones). ``prune`` forgets findings that are gone, so the
        grace of a transient state restarts if it comes back."""
        current = classify.culprit_first(classify.findings(self.snapshot, self.restarts))
        for found in current:
            self.first_seen.setdefault(found["key"], (now, time.time()))
            self._capture_logs(found)
        if prune:
            keys = set(f["key"] for f in current)
            for key in [k for k in self.first_seen if k not in keys]:
                del self.first_seen[key]
        return current, [f for f in current if classify.terminal(f, self.first_seen[f["key"]][0], now, self.grace)]

    def poll(self, timeout=0.5):
        """Apply the changes that arrive within ``timeout`` seconds, classify; the verdict (dict) or None."""
        if self._verdict:
            return self._verdict
        self._drain(timeout)
        now = self.clock()
        current, terminal = self._classify(now, prune=True)
        if terminal:
            self._verdict = self._build(terminal[0], current, now)
        return self._verdict

    def diagnose(self, settle=1.0):
        """After Helm failed on its own (timeout, hook): the best explanation seen so far, or None."""
        self._drain(settle)
        if self._verdict:
            return self._verdict
        now = self.clock()
        current, terminal = self._classify(now, prune=False)
        if terminal:
            return self._build(terminal[0], current, now)
        if current:
            return self._build(current[0], current, now, terminal=False)
        return None

    def not_ready(self):
        return classify.not_ready(self.snapshot)

    # ------------------------------------------------------------------ details

    def _capture_logs(self, found):
        if not found.get("container") or found["id"] not in ("container_crash", "hook_failed", "job_failed"):
            return
        key = "%s/%s" % (found["name"], found["container"])
        marker = (found.get("restarts"), found.get("reason"))
        if self.logs.get(key, {}).get("_marker") == marker:
            return
        entry = {"_marker": marker}
        for which, previous in (("current", False), ("previous", True)):
            if previous and not found.get("restarts"):
                continue
            try:
                text = self.core.read_namespaced_pod_log(found["name"], self.namespace, container=found["container"],
                                                         tail_lines=self.log_lines, previous=previous)
                entry[which] = (text or "").splitlines()
            except Exception as exc:  # pylint: disable=broad-except
                entry[which] = ["logs unavailable: %s" % getattr(exc, "reason", exc)]
        self.logs[key] = entry

    def _job_pod_logs(self, job_name):
        """The logs captured of the pods of Job ``job_name`` (hook pods may be deleted by now)."""
        out = {}
        for key, entry in self.logs.items():
            if key.startswith(job_name + "-"):
                out[key] = {k: v for k, v in entry.items() if not k.startswith("_")}
        return out

    def _events(self, found):
        names = [(found["kind"], found["name"])]
        if found.get("owner"):
            kind, _sep, name = found["owner"].partition("/")
            names.append((kind, name))
        pod = (found.get("detail") or {}).get("pod")
        if pod:
            names.append(("Pod", pod))
        lines = []
        for kind, name in sorted(set(names), key=names.index):
            for event in self.snapshot.events_for(kind, name):
                lines.append("%s %s %s %s/%s: %s" % (
                    classify.event_time(event) or "-", event.get("type") or "-", event.get("reason") or "-",
                    kind, name, (event.get("message") or "").strip()))
        return lines[-self.events_count:]

    def _build(self, found, current, now, terminal=True):
        first_mono, first_wall = self.first_seen.get(found["key"], (now, time.time()))
        culprit = "%s/%s" % (found["kind"], found["name"])
        where = culprit
        if found.get("container"):
            where = "%s %s of %s" % ("init container" if found.get("init") else "container", found["container"],
                                     culprit)
        if found.get("owner") and found["owner"] != culprit:
            where += " (%s)" % found["owner"]
        hook = (found.get("detail") or {}).get("hook")
        if hook:
            where = "Helm %s hook %s" % (hook.replace(" ", ""), culprit)
        summary = "%s: %s: %s" % (where, found["reason"], found["message"] or "no message")
        if found["kind"] == "Job":
            pods = ["pod %s container %s: %s" % (f["name"], f["container"], f["message"]) for f in current
                    if f.get("owner") == culprit and f.get("container")]
            if pods:
                summary += " (%s)" % "; ".join(pods[:3])
        if found.get("image") and found["id"] in ("image_pull",):
            summary += " (image %s)" % found["image"]
        missing = (found.get("detail") or {}).get("missing")
        if missing:
            missing = dict(missing, managed=missing["kind"] == "Secret" and missing["name"] in self.managed_secrets)
            if missing["managed"]:
                summary += (". Secret %s is one this collection creates (secrets role): it was deleted or not "
                            "created in this run" % missing["name"])
            else:
                summary += (". %s %s is not created by this collection: create it in namespace %s or fix the "
                            "values key that references it" % (missing["kind"], missing["name"], self.namespace))
        if (found.get("detail") or {}).get("migrations"):
            summary += ". " + DOC_MIGRATIONS
        logs = {}
        if found.get("container"):
            key = "%s/%s" % (found["name"], found["container"])
            logs = {key: {k: v for k, v in self.logs.get(key, {}).items() if not k.startswith("_")}}
        elif found["kind"] == "Job":
            logs = self._job_pod_logs(found["name"])
        return {
            "terminal": terminal, "id": found["id"], "reason": found["reason"], "culprit": culprit,
            "owner": found.get("owner"), "container": found.get("container"), "init": found.get("init"),
            "image": found.get("image"), "message": found["message"], "summary": summary,
            "missing": missing or None, "events": self._events(found), "logs": logs,
            "log_text": ["%s (%s logs):" % (key, which) if i == 0 else line
                         for key, entry in sorted(logs.items()) for which, lines in sorted(entry.items())
                         for i, line in enumerate([None] + list(lines))],
            "first_seen": _utc(first_wall), "detected_at": _utc(), "verdict_after": round(now - first_mono, 1),
            "findings": ["%s/%s: %s: %s" % (f["kind"], f["name"], f["reason"], f["message"]) for f in current
                         if f is not found][:20],
        }
