#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: carto_endpoint_check
short_description: HTTPS check of the CARTO router through a port-forward or the load balancer
version_added: 0.2.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - Sends one C(GET) over HTTPS to the CARTO router with SNI and C(Host) set to the CARTO domain and reports the HTTP
    status, the certificate chain the router serves (checked like M(carto.selfhosted.tls_certificate_chain) - complete,
    trusted, covering the domain, not expiring) and the response time.
  - With O(mode=port_forward) the request goes through the Kubernetes API to a Running (preferably Ready) pod behind
    O(service), like C(kubectl port-forward svc/carto-router 443:443) plus the C(/etc/hosts) line of
    C(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Install CARTO); the port-forward stream lives inside this module, so nothing is
    left running and it works where no C(kubectl) is installed (AWX execution environments).
  - With O(mode=direct) it connects to O(address):O(port), for example the LoadBalancer EXTERNAL-IP or the Ingress
    address (C(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Configure an HTTPS endpoint);
    U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster)).
  - "Returns a list of checks, each V(passed), V(failed), V(warning) or V(skipped): C(endpoint_connect),
    C(endpoint_http) (status 2xx/3xx or one of O(expected_status)), C(endpoint_certificate)
    (C(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Troubleshooting, 500 Code Error)), C(endpoint_response_time)."
  - The module fails only with O(fail_on_error=true) and a failed check; the message names every failed check.
  - It changes nothing and supports check mode. It belongs to the C(carto.selfhosted.cluster) action group, so
    O(kubeconfig) and O(context) come from C(module_defaults).
options:
  mode:
    description: How to reach the router.
    type: str
    choices: [port_forward, direct]
    default: port_forward
  namespace:
    description: Namespace of the release (O(mode=port_forward)).
    type: str
  service:
    description: Router Service whose pods get the port-forward (O(mode=port_forward)).
    type: str
    default: carto-router
  service_port:
    description: Name or number of the Service port that serves HTTPS (O(mode=port_forward)).
    type: str
    default: https
  address:
    description: IP address or host name to connect to (O(mode=direct)).
    type: str
  port:
    description: TCP port for O(mode=direct).
    type: int
    default: 443
  domain:
    description: The CARTO domain, sent as SNI and C(Host) and checked against the certificate.
    type: str
    required: true
  path:
    description: Path requested.
    type: str
    default: /
  timeout:
    description: Connection and response timeout, in seconds.
    type: float
    default: 15
  ca_bundle:
    description:
      - PEM file of the CAs the served chain must reach. Default is the system CA bundle of the host running the
        module.
    type: path
  trust_required:
    description:
      - When false, a chain that is otherwise valid but not trusted (the chart's self-signed certificate) is a
        V(warning) instead of a failure.
    type: bool
    default: true
  expiry_warning_days:
    description: Warn when a served certificate expires in fewer days (days).
    type: int
    default: 30
  expected_status:
    description: Accepted HTTP status codes. Empty accepts 200-399.
    type: list
    elements: int
    default: []
  slow_seconds:
    description: Response time above which C(endpoint_response_time) is a warning (seconds).
    type: float
    default: 5
  fail_on_error:
    description: Fail the task when a check failed.
    type: bool
    default: false
extends_documentation_fragment:
  - carto.selfhosted.cluster
requirements:
  - kubernetes >= 24.2.0 (python client, for O(mode=port_forward))
  - cryptography >= 42.0.0
notes:
  - "Failure messages: C(Service <name> not found in namespace <ns>); C(Service <name> has no port <port> (ports: ...));
    C(no Running pod behind Service <name> (selector ...)); C(pod <pod> has no container port named <name>);
    C(namespace is required with mode=port_forward); C(address is required with mode=direct);
    C(endpoint check failed: <check>: <message> ...) with O(fail_on_error=true)."
  - The full served chain is read with C(get_unverified_chain) (CPython 3.10 and later); an older interpreter gives only
    the leaf, reported in RV(endpoint.certificate.full_chain_read).
"""

EXAMPLES = r"""
- name: Check the router through a port-forward (ClusterIP Service)
  carto.selfhosted.carto_endpoint_check:
    namespace: carto
    domain: carto.example.com
    ca_bundle: /etc/pki/carto-ca.pem
  register: endpoint

- name: Check the router through its LoadBalancer address
  carto.selfhosted.carto_endpoint_check:
    mode: direct
    address: 203.0.113.10
    domain: carto.example.com
    fail_on_error: true
"""

RETURN = r"""
checks:
  description: The checks, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: C(endpoint_connect), C(endpoint_http), C(endpoint_certificate) or C(endpoint_response_time).
      type: str
    status:
      description: V(passed), V(failed), V(warning) or V(skipped).
      type: str
    message:
      description: What was found.
      type: str
    fix:
      description: What to do (failures and warnings).
      type: str
      returned: when there is something to do
    doc:
      description: Documentation section.
      type: str
      returned: when it applies
    required:
      description: Whether a failure fails the verification.
      type: bool
endpoint:
  description: Details of the request.
  returned: always
  type: dict
  contains:
    via:
      description: How the router was reached (C(port-forward pod/<name>:<port>) or C(<address>:<port>)).
      type: str
    status:
      description: HTTP status code.
      type: int
      returned: when the router answered
    response_seconds:
      description: Time from connecting to the response headers, in seconds.
      type: float
      returned: when the router answered
    handshake_seconds:
      description: TLS handshake time, in seconds.
      type: float
      returned: when the router answered
    tls_version:
      description: Negotiated TLS version.
      type: str
      returned: when the router answered
    certificate:
      description: The report on the served chain.
      type: dict
      returned: when the router answered
      contains:
        valid:
          description: Whether no check of the served chain failed (warnings allowed).
          type: bool
        checks:
          description:
            - The checks run on the served chain, in order, in the format of the C(checks) return value of
              M(carto.selfhosted.tls_certificate_chain).
          type: list
          elements: dict
        chain:
          description:
            - The served chain, leaf first, in the format of the C(chain) return value of
              M(carto.selfhosted.tls_certificate_chain) (subject, issuer, serial, validity, SANs).
          type: list
          elements: dict
        full_chain_read:
          description:
            - Whether the whole served chain could be read (C(get_unverified_chain), CPython 3.10 and later). V(false)
              means only the leaf was read, so the chain checks see the leaf alone.
          type: bool
        served_certificates:
          description: Number of certificates read from the TLS handshake.
          type: int
    error:
      description: Why the request failed.
      type: str
      returned: on connection or TLS failure
"""

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.carto.selfhosted.plugins.module_utils import _endpoint_check as endpoint_check
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client
from ansible_collections.carto.selfhosted.plugins.module_utils.carto_checks import FAILED, failure_message


def _argspec():
    spec = cluster_client.argument_spec()
    spec.update(
        mode=dict(type="str", choices=["port_forward", "direct"], default="port_forward"),
        namespace=dict(type="str"),
        service=dict(type="str", default="carto-router"),
        service_port=dict(type="str", default="https"),
        address=dict(type="str"),
        port=dict(type="int", default=443),
        domain=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        timeout=dict(type="float", default=15.0),
        ca_bundle=dict(type="path"),
        trust_required=dict(type="bool", default=True),
        expiry_warning_days=dict(type="int", default=30),
        expected_status=dict(type="list", elements="int", default=[]),
        slow_seconds=dict(type="float", default=5.0),
        fail_on_error=dict(type="bool", default=False),
    )
    return spec


def _port_forward_connector(module):
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException

    params = module.params
    api_client = cluster_client.api_client(params)
    api = CoreV1Api(api_client)
    namespace = params["namespace"]
    try:
        service = api_client.sanitize_for_serialization(api.read_namespaced_service(params["service"], namespace))
    except ApiException as exc:
        if exc.status == 404:
            raise ValueError("Service %s not found in namespace %s" % (params["service"], namespace))
        raise
    pods = api_client.sanitize_for_serialization(api.list_namespaced_pod(namespace)).get("items") or []
    pod, port = endpoint_check.resolve_target(service, params["service_port"], pods)
    via = "port-forward pod/%s:%d (Service %s port %s)" % (pod, port, params["service"], params["service_port"])
    return (lambda: endpoint_check.port_forward_socket(api_client, namespace, pod, port)), via


def main():
    module = AnsibleModule(argument_spec=_argspec(), mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    params = module.params
    trust = None
    if params["ca_bundle"]:
        try:
            with open(params["ca_bundle"], "rb") as handle:
                trust = handle.read()
        except OSError as exc:
            module.fail_json(msg="ca_bundle %s cannot be read: %s" % (params["ca_bundle"], exc))
    if params["mode"] == "port_forward":
        if not params["namespace"]:
            module.fail_json(msg="namespace is required with mode=port_forward")
        try:
            connect, via = _port_forward_connector(module)
        except ValueError as exc:
            module.fail_json(msg=str(exc), checks=[], endpoint={"error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - API errors
            module.fail_json(msg="port-forward to Service %s failed: %s" % (params["service"], exc),
                             exception=traceback.format_exc())
    else:
        if not params["address"]:
            module.fail_json(msg="address is required with mode=direct")
        via = "%s:%d" % (params["address"], params["port"])

        def connect():
            return endpoint_check.tcp_connect(params["address"], params["port"], params["timeout"])

    checks, details = endpoint_check.endpoint_checks(
        connect, params["domain"], path=params["path"], timeout=params["timeout"], trust=trust,
        trust_source=params["ca_bundle"], warning_days=params["expiry_warning_days"],
        expected_status=params["expected_status"], slow_seconds=params["slow_seconds"],
        trust_required=params["trust_required"], via=via)
    result = dict(changed=False, checks=checks, endpoint=details)
    if params["fail_on_error"] and any(c["status"] == FAILED for c in checks):
        module.fail_json(msg=failure_message(checks, "endpoint check"), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
