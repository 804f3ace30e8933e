# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the cluster options of every module that reaches the cluster, and the client built from them.

Options (doc fragment ``carto.selfhosted.cluster``): kubernetes.core's helm auth options, that is ``kubeconfig``
(path, or the kubeconfig itself as a dict), ``context``, ``host``, ``api_key``, ``ca_cert`` and ``validate_certs``,
each with kubernetes.core's ``K8S_AUTH_*`` environment fallback (the variables AWX's Kubernetes credential sets), plus
``binary_path`` for the modules that run helm (fragment ``carto.selfhosted.cluster.HELM``). They are the options the
playbooks set once with ``module_defaults: group/carto.selfhosted.cluster`` (meta/runtime.yml), so one set of names
works for kubernetes.core.k8s*, kubernetes.core.helm* and this collection's modules alike.

``kubeconfig`` is ``no_log`` on every kubernetes.core 6.x: as a dict it holds tokens and client keys. kubernetes.core
up to 6.5 (``ansible`` 12, ansible-core 2.19) declares it so; 6.6 (``ansible`` 14, ansible-core 2.21) no longer does.

The client is kubernetes.core's (``kubernetes.core.plugins.module_utils.k8s.client.get_api_client``), built from
the options that are set, so unset ones keep its fallbacks in its order: ``host`` with ``api_key`` alone, else the
kubeconfig or context given, else the in-cluster service account, else ``$KUBECONFIG`` / ``~/.kube/config``.
Errors a caller sees: ``ImportError`` without the kubernetes Python client, kubernetes.core's ``CoreException``
("Could not create API client: ...") when no configuration can be loaded.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import (
    HELM_AUTH_ARG_SPEC as _KUBERNETES_CORE_HELM_AUTH,
    HELM_AUTH_MUTUALLY_EXCLUSIVE as _KUBERNETES_CORE_MUTUALLY_EXCLUSIVE,
)

_CLUSTER_OPTIONS = ("kubeconfig", "context", "host", "api_key", "ca_cert", "validate_certs")

# The cluster options: kubernetes.core's, with kubeconfig no_log whichever kubernetes.core 6.x provided them.
AUTH_ARG_SPEC = dict((name, copy.deepcopy(_KUBERNETES_CORE_HELM_AUTH[name])) for name in _CLUSTER_OPTIONS)
AUTH_ARG_SPEC["kubeconfig"]["no_log"] = True
# The helm binary of the modules that run the helm CLI (kubernetes.core's binary_path: a path, default helm on PATH).
HELM_ARG_SPEC = dict(binary_path=copy.deepcopy(_KUBERNETES_CORE_HELM_AUTH["binary_path"]))
# kubernetes.core's: a kubeconfig context brings its own CA and TLS settings.
AUTH_MUTUALLY_EXCLUSIVE = [tuple(pair) for pair in _KUBERNETES_CORE_MUTUALLY_EXCLUSIVE]


def argument_spec(helm=False, **options):
    """A new argument spec (dict): the cluster options, ``binary_path`` too when ``helm``, then the module's own
    ``options`` (which win on a name clash). The module passes ``mutually_exclusive=AUTH_MUTUALLY_EXCLUSIVE``."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    if helm:
        spec.update(copy.deepcopy(HELM_ARG_SPEC))
    spec.update(options)
    return spec


def k8s_auth(params):
    """Keyword arguments (dict) of kubernetes.core's ``get_api_client`` from the module's ``params``.

    Only the options that are set: unset ones keep kubernetes.core's own fallbacks, so the client is built as
    kubernetes.core.k8s_info builds it. ``validate_certs`` (default true) is passed only when false, so that a
    kubeconfig's ``insecure-skip-tls-verify`` still applies otherwise.
    """
    auth = dict((key, params[key]) for key in ("kubeconfig", "context", "host", "api_key", "ca_cert")
                if params.get(key))
    if params.get("validate_certs") is False:
        auth["validate_certs"] = False
    return auth


def api_client(params):
    """The kubernetes ``ApiClient`` that kubernetes.core builds (``get_api_client``) from the cluster options in
    ``params``. Raises ImportError without the kubernetes Python client, kubernetes.core's CoreException when no
    configuration loads."""
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

    return get_api_client(**k8s_auth(params)).client.client  # K8SClient > K8SDynamicClient > ApiClient
