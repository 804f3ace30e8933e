#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: carto_support_bundle
short_description: Write a support bundle (.tar.gz) of a CARTO Self-Hosted release, with every secret redacted
version_added: 0.2.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - Collects what CARTO support asks for when a ticket is opened
    (C(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Troubleshooting,
    Diagnosis tool)) into one C(.tar.gz) at O(dest).
  - "Content: C(versions.json) (cluster, helm, kubectl, python client); C(nodes.json); C(pods.json), C(pods.txt)
    (like C(kubectl get pods)); C(workloads.json) (Deployments, StatefulSets, ReplicaSets, HPAs, PDBs);
    C(services.json), C(ingresses.json), C(endpoints.json), C(pvcs.json); C(events.txt) and C(events.json);
    C(secrets.json) (names, types and key names only); C(describe/<kind>.txt) (C(kubectl describe), when kubectl
    runs); C(logs/<pod>/<container>.log) of every container and init container, including C(workspace-migrations)
    (C(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Post-installation checks)), and C(.previous.log) after restarts;
    C(helm/status.json), C(helm/history.json), C(helm/values.json) (redacted), C(helm/manifest.json) (Secret
    values removed); C(report.json) (the verification report) and C(preflight.json) when given; C(errors.txt)
    (what could not be collected)."
  - "Redaction: values are redacted by key name; Secret objects keep only their key names; then every file is
    scrubbed of every value of the namespace's Secrets, of every secret-looking value of O(values), of
    O(secret_strings) and of their base64 forms (strings shorter than 6 characters are not scrubbed)."
  - Collection problems do not fail the module; they are listed in C(errors.txt) and RV(errors).
  - Always writes a new archive, so it reports C(changed). In check mode nothing is written.
  - It belongs to the C(carto.selfhosted.cluster) action group, so O(kubeconfig) and O(context) come from
    C(module_defaults).
options:
  namespace:
    description: Namespace of the release.
    type: str
    required: true
  release_name:
    description: Helm release name.
    type: str
    default: carto
  dest:
    description: Path of the archive to write (its directory is created, mode 0700; the file is 0600).
    type: path
    required: true
  helm_binary:
    description: Helm CLI used for status, history, values and manifest.
    type: str
    default: helm
  kubectl_binary:
    description: kubectl CLI for C(describe); skipped (listed in C(errors.txt)) when it does not run.
    type: str
    default: kubectl
  log_lines:
    description: Last lines of each container log (lines).
    type: int
    default: 2000
  values:
    description: The final Helm values (C(values_final)); stored redacted, and their secret values are scrubbed.
    type: dict
    default: {}
  secret_strings:
    description: More strings that must not appear in the bundle.
    type: list
    elements: str
    default: []
  report:
    description: Verification report (C(verify_report)) stored as C(report.json).
    type: dict
  preflight:
    description: Preflight checks (C(prerequisites_checks)) stored as C(preflight.json).
    type: list
    elements: dict
  rollout:
    description:
      - The rollout engine's result of a failed deploy (C(rollout) of M(carto.selfhosted.helm_release_upgrade)), stored
        as C(rollout.json) - culprit, reason id, Kubernetes message, events and the failing container's logs captured
        at the time (a hook Job's pod may be gone by now). Scrubbed of secret values like every file.
    type: dict
extends_documentation_fragment:
  - carto.selfhosted.cluster
requirements:
  - kubernetes >= 24.2.0 (python client)
notes:
  - "Failure messages: C(cannot create the bundle directory <dir>: <error>); C(cannot write the bundle <dest>: <error>);
    C(cannot reach the Kubernetes API: <error>)."
"""

EXAMPLES = r"""
- name: Write a support bundle
  carto.selfhosted.carto_support_bundle:
    namespace: carto
    release_name: carto
    dest: /tmp/carto-support.tar.gz
    values: "{{ values_final }}"
    report: "{{ verify_report | default(omit) }}"
  no_log: true
  register: bundle
"""

RETURN = r"""
path:
  description: Path of the archive.
  returned: always
  type: str
files:
  description: Names of the files in the archive (relative to its top directory).
  returned: success
  type: list
  elements: str
size:
  description: Size of the archive, in bytes.
  returned: success
  type: int
errors:
  description: What could not be collected.
  returned: always
  type: list
  elements: str
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.carto.selfhosted.plugins.module_utils import _process, k8s_status
from ansible_collections.carto.selfhosted.plugins.module_utils import _support_bundle as support_bundle
from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import redact_values, secret_values
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client

try:
    import yaml
except ImportError:  # pragma: no cover
    yaml = None

COMMAND_TIMEOUT = 120  # seconds per kubectl/helm command: a broken cluster must not hang the bundle


def _argspec():
    spec = cluster_client.argument_spec()
    spec.update(
        namespace=dict(type="str", required=True),
        release_name=dict(type="str", default="carto"),
        dest=dict(type="path", required=True),
        helm_binary=dict(type="str", default="helm"),
        kubectl_binary=dict(type="str", default="kubectl"),
        log_lines=dict(type="int", default=2000),
        values=dict(type="dict", default={}, no_log=True),
        secret_strings=dict(type="list", elements="str", default=[], no_log=True),
        report=dict(type="dict"),
        preflight=dict(type="list", elements="dict"),
        rollout=dict(type="dict"),
    )
    return spec


class Collector(object):
    def __init__(self, module):
        from kubernetes import client as k8s

        self.module = module
        self.params = module.params
        self.ns = module.params["namespace"]
        self.api_client = cluster_client.api_client(module.params)
        self.core = k8s.CoreV1Api(self.api_client)
        self.apps = k8s.AppsV1Api(self.api_client)
        self.k8s = k8s
        self.errors = []
        self.files = {}
        self.secret_strings = set(module.params["secret_strings"] or [])

    def ser(self, obj):
        return self.api_client.sanitize_for_serialization(obj)

    def safe(self, what, func, default=None):
        try:
            return func()
        except Exception as exc:  # noqa: BLE001 - collected, never fatal
            self.errors.append("%s: %s" % (what, str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__))
            return default

    def run(self, argv, what):
        try:
            rc, out, err, timed_out, _value = _process.run(self.module, argv, environ_update=self._env(),
                                                           timeout=COMMAND_TIMEOUT)
        except OSError as exc:
            self.errors.append("%s: %s" % (what, exc))
            return None
        if timed_out:
            self.errors.append("%s: timed out after %d seconds" % (what, COMMAND_TIMEOUT))
            return None
        if rc != 0:
            self.errors.append("%s: exit %d: %s" % (what, rc, (err or "").strip()[:500]))
            return None
        return out

    def _env(self):
        env = {}
        if self.params.get("kubeconfig") and isinstance(self.params["kubeconfig"], str):
            env["KUBECONFIG"] = self.params["kubeconfig"]
        return env

    def _kube_args(self):
        args = []
        if self.params.get("kubeconfig") and isinstance(self.params["kubeconfig"], str):
            args += ["--kubeconfig", self.params["kubeconfig"]]
        if self.params.get("context"):
            args += ["--kube-context" if self._helm else "--context", self.params["context"]]
        return args

    def items(self, what, func):
        result = self.safe(what, func)
        return (self.ser(result) or {}).get("items") or [] if result is not None else None

    def collect(self):
        ns = self.ns
        # versions
        versions = {}
        code = self.safe("cluster version", lambda: self.k8s.VersionApi(self.api_client).get_code())
        versions["kubernetes"] = self.ser(code) if code is not None else None
        versions["helm"] = (self.run([self.params["helm_binary"], "version", "--short"], "helm version") or "").strip()
        self._helm = False
        kubectl_args = [self.params["kubectl_binary"]] + self._kube_args()
        versions["kubectl"] = (self.run([self.params["kubectl_binary"], "version", "--client", "-o", "json"],
                                        "kubectl version") or "").strip()
        try:
            import kubernetes
            versions["kubernetes_python_client"] = kubernetes.__version__
        except Exception:  # noqa: BLE001  # pragma: no cover
            pass
        self.files["versions.json"] = versions

        # secrets: values to scrub, only key names kept
        secrets = self.items("secrets", lambda: self.core.list_namespaced_secret(ns))
        if secrets is not None:
            self.secret_strings |= support_bundle.secret_strings_from_secrets(secrets)
            self.files["secrets.json"] = [support_bundle.reduce_secret(s) for s in secrets]

        nodes = self.items("nodes", self.core.list_node)
        if nodes is not None:
            self.files["nodes.json"] = [{"metadata": {"name": n["metadata"]["name"],
                                                      "labels": n["metadata"].get("labels")},
                                         "spec": n.get("spec"), "status": {k: v for k, v in (n.get("status") or {}).items()
                                                                           if k != "images"}} for n in nodes]
        pods = self.items("pods", lambda: self.core.list_namespaced_pod(ns)) or []
        self.files["pods.json"] = [support_bundle.redact_env(p) for p in pods]
        self.files["pods.txt"] = "\n".join(k8s_status.format_table(
            k8s_status.pod_table(pods), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])) + "\n"
        workloads = {}
        for kind, func in (("deployments", lambda: self.apps.list_namespaced_deployment(ns)),
                           ("statefulsets", lambda: self.apps.list_namespaced_stateful_set(ns)),
                           ("replicasets", lambda: self.apps.list_namespaced_replica_set(ns)),
                           ("horizontalpodautoscalers",
                            lambda: self.k8s.AutoscalingV2Api(self.api_client).list_namespaced_horizontal_pod_autoscaler(ns)),
                           ("poddisruptionbudgets",
                            lambda: self.k8s.PolicyV1Api(self.api_client).list_namespaced_pod_disruption_budget(ns))):
            found = self.items(kind, func)
            workloads[kind] = [support_bundle.redact_env(o) for o in found or []]
        self.files["workloads.json"] = workloads
        self.files["services.json"] = self.items("services", lambda: self.core.list_namespaced_service(ns))
        self.files["endpoints.json"] = self.items("endpoints", lambda: self.core.list_namespaced_endpoints(ns))
        self.files["ingresses.json"] = self.items(
            "ingresses", lambda: self.k8s.NetworkingV1Api(self.api_client).list_namespaced_ingress(ns))
        self.files["pvcs.json"] = self.items("pvcs", lambda: self.core.list_namespaced_persistent_volume_claim(ns))
        events = self.items("events", lambda: self.core.list_namespaced_event(ns)) or []
        self.files["events.json"] = events
        self.files["events.txt"] = "\n".join(k8s_status.recent_events(events, len(events) or 1)) + "\n"

        # describe
        for kind in ("pods", "deployments", "statefulsets", "services", "ingresses"):
            out = self.run(kubectl_args + ["describe", kind, "-n", ns], "kubectl describe %s" % kind)
            if out is not None:
                self.files["describe/%s.txt" % kind] = out

        # logs
        for pod in pods:
            name = pod["metadata"]["name"]
            spec = pod.get("spec") or {}
            statuses = dict((s["name"], s) for s in ((pod.get("status") or {}).get("containerStatuses") or []) +
                            ((pod.get("status") or {}).get("initContainerStatuses") or []))
            for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                cname = container["name"]
                text = self.safe("logs %s -c %s" % (name, cname), lambda: self.core.read_namespaced_pod_log(
                    name, ns, container=cname, tail_lines=self.params["log_lines"], _preload_content=False).data)
                if text is not None:
                    self.files["logs/%s/%s.log" % (name, cname)] = text
                if (statuses.get(cname) or {}).get("restartCount", 0) > 0:
                    prev = self.safe("previous logs %s -c %s" % (name, cname), lambda: self.core.read_namespaced_pod_log(
                        name, ns, container=cname, previous=True, tail_lines=self.params["log_lines"],
                        _preload_content=False).data)
                    if prev is not None:
                        self.files["logs/%s/%s.previous.log" % (name, cname)] = prev

        # helm
        self._helm = True
        helm_args = [self.params["helm_binary"]] + self._kube_args()
        rel = self.params["release_name"]
        history = self.run(helm_args + ["history", rel, "-n", ns, "-o", "json"], "helm history")
        if history is not None:
            self.files["helm/history.json"] = history
        status = self.run(helm_args + ["status", rel, "-n", ns, "-o", "json"], "helm status")
        if status is not None:
            status = self._json(status)
            if isinstance(status, dict):
                status.pop("config", None)
                status.pop("manifest", None)
                self.files["helm/status.json"] = status
        values = self.run(helm_args + ["get", "values", rel, "-n", ns, "-o", "json"], "helm get values")
        if values is not None:
            parsed = self._json(values) or {}
            self.secret_strings |= secret_values(parsed)
            self.files["helm/values.json"] = redact_values(parsed)
        manifest = self.run(helm_args + ["get", "manifest", rel, "-n", ns], "helm get manifest")
        if manifest is not None and yaml is not None:
            try:
                docs = [d for d in yaml.safe_load_all(manifest) if d]
                self.files["helm/manifest.json"] = support_bundle.redact_manifest(docs)
            except yaml.YAMLError as exc:
                self.errors.append("helm manifest: %s" % exc)
        self._helm = False

        if self.params["values"]:
            self.secret_strings |= secret_values(self.params["values"])
            self.files["values_final.json"] = redact_values(self.params["values"])
        if self.params.get("report") is not None:
            self.files["report.json"] = self.params["report"]
        if self.params.get("preflight") is not None:
            self.files["preflight.json"] = self.params["preflight"]
        if self.params.get("rollout"):
            self.files["rollout.json"] = self.params["rollout"]
        self.files["errors.txt"] = "\n".join(self.errors) + "\n"

    @staticmethod
    def _json(text):
        import json
        try:
            return json.loads(text)
        except ValueError:
            return None


def main():
    module = AnsibleModule(argument_spec=_argspec(), mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    dest = module.params["dest"]
    if module.check_mode:
        module.exit_json(changed=True, path=dest, errors=[])
    try:
        collector = Collector(module)
    except Exception as exc:  # noqa: BLE001
        module.fail_json(msg="cannot reach the Kubernetes API: %s" % exc, path=dest, errors=[],
                         exception=traceback.format_exc())
    collector.collect()
    directory = os.path.dirname(os.path.abspath(dest))
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError as exc:
        module.fail_json(msg="cannot create the bundle directory %s: %s" % (directory, exc), path=dest,
                         errors=collector.errors)
    top = os.path.basename(dest)
    for suffix in (".tar.gz", ".tgz"):
        if top.endswith(suffix):
            top = top[:-len(suffix)]
    try:
        old = os.umask(0o077)
        try:
            names = support_bundle.write_bundle(dest, collector.files, collector.secret_strings, top=top)
        finally:
            os.umask(old)
    except OSError as exc:
        module.fail_json(msg="cannot write the bundle %s: %s" % (dest, exc), path=dest, errors=collector.errors)
    module.exit_json(changed=True, path=dest, files=names, size=os.path.getsize(dest), errors=collector.errors)


if __name__ == "__main__":
    main()
