# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

"""Private: X.509 certificate-chain validation for CARTO Self-Hosted (not a public API).

All the logic of the ``carto.selfhosted.tls_certificate_chain`` module and of
the ``carto.selfhosted.pem_split`` / ``x509_describe`` / ``chain_order``
filters lives here, so that the same code validates a certificate bundle read
from a file (the ``tls.crt`` of the ``tlsCerts.existingSecret`` Secret or of the
Ingress TLS Secret), a CA given as ``externalPostgresql.sslCA`` /
``externalRedis.tlsCA``, and the chain served by a TLS endpoint.

Entry point: :func:`validate.validate_chain`, which returns a :class:`ChainReport`.
It never raises for a bad certificate: every problem becomes a failed
:class:`Check`.  It never puts private key material in the report.

Behaviours come from the CARTO documentation (https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes
and https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md); the references are in the messages.

- ``certs``: constants, errors, the cryptography check and the small X.509 helpers;
- ``report``: ``Check``, ``ChainReport``, ``CertEntry``, ``ParsedBundle``;
- ``pem``: PEM/DER parsing of bundles and private keys;
- ``order``: leaf-first ordering and host name matching;
- ``checks``: the default trust store and each check of the validation;
- ``validate``: :func:`validate.validate_chain` and :func:`validate.ca_certificate_problems`.
"""
