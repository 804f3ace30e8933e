#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: carto_release_inspect
short_description: Wait for a CARTO release to roll out and read what its verification needs, in one run
version_added: 0.3.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - Everything the C(carto.selfhosted.verify) role reads from the cluster, in one module run (one Python start and
    one kubernetes client import instead of one per read). It changes nothing and supports check mode.
  - "Waits (bounded, O(wait_timeout) seconds, one look every O(poll_interval) seconds) until the release has at least
    one Deployment and every Deployment matching O(label_selector) is rolled out and Available (C(observedGeneration)
    caught up, C(updatedReplicas) and C(availableReplicas) equal to C(spec.replicas), condition C(Available=True),
    what C(kubectl rollout status) waits for) (U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes), I(Install CARTO): the pods can take
    up to 5 minutes)."
  - "Then waits (bounded, again up to O(wait_timeout) seconds) until there is at least one pod and every pod is
    C(Running) and C(Ready) (C(Succeeded) pods are ignored, terminating pods are not ready)
    (U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes),
    I(Install CARTO), the C(kubectl get pods) list). When the Deployment wait timed out (more than one look and
    Deployments still not Available) the pods get one look only: the verification report names what is not ready."
  - "Reads the release with C(helm status -o json): status, revision and, of its manifest, only the Deployments,
    StatefulSets and HorizontalPodAutoscalers (the components the verification expects; the rest of the manifest,
    Secrets included, is dropped and never returned). Like M(kubernetes.core.helm_info), which finds the release with
    C(helm list), the release counts as found only when its last revision is C(deployed) or C(failed); otherwise
    the returned C(release.status) is C(not found) and C(manifest) is empty (C(release.last_status) tells the real
    status)."
  - Reads the StatefulSets matching O(label_selector).
  - "Waits (bounded, O(load_balancer_timeout) seconds) for the router Service O(router_service) of type
    C(LoadBalancer) to get an external IP or hostname in C(status.loadBalancer.ingress): the cloud creates the load
    balancer asynchronously
    (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster);
    U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes), I(Configure an HTTPS
    endpoint), C(kubectl get svc -w carto-router)). No wait when the Service does not exist, is not a LoadBalancer
    or cannot be read."
  - With O(ingress=true) reads the router Ingress (named like the Service) for its address
    (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md), I(Troubleshooting), I(Ingress);
    U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster)).
  - "Objects are returned as the API serves them (list items with C(apiVersion) and C(kind)), the format of
    M(kubernetes.core.k8s_info) C(resources), except C(metadata.managedFields), left out as C(kubectl get) does
    (about a third of each object; no check uses it). An API, helm or kubeconfig error does not fail the module:
    the read is retried while its wait lasts, then its result is null, the reason is in C(errors) and shown as a
    warning.
    Judging the release is left to the C(carto.selfhosted.verify_report) filter."
  - It belongs to the C(carto.selfhosted.cluster) action group, so O(kubeconfig) and O(context) come from
    C(module_defaults). The Kubernetes client is built by kubernetes.core from these options as for
    M(kubernetes.core.k8s_info), and helm runs with them as for M(kubernetes.core.helm_info).
extends_documentation_fragment:
  - carto.selfhosted.cluster
  - carto.selfhosted.cluster.HELM
requirements:
  - kubernetes (Python client) >= 24.2.0
  - PyYAML
  - helm (CLI) >= 3
options:
  release_name:
    description: Name of the Helm release.
    type: str
    required: true
    aliases: [name]
  release_namespace:
    description: Namespace of the release and of its objects.
    type: str
    required: true
    aliases: [namespace]
  label_selector:
    description:
      - Label selector of the release's Deployments, pods and StatefulSets.
      - Default C(app.kubernetes.io/instance=<release_name>), the label the chart puts on them.
    type: str
  wait_timeout:
    description:
      - How long to wait for the Deployments to be Available, then again for the pods to be Running and Ready, in
        seconds. V(0) looks once.
    type: float
    default: 300
  poll_interval:
    description: Seconds between two looks while waiting (Deployments, pods, load balancer address).
    type: float
    default: 5
  router_service:
    description: Name of the router Service (and Ingress). Default C(<release_name>-router).
    type: str
  load_balancer_timeout:
    description: How long to wait for the external IP or hostname of a LoadBalancer router Service, in seconds.
    type: float
    default: 120
  ingress:
    description: Read the router Ingress (when C(router.ingress.enabled) is true in the values).
    type: bool
    default: false
notes:
  - "Failure messages, for invalid options or a missing library only: C(poll_interval must be greater than 0 seconds,
    got <n>); the standard message of a missing Python library for C(kubernetes) or C(PyYAML)."
  - "Reasons in the C(errors) return value, the module does not fail: C(Deployments: <API error>),
    C(pods: <API error>), C(release: helm status <name> -n <ns> failed with exit code <rc>: <stderr>),
    C(release: helm status <name> -n <ns>: output is not JSON: ...), C(release: helm CLI not found, set binary_path),
    C(StatefulSets: <API error>), C(Service <router>: <API error>), C(Ingress <router>: <API error>).
    An API error reads C(<HTTP status> <reason>: <message of the API>)."
  - A wait looks at 0, O(poll_interval), 2 x O(poll_interval)... seconds, the last time at its timeout, so it makes
    timeout / O(poll_interval) rounded up, plus one, looks; as many as the Ansible C(until) loops the verify role
    used before, with that quotient as C(retries) and O(poll_interval) as C(delay).
seealso:
  - module: carto.selfhosted.carto_endpoint_check
  - module: kubernetes.core.helm_info
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Wait for the release and read it (verify role)
  carto.selfhosted.carto_release_inspect:
    release_name: carto
    release_namespace: carto
    wait_timeout: 300
    poll_interval: 5
    load_balancer_timeout: 120
    ingress: false
  register: inspect

- name: Build the verification report from it
  ansible.builtin.set_fact:
    report: >-
      {{ {'manifest': inspect.manifest, 'deployments': inspect.deployments, 'pods': inspect.pods,
          'statefulsets': inspect.statefulsets, 'services': [inspect.router_service] if inspect.router_service else [],
          'router_service': 'carto-router'} | carto.selfhosted.verify_report }}

- name: One look, no waiting
  carto.selfhosted.carto_release_inspect:
    name: carto
    namespace: carto
    wait_timeout: 0
    load_balancer_timeout: 0
"""

RETURN = r"""
release:
  description: The Helm release (C(helm status -o json)), reported like M(kubernetes.core.helm_info) finds it.
  returned: always
  type: dict
  contains:
    found:
      description: Whether the release exists and its last revision is C(deployed) or C(failed).
      type: bool
    name:
      description: Release name.
      type: str
    namespace:
      description: Release namespace.
      type: str
    status:
      description: Status of the last revision when found, else C(not found).
      type: str
      sample: deployed
    revision:
      description: Last revision number as a string (as C(helm list) prints it); empty when not found.
      type: str
      sample: "3"
    updated:
      description: When the last revision was deployed (RFC 3339); null when not found.
      type: str
    description:
      description: Description of the last revision (C(Install complete), C(Upgrade complete)...); null when not found.
      type: str
    last_status:
      description: Status of the last revision even when not found (C(pending-upgrade)...); null without release.
      type: str
manifest:
  description:
    - The Deployments, StatefulSets and HorizontalPodAutoscalers of the release manifest (the expected components);
      empty when the release is not found. Nothing else of the manifest is returned.
  returned: always
  type: list
  elements: dict
deployments:
  description: The Deployments matching O(label_selector) at the end of their wait; null when they could not be read.
  returned: always
  type: list
  elements: dict
pods:
  description: The pods matching O(label_selector) at the end of their wait; null when they could not be read.
  returned: always
  type: list
  elements: dict
statefulsets:
  description: The StatefulSets matching O(label_selector); null when they could not be read.
  returned: always
  type: list
  elements: dict
router_service:
  description: The router Service at the end of the load balancer wait; null when it does not exist or could not be read.
  returned: always
  type: dict
ingress:
  description: The router Ingress with O(ingress=true); null otherwise, when it does not exist or could not be read.
  returned: always
  type: dict
waits:
  description: How the waits ended.
  returned: always
  type: dict
  contains:
    deployments:
      description:
        - C(ready) (bool, every Deployment Available), C(attempts) (int, looks), C(seconds) (float, waited),
          C(not_available) (list of strings, each a Deployment name and why it is not Available).
      type: dict
    pods:
      description:
        - C(ready) (bool, every pod Running and Ready), C(waited) (bool, false when the pods got one look after the
          Deployment wait timed out), C(attempts), C(seconds), C(not_ready) (list of strings, each a pod name and why it is not Ready).
      type: dict
    load_balancer:
      description:
        - C(waited) (bool, the router Service is a LoadBalancer), C(ready) (bool, it has an external IP or hostname),
          C(attempts), C(seconds).
      type: dict
errors:
  description: Reads that failed (their last attempt), one reason each; also shown as warnings.
  returned: always
  type: list
  elements: str
  sample: ["Service carto-router: 403 Forbidden: services \"carto-router\" is forbidden"]
"""


from ansible.module_utils.basic import missing_required_lib  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule, HAS_YAML  # noqa: E402
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client  # noqa: E402

try:
    import kubernetes  # noqa: F401  pylint: disable=unused-import

    HAS_K8S = True
except ImportError:
    HAS_K8S = False

from ansible_collections.carto.selfhosted.plugins.module_utils._release_inspect import (  # noqa: E402
    HelmError,
    ReleaseReader,
    helm_status,
    inspect_release,
)


def argument_spec():
    spec = cluster_client.argument_spec(helm=True)
    spec.update(
        release_name=dict(type="str", required=True, aliases=["name"]),
        release_namespace=dict(type="str", required=True, aliases=["namespace"]),
        label_selector=dict(type="str"),
        wait_timeout=dict(type="float", default=300.0),
        poll_interval=dict(type="float", default=5.0),
        router_service=dict(type="str"),
        load_balancer_timeout=dict(type="float", default=120.0),
        ingress=dict(type="bool", default=False),
    )
    return spec


def main():
    module = AnsibleHelmModule(argument_spec=argument_spec(), mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
                               supports_check_mode=True)
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    params = module.params
    if params["poll_interval"] <= 0:
        module.fail_json(msg="poll_interval must be greater than 0 seconds, got %s" % params["poll_interval"])
    name, namespace = params["release_name"], params["release_namespace"]
    selector = params["label_selector"] or "app.kubernetes.io/instance=%s" % name

    def read_status():
        helm = params.get("binary_path") or module.get_bin_path("helm")
        if not helm:
            raise HelmError("helm CLI not found, set binary_path")
        return helm_status(lambda argv: module.run_helm_command(argv, fails_on_error=False), helm, name, namespace)

    result = inspect_release(
        ReleaseReader(lambda: cluster_client.api_client(params), namespace, selector), read_status, name, namespace,
        wait_timeout=params["wait_timeout"], poll_interval=params["poll_interval"],
        router_service=params["router_service"], load_balancer_timeout=params["load_balancer_timeout"],
        ingress=params["ingress"])
    for error in result["errors"]:
        module.warn(error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
