# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the report structures of the chain validation (``Check``, ``ChainReport``, ``CertEntry``,
``ParsedBundle``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from cryptography.hazmat.primitives import hashes
except ImportError:  # pragma: no cover - reported by certs.check_cryptography
    pass

from ansible_collections.carto.selfhosted.plugins.module_utils._tls.certs import (
    FAILED, PURPOSE_SERVER, STATUSES, WARNING, cert_to_pem, format_name,
)


# --------------------------------------------------------------------------
# Report structures
# --------------------------------------------------------------------------


class Check(object):
    """One check result: ``name``, ``status`` (passed/failed/warning/skipped), ``message``,
    and the ``subject`` / ``issuer`` of the certificate it is about (or None)."""

    __slots__ = ("name", "status", "message", "subject", "issuer")

    def __init__(self, name, status, message, subject=None, issuer=None):
        if status not in STATUSES:
            raise ValueError("invalid check status %r" % (status,))
        self.name = name
        self.status = status
        self.message = message
        self.subject = subject
        self.issuer = issuer

    def to_dict(self):
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "subject": self.subject,
            "issuer": self.issuer,
        }

    def describe(self):
        """One line: ``[name] subject: message``."""
        where = " (%s)" % self.subject if self.subject else ""
        return "[%s]%s %s" % (self.name, where, self.message)

    def __repr__(self):
        return "Check(%r, %r, %r)" % (self.name, self.status, self.message)


class ChainReport(object):
    """Result of :func:`validate_chain`.

    Attributes: ``purpose``; ``checks`` (list of :class:`Check`, in the order run);
    ``chain`` (list of certificate descriptions, see :func:`describe_certificate`,
    leaf first, each with ``source`` and ``position``); ``leaf`` (description or None);
    ``anchor`` (description of the trusted CA the chain ends at, or None);
    ``ordered_chain_pem`` (the bundle's chain, leaf first, as PEM text);
    ``completed_chain_pem`` (PEM text including the certificates taken from
    ``extra``, or None when nothing was added); ``added_certificates``
    (descriptions of those). Properties: ``valid``, ``failures``, ``warnings``.
    """

    def __init__(self, purpose=PURPOSE_SERVER):
        self.purpose = purpose
        self.checks = []
        self.chain = []
        self.leaf = None
        self.anchor = None
        self.ordered_chain_pem = ""
        self.completed_chain_pem = None
        self.added_certificates = []

    def add(self, name, status, message, cert=None):
        subject = issuer = None
        if cert is not None:
            subject = format_name(cert.subject)
            issuer = format_name(cert.issuer)
        check = Check(name, status, message, subject, issuer)
        self.checks.append(check)
        return check

    def by_name(self, name):
        return [c for c in self.checks if c.name == name]

    @property
    def valid(self):
        return not any(c.status == FAILED for c in self.checks)

    @property
    def failures(self):
        return [c.describe() for c in self.checks if c.status == FAILED]

    @property
    def warnings(self):
        return [c.describe() for c in self.checks if c.status == WARNING]

    def failure_message(self):
        """All failures at once, numbered, one per line."""
        failures = self.failures
        if not failures:
            return ""
        lines = ["%d TLS certificate check(s) failed:" % len(failures)]
        lines.extend("%d. %s" % (i, f) for i, f in enumerate(failures, 1))
        return "\n".join(lines)

    def to_dict(self):
        return {
            "valid": self.valid,
            "purpose": self.purpose,
            "checks": [c.to_dict() for c in self.checks],
            "chain": list(self.chain),
            "leaf": self.leaf,
            "anchor": self.anchor,
            "ordered_chain_pem": self.ordered_chain_pem,
            "completed_chain_pem": self.completed_chain_pem,
            "added_certificates": list(self.added_certificates),
            "warnings": self.warnings,
            "failures": self.failures,
        }


class CertEntry(object):
    """A parsed certificate and where it came from (``position`` is 1-based in its input)."""

    __slots__ = ("cert", "position", "source", "fingerprint")

    def __init__(self, cert, position, source):
        self.cert = cert
        self.position = position
        self.source = source
        self.fingerprint = cert.fingerprint(hashes.SHA256())

    @property
    def pem(self):
        return cert_to_pem(self.cert)


class ParsedBundle(object):
    """Result of :func:`parse_bundle`: ``entries`` (CertEntry), ``errors`` and
    ``notes`` (lists of ``(position, message)``), ``blocks`` (number of PEM/DER items seen)."""

    def __init__(self):
        self.entries = []
        self.errors = []
        self.notes = []
        self.blocks = 0
