#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: carto_cluster_facts
short_description: Read everything CARTO's preflight checks need in one call (CLIs, cluster, rendered chart)
version_added: 0.3.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - "Read-only (the server-side dry run of I(dry_run) persists nothing). In one Python process (instead of one
    module run per read) it reads: the Helm and kubectl client
    versions (C(helm version --short), C(kubectl version --client -o json)); the cluster version (C(/version)); the
    namespace I(namespace) (whether it exists, its labels); the nodes; the StorageClasses; the
    CustomResourceDefinitions when I(gateway=true) (Gateway API CRDs); the metrics-server APIService
    I(metrics_apiservice) and C(/apis/metrics.k8s.io/v1beta1/pods) when I(autoscaling=true); and C(helm template) of
    the release with I(values) to size it; after the render, the unfinished pods (the free capacity of each node) and a
    server-side dry run of every rendered object (I(dry_run)). These are the requirements of CARTO's Kubernetes
    installation guide (U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes), I(Requirements)) and, for
    autoscaling, its customization guide (I(Autoscaling): metrics-server must answer)."
  - "Each read is independent: an error is recorded in the result next to it and the others still run, so the
    preflight table (the C(carto.selfhosted.preflight_checks) filter, fed with RV(preflight_input)) reports every
    problem at once. When the cluster version cannot be read, the other cluster reads are skipped."
  - "Secrets: I(values) is a no_log option; the rendered manifest contains the chart's Secrets, so register the
    result of this module with C(no_log: true) (the C(carto.selfhosted.prerequisites) role does). The values are
    passed to helm in a 0600 temporary file that is always removed."
  - The module never fails on what it reads; it fails only on bad options.
extends_documentation_fragment:
  - carto.selfhosted.cluster
  - carto.selfhosted.cluster.HELM
requirements:
  - kubernetes (Python client)
  - PyYAML
options:
  kubectl_binary:
    description: kubectl CLI (name on C(PATH) or path) whose client version is read.
    type: str
    default: kubectl
  release_name:
    description: Release name for C(helm template).
    type: str
    default: carto
  release_namespace:
    description: Namespace for C(helm template) (it need not exist).
    type: str
    default: carto
  chart_ref:
    description: Chart name in I(chart_repo_url), or a local chart directory or C(.tgz).
    type: str
    default: carto
  chart_repo_url:
    description: Chart repository (C(https://helm.carto.com)); omit for a local chart.
    type: str
  chart_version:
    description: Chart version (C(--version)), used with I(chart_repo_url).
    type: str
  values:
    description: Final values for C(helm template). Empty skips the render (RV(render) is null).
    type: dict
    default: {}
  namespace:
    description:
      - Namespace whose existence and labels are read (RV(namespace)); the role creates it only when it is missing
        or its labels differ. Omit to skip.
    type: str
  gateway:
    description: Read the CustomResourceDefinitions (the chart's Gateway API objects need them).
    type: bool
    default: false
  autoscaling:
    description: Read the metrics-server APIService and ask C(/apis/metrics.k8s.io/v1beta1/pods) for pod metrics.
    type: bool
    default: false
  metrics_apiservice:
    description: Name of the metrics-server APIService.
    type: str
    default: v1beta1.metrics.k8s.io
  dry_run:
    description:
      - "After a successful render, send every rendered object to the API server as a server-side apply with
        C(dryRun=All) (nothing is persisted; U(https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run)),
        so that the API's own validation and admission run before anything changes (RV(dry_run))."
      - Objects go to I(namespace) when it exists, else to I(dry_run_namespace) with their namespace rewritten.
    type: bool
    default: true
  dry_run_namespace:
    description: Existing namespace for the dry run while I(namespace) does not exist yet (a first install).
    type: str
    default: default
notes:
  - Supports check mode (it is read-only and runs the same reads).
  - "Errors are returned, not raised: C(cluster.error) (e.g. C(Connection refused), C(401 Unauthorized)),
    C(nodes.error) / C(storage_classes.error) / C(crds.error) (e.g. C(403 Forbidden: ...)), C(metrics.error)
    (C(the metrics.k8s.io API is not served), C(503 Service Unavailable ...)), C(render.stderr) (helm's error, e.g. a
    chart C(required) value), C(helm.stderr) / C(kubectl.stderr) (e.g. C([Errno 2] No such file or directory))."
seealso:
  - module: kubernetes.core.k8s_cluster_info
  - module: kubernetes.core.k8s_info
  - module: kubernetes.core.helm_template
"""

EXAMPLES = r"""
- name: Read the cluster, the CLIs and the rendered chart
  carto.selfhosted.carto_cluster_facts:
    binary_path: helm
    kubectl_binary: kubectl
    release_name: carto
    release_namespace: carto
    chart_ref: carto
    chart_repo_url: https://helm.carto.com
    chart_version: 1.287.1
    values: "{{ values_final }}"
    autoscaling: "{{ values_final | carto.selfhosted.autoscaling_enabled }}"
  register: facts
  no_log: true  # the rendered manifest holds the chart's Secrets

- name: Compute the preflight checks
  ansible.builtin.set_fact:
    checks: "{{ facts.preflight_input | ansible.builtin.combine({'values': values_final}) | carto.selfhosted.preflight_checks }}"
"""

RETURN = r"""
helm:
  description: C(helm version --short).
  returned: always
  type: dict
  sample: {"rc": 0, "stdout": "v3.18.0+gcc58e3f", "stderr": ""}
kubectl:
  description: C(kubectl version --client -o json) (stdout is the JSON text).
  returned: always
  type: dict
cluster:
  description: The API server's C(/version) (null when unreachable) and the error.
  returned: always
  type: dict
  sample: {"version": {"gitVersion": "v1.36.3", "major": "1", "minor": "36"}, "error": ""}
nodes:
  description: The nodes (C(api_found), C(resources) as the API returns them, C(error)); null when the cluster did not answer.
  returned: always
  type: dict
storage_classes:
  description: The StorageClasses, like RV(nodes).
  returned: always
  type: dict
crds:
  description: The CustomResourceDefinitions, like RV(nodes); null unless I(gateway=true).
  returned: always
  type: dict
metrics_apiservice:
  description: The metrics-server APIService object, null when absent or not read.
  returned: always
  type: dict
metrics:
  description: Whether C(/apis/metrics.k8s.io/v1beta1/pods) answered (I(autoscaling=true)), and the error.
  returned: always
  type: dict
  sample: {"answered": false, "error": "the metrics.k8s.io API is not served"}
namespace:
  description: With I(namespace), whether it exists, its labels and the read error; else null.
  returned: always
  type: dict
  sample: {"name": "carto", "exists": true, "labels": {"kubernetes.io/metadata.name": "carto"}, "error": ""}
served_kinds:
  description: After a successful render, C(<apiVersion> <Kind>) of every resource the cluster serves (discovery), like RV(nodes).
  returned: always
  type: dict
pods:
  description: After a successful render, the cluster's unfinished pods (for each node's free capacity), like RV(nodes).
  returned: always
  type: dict
dry_run:
  description:
    - With I(dry_run) after a successful render, the server-side dry run; null otherwise.
    - C(refused) lists the objects the API refused (C(kind), C(name), HTTP C(status), C(reason), C(message),
      C(causes) with C(field) / C(message) / C(reason) as the API's C(Status) gives them); C(into) is the namespace
      the objects were sent to; C(error) is set when the dry run could not run.
  returned: always
  type: dict
  sample: {"namespace": "carto", "into": "default", "error": "", "refused": [{"kind": "Service", "name": "carto-router",
           "status": 422, "reason": "Invalid", "message": "Service \"carto-router\" is invalid: ...",
           "causes": [{"field": "spec.type", "message": "Unsupported value: \"Balancer\" ...",
                       "reason": "FieldValueNotSupported"}]}]}
render:
  description: C(helm template) result (C(rc), C(stdout) the manifest, C(stderr)); null when I(values) is empty.
  returned: always
  type: dict
preflight_input:
  description:
    - The cluster-side input of the C(carto.selfhosted.preflight_checks) filter (C(kubernetes_version), C(nodes),
      C(storage_classes), C(crd_names), C(served_kinds) (C(<apiVersion> <Kind>) the cluster serves), C(pods),
      C(dry_run), C(manifest),
      C(render_error), C(metrics_apiservice), C(metrics_answered), C(metrics_error)); combine it with the values,
      package files and minimums.
  returned: always
  type: dict
commands:
  description: helm commands run (the values file path replaced by C(<values file>)).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import missing_required_lib  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule, HAS_YAML  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils.cluster_facts import (  # noqa: E402
    KubernetesReader,
    gather,
    preflight_input,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.cli import HelmRelease  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._helm.lease import (  # noqa: E402
    mask_secret_values,
)

try:
    import kubernetes  # noqa: F401  pylint: disable=unused-import

    HAS_K8S = True
except ImportError:
    HAS_K8S = False


class _Cli(object):
    def __init__(self, module, helm_binary, kubectl_binary):
        self.module = module
        self.helm_binary = helm_binary
        self.kubectl_binary = kubectl_binary

    def _run(self, argv):
        # Local commands only (no cluster access). handle_exceptions=False: a missing binary raises (rc 127 in
        # cluster_facts.gather) instead of failing the module.
        return self.module.run_command(argv, environ_update=self.module.env_update, handle_exceptions=False)

    def helm_version(self):
        return self._run([self.helm_binary, "version", "--short"])

    def kubectl_version(self):
        return self._run([self.kubectl_binary, "version", "--client", "--output=json"])


class _Unreachable(object):
    def __init__(self, error):
        self.error = error

    def version(self):
        raise self.error


def main():
    spec = cluster_client.argument_spec(helm=True)
    spec.update(
        kubectl_binary=dict(type="str", default="kubectl"),
        release_name=dict(type="str", default="carto"),
        release_namespace=dict(type="str", default="carto"),
        chart_ref=dict(type="str", default="carto"),
        chart_repo_url=dict(type="str"),
        chart_version=dict(type="str"),
        values=dict(type="dict", default={}, no_log=True),
        namespace=dict(type="str"),
        gateway=dict(type="bool", default=False),
        autoscaling=dict(type="bool", default=False),
        metrics_apiservice=dict(type="str", default="v1beta1.metrics.k8s.io"),
        dry_run=dict(type="bool", default=True),
        dry_run_namespace=dict(type="str", default="default"),
    )
    module = AnsibleHelmModule(argument_spec=spec, mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
                               supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    params = module.params
    values = params["values"] or {}
    mask_secret_values(module, values, params.get("api_key"))

    helm_binary = params.get("binary_path") or "helm"
    cli = _Cli(module, helm_binary, params["kubectl_binary"])
    try:
        cluster = KubernetesReader(cluster_client.api_client(params))
    except Exception as exc:  # pylint: disable=broad-except
        # no kubeconfig, a bad context: recorded as the cluster error
        cluster = _Unreachable(exc)
    helm = HelmRelease(module, params["release_name"], params["release_namespace"])
    render = None
    if values:
        def render():
            return helm.template(params["chart_ref"], values, params["chart_repo_url"], params["chart_version"])
    facts = gather(cluster, cli, want_gateway=params["gateway"], want_metrics=params["autoscaling"],
                   metrics_apiservice=params["metrics_apiservice"], render=render, namespace=params["namespace"],
                   dry_run=params["dry_run"], dry_run_namespace=params["dry_run_namespace"])
    module.exit_json(changed=False, preflight_input=preflight_input(facts), commands=helm.commands, **facts)


if __name__ == "__main__":
    main()
