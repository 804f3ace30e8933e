# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""The cluster options of every module of the collection that reaches the cluster (module_utils/_k8s/client.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """``carto.selfhosted.cluster``: the cluster options; ``carto.selfhosted.cluster.HELM``: the helm binary."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig, or the kubeconfig itself as a dictionary (never logged).
      - If not set, the value of the environment variable C(K8S_AUTH_KUBECONFIG) is used.
      - With neither this, O(context) nor O(host) set, the in-cluster service account is tried, then C($KUBECONFIG)
        and C(~/.kube/config) (kubernetes.core's order).
      - The playbooks set it once for the action group C(carto.selfhosted.cluster) from C(carto_kubeconfig).
    type: raw
    aliases: [kubeconfig_path]
  context:
    description:
      - The kubeconfig context to use. If not set, the value of C(K8S_AUTH_CONTEXT) is used.
      - The playbooks set it from C(carto_kube_context).
    type: str
    aliases: [kube_context]
  host:
    description:
      - URL of the API server, for a token without a kubeconfig (C(K8S_AUTH_HOST), as AWX's Kubernetes credential
        sets it).
    type: str
  api_key:
    description:
      - Bearer token for the API server (C(K8S_AUTH_API_KEY)).
    type: str
  ca_cert:
    description:
      - Path to the CA certificate(s) of the API server (C(K8S_AUTH_SSL_CA_CERT)). Not with O(context).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate (C(K8S_AUTH_VERIFY_SSL)). Not with O(context).
    type: bool
    default: true
    aliases: [verify_ssl]
notes:
  - The client is kubernetes.core's (C(get_api_client)), the one kubernetes.core.k8s_info uses. Each module lists
    when it needs the kubernetes Python client.
"""

    HELM = r"""
options:
  binary_path:
    description:
      - Path of the helm binary (Helm 3 >= 3.7 or Helm 4). Default C(helm) from C(PATH).
    type: path
"""
