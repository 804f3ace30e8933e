# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""X.509 filters: ``pem_split``, ``x509_describe`` and ``chain_order``.

Documented in ``pem_split.yml``, ``x509_describe.yml`` and ``chain_order.yml``
next to this file. The logic is in ``module_utils/_tls/``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.carto.selfhosted.plugins.module_utils._tls import certs as tls_certs
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import order as tls_order
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import pem as tls_pem


def _require_cryptography(name):
    problem = tls_certs.check_cryptography()
    if problem is not None:
        raise AnsibleFilterError("%s: %s" % (name, problem))


def _check_input(name, data, allow_list=True):
    if data is None:
        raise AnsibleFilterError("%s: the input is undefined or null, expected PEM text" % name)
    if isinstance(data, (list, tuple)):
        if not allow_list:
            raise AnsibleFilterError("%s: expected PEM text, got a list" % name)
        for item in data:
            _check_input(name, item, allow_list=False)
        return
    if not isinstance(data, (str, bytes)):
        raise AnsibleFilterError("%s: expected PEM text, got %s" % (name, type(data).__name__))


def pem_split(data):
    """A PEM bundle (or list of bundles) -> list of PEM certificates, in input order."""
    _require_cryptography("pem_split")
    _check_input("pem_split", data)
    try:
        return tls_pem.split_pem(data)
    except tls_certs.TlsChainError as exc:
        raise AnsibleFilterError("pem_split: %s" % exc)


def x509_describe(data):
    """The first certificate of PEM text -> description dict."""
    _require_cryptography("x509_describe")
    _check_input("x509_describe", data)
    try:
        certs = tls_pem.load_certificates(data)
    except tls_certs.TlsChainError as exc:
        raise AnsibleFilterError("x509_describe: %s" % exc)
    if not certs:
        raise AnsibleFilterError("x509_describe: no certificate found in the input")
    return tls_certs.describe_certificate(certs[0])


def chain_order(data):
    """A bundle or list of PEM certificates -> list of PEM certificates, leaf first."""
    _require_cryptography("chain_order")
    _check_input("chain_order", data)
    try:
        return tls_order.order_chain(data)
    except tls_certs.TlsChainError as exc:
        raise AnsibleFilterError("chain_order: %s" % exc)


class FilterModule(object):
    """carto.selfhosted X.509 filters."""

    def filters(self):
        return {
            "pem_split": pem_split,
            "x509_describe": x509_describe,
            "chain_order": chain_order,
        }
