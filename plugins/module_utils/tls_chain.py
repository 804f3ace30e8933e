# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

"""X.509 certificate-chain validation for CARTO Self-Hosted.

All the logic of the ``carto.selfhosted.tls_certificate_chain`` module and of
the ``carto.selfhosted.pem_split`` / ``x509_describe`` / ``chain_order``
filters lives here, so that the same code validates a certificate bundle read
from a file (the ``tls.crt`` of the ``tlsCerts.existingSecret`` Secret or of the
Ingress TLS Secret), a CA given as ``externalPostgresql.sslCA`` /
``externalRedis.tlsCA``, and the chain served by a TLS endpoint.

Entry point: :func:`validate_chain`, which returns a :class:`ChainReport`.
It never raises for a bad certificate: every problem becomes a failed
:class:`Check`.  It never puts private key material in the report.

Behaviours come from the CARTO documentation (``carto-kubernetes-install.md``
and ``carto-customizations.md``); the references are in the messages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import datetime
import ipaddress
import os
import re
import traceback
import warnings

CRYPTOGRAPHY_IMP_ERR = None
CRYPTOGRAPHY_VERSION = None
try:
    import cryptography
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    CRYPTOGRAPHY_VERSION = cryptography.__version__
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - exercised only without cryptography
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMP_ERR = traceback.format_exc()

#: ``Certificate.not_valid_after_utc`` and ``verify_directly_issued_by`` are needed.
MIN_CRYPTOGRAPHY_VERSION = "42.0.0"

PASSED = "passed"
FAILED = "failed"
WARNING = "warning"
SKIPPED = "skipped"
STATUSES = (PASSED, FAILED, WARNING, SKIPPED)

PURPOSE_SERVER = "server"
PURPOSE_CA = "ca"
PURPOSES = (PURPOSE_SERVER, PURPOSE_CA)

#: Where the operating system keeps its PEM bundle of trusted roots; the first
#: readable one is the default trust store.
DEFAULT_CA_BUNDLE_PATHS = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL, CentOS
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Fedora, RHEL (extracted)
    "/etc/ssl/ca-bundle.pem",  # openSUSE, SLES
    "/etc/ssl/cert.pem",  # macOS, Alpine, OpenBSD
    "/usr/local/share/certs/ca-root-nss.crt",  # FreeBSD
)

#: Documentation sections each behaviour comes from (paths relative to the spec docs).
DOC_OWN_CERT = "carto-kubernetes-install.md, Use your own TLS certificate"
DOC_OWN_CERT_ROUTER = "carto-customizations.md, Use your own TLS certificate"
DOC_INGRESS_CERT = "carto-customizations.md, Expose CARTO with Ingress and your own TLS certificates"
DOC_500_ERROR = "carto-customizations.md, Troubleshooting, 500 Code Error"
DOC_POSTGRES_CA = "carto-customizations.md, Configure Postgres SSL with custom CA"
DOC_REDIS_CA = "carto-customizations.md, Configure Redis TLS"

#: The command the install guide gives to remove a key passphrase.
UNPROTECT_KEY_COMMAND = "openssl rsa -in keyfile_with_passphrase.key -out new_keyfile.key"

#: The troubleshooting guide's key/certificate comparison.
MODULUS_COMMANDS = (
    "openssl x509 -noout -modulus -in <certificate> | openssl md5",
    "openssl rsa -noout -modulus -in <key> | openssl md5",
)

UNABLE_TO_VERIFY = (
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE ("unable to verify the first certificate", '
    "the 500 error of the CARTO APIs)"
)

_MAX_PATH_LENGTH = 16
_BEGIN_RE = re.compile(r"^-----BEGIN ([A-Z0-9 ]+)-----$")
_END_RE = re.compile(r"^-----END ([A-Z0-9 ]+)-----$")

# openssl's short names, for Issuer/Subject printed like ``openssl x509 -noout -subject``.
_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.5": "serialNumber",
    "2.5.4.4": "SN",
    "2.5.4.42": "GN",
    "2.5.4.12": "title",
    "2.5.4.17": "postalCode",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
    "2.5.4.15": "businessCategory",
}


class TlsChainError(ValueError):
    """Raised by the helpers used by the filters (bad PEM, not one chain...)."""


class PrivateKeyError(TlsChainError):
    """The private key could not be loaded (``passphrase`` is True when it is protected)."""

    def __init__(self, message, passphrase=False):
        super(PrivateKeyError, self).__init__(message)
        self.passphrase = passphrase


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


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def check_cryptography():
    """Return None when a usable cryptography is importable, else an error string."""
    if not HAS_CRYPTOGRAPHY:
        return "the Python library cryptography (>= %s) is required" % MIN_CRYPTOGRAPHY_VERSION
    if _version_tuple(CRYPTOGRAPHY_VERSION) < _version_tuple(MIN_CRYPTOGRAPHY_VERSION):
        return "cryptography >= %s is required, found %s" % (MIN_CRYPTOGRAPHY_VERSION, CRYPTOGRAPHY_VERSION)
    return None


def ca_certificate_problems(pem, now=None, warning_days=30):
    """``(failures, warnings)`` (lists of one-line texts) of a CA bundle in PEM text.

    The check of ``externalPostgresql.sslCA`` / ``externalRedis.tlsCA`` (``validate_chain`` with
    ``purpose=ca``): every block must parse as an X.509 certificate, be a CA (or a self-signed
    certificate trusted directly) and be within its validity window. Returns None when no usable
    cryptography is importable (the caller says so instead of guessing).
    """
    if check_cryptography() is not None:
        return None
    report = validate_chain(pem, purpose=PURPOSE_CA, trust=[], now=now, warning_days=warning_days)
    return report.failures, report.warnings


def _version_tuple(version):
    parts = []
    for piece in str(version).split("."):
        match = re.match(r"\d+", piece)
        parts.append(int(match.group(0)) if match else 0)
    return tuple(parts)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _aware(value):
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value


def _to_text(data):
    if isinstance(data, (bytes, bytearray)):
        return bytes(data).decode("utf-8", "replace")
    return data


def _iso(value):
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _colon_hex(data):
    return ":".join("%02X" % b for b in bytearray(data))


def format_name(name):
    """An X.509 Name the way ``openssl x509 -noout -subject`` prints it:
    ``C = US, O = Example, CN = example.com`` (RDNs in certificate order)."""
    rdns = []
    for rdn in name.rdns:
        parts = []
        for attr in rdn:
            label = _SHORT_NAMES.get(attr.oid.dotted_string, attr.oid.dotted_string)
            value = attr.value
            if isinstance(value, bytes):
                value = "#" + binascii.hexlify(value).decode("ascii")
            parts.append("%s = %s" % (label, value))
        rdns.append(" + ".join(parts))
    return ", ".join(rdns)


def cert_to_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def join_pem(certs):
    """PEM text of certificates (x509.Certificate or CertEntry), concatenated."""
    out = []
    for item in certs:
        cert = item.cert if isinstance(item, CertEntry) else item
        out.append(cert_to_pem(cert))
    return "".join(out)


def describe_public_key(key):
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA %d bits" % key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC %s" % key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA %d bits" % key.key_size
    return type(key).__name__


def _spki(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _ext(cert, ext_class):
    try:
        return cert.extensions.get_extension_for_class(ext_class).value
    except x509.ExtensionNotFound:
        return None


def is_ca(cert):
    """True when basicConstraints says CA:TRUE."""
    bc = _ext(cert, x509.BasicConstraints)
    return bool(bc is not None and bc.ca)


def san_names(cert):
    """(dns_names, ip_addresses) of the subjectAltName extension, or None when absent."""
    san = _ext(cert, x509.SubjectAlternativeName)
    if san is None:
        return None
    dns = list(san.get_values_for_type(x509.DNSName))
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def common_names(cert):
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def _eku_names(eku):
    names = []
    for oid in eku:
        name = getattr(oid, "_name", None)
        if not name or name == "Unknown OID":
            name = oid.dotted_string
        names.append(name)
    return names


def signed_by(child, parent):
    """True when ``child`` names ``parent`` as issuer AND its signature verifies
    with ``parent``'s public key (``verify_directly_issued_by``)."""
    return verify_signature(child, parent) is None


def verify_signature(child, parent):
    """None when ``child`` is directly issued by ``parent`` (names and signature), else the reason."""
    try:
        child.verify_directly_issued_by(parent)
    except InvalidSignature:
        return "the signature does not verify with the issuer's public key"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return str(exc) or type(exc).__name__
    return None


def is_self_signed(cert):
    return cert.issuer == cert.subject and signed_by(cert, cert)


def days_to_expiry(cert, now=None):
    """Whole days (floor) from ``now`` until notAfter; negative once expired."""
    delta = cert.not_valid_after_utc - _aware(now)
    return int(delta.total_seconds() // 86400)


def describe_certificate(cert, now=None):
    """A JSON-friendly description of a certificate.

    Keys: subject, issuer (openssl style), serial (uppercase hex), not_before,
    not_after (ISO 8601 UTC, ``Z``), days_to_expiry (int, days), sans (DNS
    names and IP addresses), fingerprint_sha256 (colon-separated uppercase hex),
    is_ca, self_signed, public_key (e.g. ``RSA 2048 bits``), signature_algorithm,
    extended_key_usage (list of names, or None when the extension is absent).
    """
    names = san_names(cert)
    eku = _ext(cert, x509.ExtendedKeyUsage)
    try:
        sig_alg = cert.signature_algorithm_oid._name
    except Exception:  # pragma: no cover - defensive
        sig_alg = cert.signature_algorithm_oid.dotted_string
    return {
        "subject": format_name(cert.subject),
        "issuer": format_name(cert.issuer),
        "serial": "%X" % cert.serial_number,
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "days_to_expiry": days_to_expiry(cert, now),
        "sans": (names[0] + names[1]) if names else [],
        "fingerprint_sha256": _colon_hex(cert.fingerprint(hashes.SHA256())),
        "is_ca": is_ca(cert),
        "self_signed": is_self_signed(cert),
        "public_key": describe_public_key(cert.public_key()),
        "signature_algorithm": sig_alg,
        "extended_key_usage": _eku_names(eku) if eku is not None else None,
    }


# --------------------------------------------------------------------------
# PEM / DER parsing
# --------------------------------------------------------------------------


def _flatten(data):
    if data is None:
        return []
    if isinstance(data, (list, tuple)):
        items = []
        for item in data:
            items.extend(_flatten(item))
        return items
    return [data]


def _pem_blocks(text):
    """Yield ``(label, der_bytes_or_None, error_or_None)`` for every BEGIN/END block."""
    label = None
    body = []
    for raw in text.splitlines():
        line = raw.strip()
        begin = _BEGIN_RE.match(line)
        end = _END_RE.match(line)
        if label is None:
            if begin:
                label, body = begin.group(1), []
            elif end:
                yield end.group(1), None, "END line without a matching BEGIN line"
            continue
        if begin:
            yield label, None, "no END line before the next BEGIN line (truncated block)"
            label, body = begin.group(1), []
            continue
        if end:
            if end.group(1) != label:
                yield label, None, "BEGIN %s closed by END %s" % (label, end.group(1))
            else:
                der = _b64decode(body)
                if der is None:
                    yield label, None, "invalid base64 content"
                else:
                    yield label, der, None
            label = None
            continue
        if ":" in line:
            continue  # RFC 1421 headers (Proc-Type, DEK-Info) of legacy encrypted keys
        if line:
            body.append(line)
    if label is not None:
        yield label, None, "no END line (truncated block)"


def _b64decode(lines):
    """The bytes of base64 ``lines``, or None when they are not valid base64."""
    try:
        return base64.b64decode("".join(lines).encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _looks_like_pem(data):
    if isinstance(data, (bytes, bytearray)):
        return b"-----BEGIN" in data or b"-----END" in data
    return True


def parse_trust(data, source="ca_bundle"):
    """The certificates of a trust store (bad blocks and parser deprecation warnings ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [e.cert for e in parse_bundle(data, source=source).entries]


def parse_bundle(data, source="certificate"):
    """Parse certificates from PEM text, PEM/DER bytes, ``x509.Certificate``
    objects or a list of any of those (e.g. the DER list a TLS server sends).

    Positions are 1-based and count every PEM block / DER item. Non-certificate
    blocks (a private key pasted into the certificate file...) are reported in
    ``notes`` and ignored; bad blocks are reported in ``errors``.
    """
    parsed = ParsedBundle()
    for item in _flatten(data):
        if HAS_CRYPTOGRAPHY and isinstance(item, x509.Certificate):
            parsed.blocks += 1
            parsed.entries.append(CertEntry(item, parsed.blocks, source))
            continue
        if not _looks_like_pem(item):
            parsed.blocks += 1
            try:
                cert = x509.load_der_x509_certificate(bytes(item))
            except ValueError as exc:
                parsed.errors.append((parsed.blocks, "item %d is neither PEM nor a DER certificate: %s"
                                      % (parsed.blocks, exc)))
            else:
                parsed.entries.append(CertEntry(cert, parsed.blocks, source))
            continue
        text = _to_text(item)
        if not isinstance(text, str):
            parsed.blocks += 1
            parsed.errors.append((parsed.blocks, "item %d is a %s, not PEM text"
                                  % (parsed.blocks, type(item).__name__)))
            continue
        for label, der, error in _pem_blocks(text):
            parsed.blocks += 1
            pos = parsed.blocks
            if error is not None:
                parsed.errors.append((pos, "PEM block %d (%s) is malformed: %s" % (pos, label, error)))
                continue
            if label.endswith("PRIVATE KEY"):
                parsed.notes.append((pos, "PEM block %d is a %s, not a certificate: it is ignored and never "
                                     "returned; keep the key in its own file (tls.key)" % (pos, label)))
                continue
            if label not in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
                parsed.notes.append((pos, "PEM block %d is a %s, not a CERTIFICATE: ignored" % (pos, label)))
                continue
            if label == "TRUSTED CERTIFICATE":
                parsed.errors.append((pos, "PEM block %d is an OpenSSL TRUSTED CERTIFICATE (with trust settings); "
                                      "convert it with: openssl x509 -in <file> -out <new file>" % pos))
                continue
            try:
                cert = x509.load_der_x509_certificate(der)
            except ValueError as exc:
                parsed.errors.append((pos, "PEM block %d (%s) does not parse as an X.509 certificate: %s"
                                      % (pos, label, exc)))
                continue
            parsed.entries.append(CertEntry(cert, pos, source))
    return parsed


def split_pem(data):
    """The certificates of a bundle as a list of PEM strings (input order).

    Raises :class:`TlsChainError` listing every malformed block.
    Non-certificate blocks are skipped.
    """
    parsed = parse_bundle(data)
    if parsed.errors:
        raise TlsChainError("; ".join(msg for _pos, msg in parsed.errors))
    return [e.pem for e in parsed.entries]


def load_certificates(data):
    """Parse and return a list of ``x509.Certificate``; raise :class:`TlsChainError` on bad input."""
    parsed = parse_bundle(data)
    if parsed.errors:
        raise TlsChainError("; ".join(msg for _pos, msg in parsed.errors))
    return [e.cert for e in parsed.entries]


def load_private_key(data):
    """Load an unencrypted PEM private key.

    Raises :class:`PrivateKeyError`, with ``passphrase=True`` when the key is
    protected by a passphrase. The messages never contain key material.
    """
    text = _to_text(data)
    if not isinstance(text, str) or not text.strip():
        raise PrivateKeyError("the private key is empty")
    blocks = []
    label = None
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        begin = _BEGIN_RE.match(line)
        if label is None:
            if begin and begin.group(1).endswith("PRIVATE KEY"):
                label, lines = begin.group(1), [line]
            continue
        lines.append(line)
        end = _END_RE.match(line)
        if end:
            blocks.append((label, "\n".join(lines) + "\n"))
            label = None
    if not blocks:
        raise PrivateKeyError("no PEM PRIVATE KEY block found in the private key (is it a certificate, "
                              "or a DER/PKCS#12 file?)")
    if len(blocks) > 1:
        raise PrivateKeyError("the private key file contains %d PRIVATE KEY blocks; it must contain exactly one"
                              % len(blocks))
    label, block = blocks[0]
    if label == "ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED" in block:
        raise PrivateKeyError(_passphrase_message(label), passphrase=True)
    try:
        return serialization.load_pem_private_key(block.encode("ascii", "replace"), password=None)
    except TypeError:
        raise PrivateKeyError(_passphrase_message(label), passphrase=True)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise PrivateKeyError("the private key (%s) could not be parsed: %s" % (label, exc))


def _passphrase_message(label):
    return (
        "the private key (%s) is protected with a passphrase: CARTO Self-Hosted cannot use it (%s). "
        "Write an unprotected copy with: %s (for an EC or any other key: "
        "openssl pkey -in keyfile_with_passphrase.key -out new_keyfile.key)"
        % (label, DOC_OWN_CERT, UNPROTECT_KEY_COMMAND)
    )


# --------------------------------------------------------------------------
# Ordering
# --------------------------------------------------------------------------


class OrderResult(object):
    """Result of :func:`order_entries`: ``chain`` (leaf first), ``leftovers`` (certificates
    that are not on the leaf's chain), ``duplicates`` (repeated certificates), ``misordered``
    (the input does not list the chain leaf first), ``leaf_candidates``."""

    def __init__(self):
        self.chain = []
        self.leftovers = []
        self.duplicates = []
        self.misordered = False
        self.leaf_candidates = []


def _pick_parent(entry, pool):
    """The issuer of ``entry`` among ``pool``: signature-verified first, then name match only."""
    cert = entry.cert
    if cert.issuer == cert.subject:
        return None
    named = [p for p in pool if p is not entry and p.cert.subject == cert.issuer]
    for candidate in named:
        if signed_by(cert, candidate.cert):
            return candidate
    return named[0] if named else None


def order_entries(entries, key_spki=None):
    """Order a list of :class:`CertEntry` leaf first.

    The leaf is the certificate that issued no other certificate of the list
    (the one matching ``key_spki``, the DER SubjectPublicKeyInfo of the private
    key, when several qualify; else the first of them in input order).
    """
    result = OrderResult()
    unique = []
    seen = {}
    for entry in entries:
        if entry.fingerprint in seen:
            result.duplicates.append(entry)
            continue
        seen[entry.fingerprint] = entry
        unique.append(entry)
    if not unique:
        return result

    parent = {}
    for entry in unique:
        parent[id(entry)] = _pick_parent(entry, unique)
    issuers = set(id(p) for p in parent.values() if p is not None)
    candidates = [e for e in unique if id(e) not in issuers]
    result.leaf_candidates = candidates
    if not candidates:  # a cycle: fall back to the input order
        candidates = [unique[0]]
    leaf = candidates[0]
    if key_spki is not None:
        for candidate in candidates:
            if _spki(candidate.cert.public_key()) == key_spki:
                leaf = candidate
                break

    chain = [leaf]
    current = leaf
    while len(chain) <= _MAX_PATH_LENGTH:
        nxt = parent[id(current)]
        if nxt is None or any(nxt is c for c in chain):
            break
        chain.append(nxt)
        current = nxt
    result.chain = chain
    result.leftovers = [e for e in unique if not any(e is c for c in chain)]
    in_input_order = [e for e in unique if any(e is c for c in chain)]
    result.misordered = [id(e) for e in in_input_order] != [id(e) for e in chain]
    return result


def order_chain(data):
    """Order a bundle (PEM text or list) leaf first; return the list of PEM strings.

    Raises :class:`TlsChainError` when the input does not parse, is empty, or
    is not exactly one chain.
    """
    parsed = parse_bundle(data)
    if parsed.errors:
        raise TlsChainError("; ".join(msg for _pos, msg in parsed.errors))
    if not parsed.entries:
        raise TlsChainError("no certificate found")
    result = order_entries(parsed.entries)
    if len(result.leaf_candidates) > 1 or result.leftovers:
        raise TlsChainError(_not_one_chain_message(result))
    return [e.pem for e in result.chain]


def _not_one_chain_message(result):
    leftovers = ", ".join("#%d '%s'" % (e.position, format_name(e.cert.subject)) for e in result.leftovers)
    return ("the certificates are not one chain: %s not on the chain of the leaf #%d '%s' "
            "(each certificate must be signed by the next one)"
            % (leftovers, result.chain[0].position, format_name(result.chain[0].cert.subject)))


# --------------------------------------------------------------------------
# Hostname matching (RFC 6125)
# --------------------------------------------------------------------------


def _normalize_host(name):
    name = (name or "").strip().rstrip(".").lower()
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return name


def _ip(value):
    try:
        return ipaddress.ip_address(str(value).strip().strip("[]"))
    except ValueError:
        return None


def hostname_matches(pattern, hostname):
    """RFC 6125 section 6.4 DNS-ID matching of one SAN ``pattern`` against ``hostname``.

    Case-insensitive, trailing dot ignored, IDNs compared as A-labels. A wildcard
    is only honoured as the whole left-most label (``*.example.com``) and matches
    exactly one label: ``a.example.com``, not ``example.com`` nor
    ``a.b.example.com``. Partial-label wildcards (``w*.example.com``) and
    wildcards over a public suffix-like single label (``*.com``) never match.
    """
    pattern = _normalize_host(pattern)
    hostname = _normalize_host(hostname)
    if not pattern or not hostname:
        return False
    if _ip(hostname) is not None:
        return False
    if "*" not in pattern:
        return pattern == hostname
    labels = pattern.split(".")
    if labels[0] != "*" or "*" in ".".join(labels[1:]) or len(labels) < 3:
        return False
    host_labels = hostname.split(".")
    if len(host_labels) != len(labels) or not host_labels[0]:
        return False
    return host_labels[1:] == labels[1:]


def domain_covered(cert, domain):
    """(matched_entry_or_None, dns_names, ip_addresses, has_san) for ``domain``."""
    names = san_names(cert)
    if names is None:
        return None, [], [], False
    dns, ips = names
    target_ip = _ip(domain)
    if target_ip is not None:
        for ip in ips:
            if _ip(ip) == target_ip:
                return ip, dns, ips, True
        return None, dns, ips, True
    for name in dns:
        if hostname_matches(name, domain):
            return name, dns, ips, True
    return None, dns, ips, True


# --------------------------------------------------------------------------
# Trust store
# --------------------------------------------------------------------------


def find_default_ca_bundle(paths=None):
    """The first readable system CA bundle path, or None."""
    for path in paths if paths is not None else DEFAULT_CA_BUNDLE_PATHS:
        if os.path.isfile(path) and os.access(path, os.R_OK):
            return path
    return None


def load_default_trust(paths=None):
    """(certificates, path) of the system trust store; ([], None) when none is found."""
    path = find_default_ca_bundle(paths)
    if path is None:
        return [], None
    with open(path, "rb") as handle:
        return parse_trust(handle.read()), path


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def validate_chain(certs, *, private_key_pem=None, extra=None, trust=None, domain=None, now=None,
                   warning_days=30, purpose=PURPOSE_SERVER, reorder=False, trust_source=None):
    """Validate a certificate bundle / served chain and return a :class:`ChainReport`.

    :param certs: PEM text (one bundle), PEM/DER bytes, ``x509.Certificate`` or a
        list of those (e.g. the DER certificates a TLS server sent), leaf first.
    :param private_key_pem: optional PEM private key (str/bytes) of the leaf.
    :param extra: optional extra intermediates (same forms as ``certs``) used to
        complete an incomplete chain.
    :param trust: trusted CAs (same forms as ``certs``). None loads the system
        bundle (:data:`DEFAULT_CA_BUNDLE_PATHS`); an empty list trusts nothing.
    :param domain: hostname (or IP) the leaf must cover; None skips the check.
    :param now: ``datetime`` used for validity (default: current UTC time).
    :param warning_days: warn when a certificate expires in fewer days.
    :param purpose: ``server`` (TLS server chain) or ``ca`` (CA certificates
        for ``externalPostgresql.sslCA`` / ``externalRedis.tlsCA``).
    :param reorder: a misordered bundle is a warning (and reordered) instead of a failure.
    :param trust_source: label of the trust store for messages (e.g. its path).
    """
    if purpose not in PURPOSES:
        raise ValueError("purpose must be one of %s" % ", ".join(PURPOSES))
    if warning_days is None or int(warning_days) < 0:
        raise ValueError("warning_days must be a non-negative integer")
    warning_days = int(warning_days)
    now = _aware(now)
    report = ChainReport(purpose)

    parsed = parse_bundle(certs, source="certificate")
    _check_parse(report, parsed)
    if not parsed.entries:
        _skip_rest(report, purpose, "no certificate to check")
        return report

    if purpose == PURPOSE_CA:
        _validate_ca(report, parsed, now, warning_days, private_key_pem, domain)
        return report

    # ---- private key (loaded first: it helps to pick the leaf) -------------
    key = None
    key_spki = None
    if private_key_pem is None:
        report.add("private_key", SKIPPED, "no private key given")
    else:
        try:
            key = load_private_key(private_key_pem)
        except PrivateKeyError as exc:
            report.add("private_key", FAILED, str(exc))
        else:
            key_spki = _spki(key.public_key())
            report.add("private_key", PASSED, "private key (%s) parsed; it is not passphrase-protected (%s)"
                       % (describe_public_key(key.public_key()), DOC_OWN_CERT))

    # ---- order -------------------------------------------------------------
    order = order_entries(parsed.entries, key_spki=key_spki)
    chain_entries = order.chain
    leaf = chain_entries[0].cert
    _check_order(report, order, reorder)
    report.ordered_chain_pem = join_pem(chain_entries)

    # ---- key match ---------------------------------------------------------
    if key is None:
        report.add("private_key_match", SKIPPED,
                   "no private key given" if private_key_pem is None else "the private key could not be loaded",
                   leaf)
    else:
        _check_key_match(report, key, key_spki, leaf, order)

    # ---- trust / completion -----------------------------------------------
    if trust is None:
        trust_certs, path = load_default_trust()
        trust_source = trust_source or path
        trust_found = path is not None
    else:
        trust_certs = parse_trust(trust)
        trust_found = True
    extra_entries = parse_bundle(extra, source="extra_certificates").entries if extra is not None else []
    added, anchor = _check_trust(report, chain_entries, extra_entries, trust_certs, trust_found,
                                 trust_source, extra is not None)
    effective = chain_entries + added

    # ---- signatures and CA flags along the chain -------------------------
    _check_signatures(report, effective, anchor)

    # ---- validity ----------------------------------------------------------
    for entry in effective:
        _check_validity(report, entry.cert, now, warning_days)

    # ---- leaf usage --------------------------------------------------------
    _check_hostname(report, leaf, domain)
    _check_eku(report, leaf)

    # ---- outputs -----------------------------------------------------------
    if added:
        report.completed_chain_pem = join_pem(effective)
        report.added_certificates = [_describe_entry(e, now) for e in added]
    report.chain = [_describe_entry(e, now) for e in effective]
    report.leaf = report.chain[0]
    report.anchor = describe_certificate(anchor, now) if anchor is not None else None
    return report


def _describe_entry(entry, now):
    desc = describe_certificate(entry.cert, now)
    desc["source"] = entry.source
    desc["position"] = entry.position
    return desc


def _check_parse(report, parsed):
    for _pos, message in parsed.errors:
        report.add("pem_parse", FAILED, message)
    for _pos, message in parsed.notes:
        report.add("pem_parse", WARNING, message)
    if not parsed.entries:
        if not parsed.errors:
            report.add("pem_parse", FAILED, "no certificate found: the input has no PEM CERTIFICATE block "
                       "(-----BEGIN CERTIFICATE-----) and is not a DER certificate")
        return
    if not parsed.errors:
        report.add("pem_parse", PASSED, "%d certificate(s) parsed" % len(parsed.entries))


_PURPOSE_CHECKS = {
    PURPOSE_SERVER: ("chain_order", "private_key", "private_key_match", "signature", "trust", "validity",
                     "hostname", "extended_key_usage"),
    PURPOSE_CA: ("ca_basic_constraints", "signature", "validity"),
}


def _skip_rest(report, purpose, why):
    for name in _PURPOSE_CHECKS[purpose]:
        report.add(name, SKIPPED, why)


def _check_order(report, order, reorder):
    chain = order.chain
    for dup in order.duplicates:
        report.add("chain_order", WARNING, "certificate #%d is a duplicate of an earlier certificate; "
                   "it is left out of ordered_chain_pem" % dup.position, dup.cert)
    if order.leftovers:
        report.add("chain_order", FAILED, _not_one_chain_message(order) + "; remove the unrelated certificates "
                   "or add the missing intermediates between them", chain[0].cert)
    wanted = " -> ".join("#%d '%s'" % (e.position, format_name(e.cert.subject)) for e in chain)
    if order.misordered:
        if reorder:
            report.add("chain_order", WARNING, "the bundle is not ordered leaf first; it was reordered "
                       "(see ordered_chain_pem): %s" % wanted, chain[0].cert)
        else:
            report.add("chain_order", FAILED, "the bundle is not ordered leaf -> intermediates: the server "
                       "certificate must come first, then each issuer (servers and kubectl create secret tls "
                       "use the first certificate as the leaf). Expected order: %s. Reorder the file (its "
                       "ordered version is in ordered_chain_pem) or set reorder: true" % wanted, chain[0].cert)
    elif not order.leftovers:
        report.add("chain_order", PASSED, "the bundle is ordered leaf first: %s" % wanted, chain[0].cert)
    if is_ca(chain[0].cert) and not is_self_signed(chain[0].cert):
        report.add("chain_order", WARNING, "the first certificate of the chain '%s' is a CA certificate: the "
                   "server (leaf) certificate seems to be missing from the bundle"
                   % format_name(chain[0].cert.subject), chain[0].cert)


def _check_key_match(report, key, key_spki, leaf, order):
    leaf_key = leaf.public_key()
    if _spki(leaf_key) == key_spki:
        report.add("private_key_match", PASSED, "the private key matches the public key of the leaf certificate "
                   "(same check as the modulus md5 comparison of %s)" % DOC_500_ERROR, leaf)
        return
    other = [e for e in order.chain[1:] + order.leftovers if _spki(e.cert.public_key()) == key_spki]
    hint = ""
    if other:
        hint = (" The key belongs to certificate #%d '%s' of the bundle instead."
                % (other[0].position, format_name(other[0].cert.subject)))
    report.add("private_key_match", FAILED,
               "the private key (%s) does not match the public key of the leaf certificate (%s): the "
               "troubleshooting guide's modulus comparison (`%s` vs `%s`) would give different md5 sums "
               "(%s).%s Use the key the certificate was issued for."
               % (describe_public_key(key.public_key()), describe_public_key(leaf_key),
                  MODULUS_COMMANDS[0], MODULUS_COMMANDS[1], DOC_500_ERROR, hint), leaf)


def _same_ca_in(cert, pool):
    """A certificate of ``pool`` with the same subject and public key as ``cert``, or None."""
    spki = None
    for candidate in pool:
        if candidate.subject == cert.subject:
            spki = spki or _spki(cert.public_key())
            if _spki(candidate.public_key()) == spki:
                return candidate
    return None


def _find_issuer(cert, pool):
    for candidate in pool:
        if candidate.subject == cert.issuer and signed_by(cert, candidate):
            return candidate
    return None


def _check_trust(report, chain_entries, extra_entries, trust_certs, trust_found, trust_source, extra_given):
    """Walk from the top of the bundle to a trusted CA, completing from ``extra``.

    Returns (added entries, anchor certificate or None).
    """
    top = chain_entries[-1]
    store = "the CA bundle" + (" (%s)" % trust_source if trust_source else "")
    if not trust_found:
        report.add("trust", WARNING, "no CA bundle found (looked at %s): the chain could not be checked against "
                   "trusted roots; set ca_bundle" % ", ".join(DEFAULT_CA_BUNDLE_PATHS), top.cert)
        return [], None
    trusted_fps = set(c.fingerprint(hashes.SHA256()) for c in trust_certs)
    used = set(e.fingerprint for e in chain_entries)
    added = []
    current = top
    anchor = None
    problem = None
    for _dummy in range(_MAX_PATH_LENGTH):
        cert = current.cert
        if current.fingerprint in trusted_fps:
            anchor = cert
            break
        same = _same_ca_in(cert, trust_certs)
        if same is not None:  # the bundle carries another issuance (other dates) of a trusted CA
            anchor = same
            break
        if cert.issuer == cert.subject and signed_by(cert, cert):
            problem = "self_signed"
            break
        anchor = _find_issuer(cert, trust_certs)
        if anchor is not None:
            break
        nxt = None
        for entry in extra_entries:
            if entry.fingerprint not in used and entry.cert.subject == cert.issuer and signed_by(cert, entry.cert):
                nxt = entry
                break
        if nxt is None:
            problem = "missing"
            break
        used.add(nxt.fingerprint)
        added.append(nxt)
        current = nxt
    else:
        problem = "too_long"

    # a trusted root taken from extra is not needed in the served chain
    if anchor is not None and added and added[-1].cert is anchor:
        added.pop()

    leaf = chain_entries[0].cert
    if problem is None:
        if added:
            names = "; ".join("'%s'" % format_name(e.cert.subject) for e in added)
            report.add("trust", WARNING,
                       "the bundle is incomplete: completed it with %d certificate(s) from extra_certificates "
                       "(%s), up to the trusted CA '%s' of %s. Use completed_chain_pem (leaf first) as the "
                       "certificate: without them clients fail with %s (%s; %s)"
                       % (len(added), names, format_name(anchor.subject), store, UNABLE_TO_VERIFY,
                          DOC_500_ERROR, DOC_INGRESS_CERT), leaf)
        else:
            report.add("trust", PASSED, "the chain reaches the trusted CA '%s' of %s"
                       % (format_name(anchor.subject), store), leaf)
        return added, anchor

    cert = current.cert
    if problem == "self_signed":
        if len(chain_entries) == 1 and not added:
            message = ("the certificate '%s' is self-signed and not in %s: TLS clients reject it "
                       "(DEPTH_ZERO_SELF_SIGNED_CERT). Use a certificate issued by a CA, or add this certificate "
                       "to ca_bundle if the clients trust it explicitly" % (format_name(cert.subject), store))
        else:
            message = ("the chain ends at the self-signed root '%s', which is not in %s "
                       "(SELF_SIGNED_CERT_IN_CHAIN): add it to ca_bundle if it is your private CA"
                       % (format_name(cert.subject), store))
        report.add("trust", FAILED, message, cert)
        return added, None
    if problem == "too_long":
        report.add("trust", FAILED, "the chain is longer than %d certificates without reaching a trusted CA"
                   % _MAX_PATH_LENGTH, cert)
        return added, None

    aki = _ext(cert, x509.AuthorityKeyIdentifier)
    aki_text = ""
    if aki is not None and aki.key_identifier:
        aki_text = " (Authority Key Identifier %s)" % _colon_hex(aki.key_identifier)
    searched = "the bundle" + (", in extra_certificates" if extra_given else "") + " or in " + store
    if cert is leaf:
        code = UNABLE_TO_VERIFY
    else:
        code = ("UNABLE_TO_GET_ISSUER_CERT_LOCALLY (for a missing issuer of the server certificate itself: %s)"
                % UNABLE_TO_VERIFY)
    done = ""
    if added:
        done = (" (completed with %s from extra_certificates, still incomplete)"
                % "; ".join("'%s'" % format_name(e.cert.subject) for e in added))
    report.add("trust", FAILED,
               "the chain is incomplete%s: the issuer of '%s' is missing. Missing issuer (intermediate) "
               "certificate: Subject '%s'%s, not found in %s. Clients fail with %s. Append the certificate whose Subject is "
               "'%s' after the certificates of the bundle (usually at the bottom of the file; a root CA of a "
               "private PKI goes to ca_bundle instead), recreate the TLS secret and reinstall (%s; %s)"
               % (done, format_name(cert.subject), format_name(cert.issuer), aki_text, searched, code,
                  format_name(cert.issuer), DOC_500_ERROR, DOC_INGRESS_CERT), cert)
    return added, None


def _check_signatures(report, effective, anchor):
    links = []
    for index, entry in enumerate(effective):
        if index + 1 < len(effective):
            links.append((entry.cert, effective[index + 1].cert))
        elif entry.cert.issuer == entry.cert.subject:
            links.append((entry.cert, entry.cert))
        elif anchor is not None and anchor is not entry.cert:
            links.append((entry.cert, anchor))
    if not links:
        report.add("signature", SKIPPED, "no issuer certificate available to verify the signature",
                   effective[0].cert)
    for child, parent in links:
        reason = verify_signature(child, parent)
        if child is parent:
            if reason is None:
                report.add("signature", PASSED, "self-signed certificate: its signature verifies with its own "
                           "public key", child)
            else:
                report.add("signature", FAILED, "the certificate claims to be self-signed but its signature "
                           "does not verify with its own public key: %s" % reason, child)
            continue
        if reason is None:
            report.add("signature", PASSED, "signature verified with the public key of '%s'"
                       % format_name(parent.subject), child)
        else:
            report.add("signature", FAILED, "'%s' names '%s' as issuer but is not signed by that certificate "
                       "of the chain: %s. The intermediate in the bundle is not the one that issued the "
                       "certificate (renewed/re-keyed CA?): get the matching intermediate from your CA"
                       % (format_name(child.subject), format_name(child.issuer), reason), child)
            continue
        if not is_ca(parent):
            report.add("signature", FAILED, "'%s' is signed by '%s', which is not a CA certificate "
                       "(basicConstraints CA:TRUE missing): clients reject the chain (INVALID_CA)"
                       % (format_name(child.subject), format_name(parent.subject)), parent)


def _check_validity(report, cert, now, warning_days):
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    days = days_to_expiry(cert, now)
    if now < not_before:
        report.add("validity", FAILED, "not yet valid: valid from %s (now %s)" % (_iso(not_before), _iso(now)), cert)
    elif now > not_after:
        report.add("validity", FAILED, "expired on %s (%d days ago)" % (_iso(not_after), -days), cert)
    elif days < warning_days:
        report.add("validity", WARNING, "expires on %s, in %d days (less than %d days): renew it"
                   % (_iso(not_after), days, warning_days), cert)
    else:
        report.add("validity", PASSED, "valid from %s to %s (%d days left)"
                   % (_iso(not_before), _iso(not_after), days), cert)


def _check_hostname(report, leaf, domain):
    if not domain:
        report.add("hostname", SKIPPED, "no domain given", leaf)
        return
    matched, dns, ips, has_san = domain_covered(leaf, domain)
    cns = common_names(leaf)
    cn_note = "the subject CN is not used for matching (no CN fallback, RFC 6125 / RFC 2818)"
    if not has_san:
        cn_match = any(hostname_matches(cn, domain) for cn in cns)
        report.add("hostname", FAILED, "the leaf certificate has no subjectAltName extension, so it covers no "
                   "domain: %s%s. Reissue it with '%s' as a DNS subjectAltName"
                   % (cn_note, " even though CN '%s' would match" % cns[0] if cn_match else "", domain), leaf)
        return
    listed = ", ".join(dns + ips) or "none"
    if matched is not None:
        report.add("hostname", PASSED, "'%s' is covered by the subjectAltName '%s' (%s)"
                   % (domain, matched, cn_note), leaf)
        return
    hint = ""
    if any(n.startswith("*.") and _normalize_host(domain) == _normalize_host(n[2:]) for n in dns):
        hint = " A wildcard covers exactly one label: '*.%s' does not cover the apex '%s' itself." % (domain, domain)
    elif any(n.startswith("*.") for n in dns):
        hint = " A wildcard covers exactly one left-most label (*.example.com covers a.example.com, " \
               "not a.b.example.com)."
    report.add("hostname", FAILED, "'%s' is not covered by the subjectAltNames of the leaf certificate (%s).%s "
               "Note: %s" % (domain, listed, hint, cn_note), leaf)


def _check_eku(report, leaf):
    eku = _ext(leaf, x509.ExtendedKeyUsage)
    if eku is None:
        report.add("extended_key_usage", PASSED, "no extendedKeyUsage extension: any purpose is allowed", leaf)
        return
    names = _eku_names(eku)
    if ExtendedKeyUsageOID.SERVER_AUTH in eku or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku:
        report.add("extended_key_usage", PASSED, "extendedKeyUsage allows serverAuth (%s)" % ", ".join(names), leaf)
    else:
        report.add("extended_key_usage", FAILED, "extendedKeyUsage (%s) does not allow serverAuth (TLS Web Server "
                   "Authentication): the certificate cannot be used by a TLS server; reissue it for server "
                   "authentication" % ", ".join(names), leaf)


def _validate_ca(report, parsed, now, warning_days, private_key_pem, domain):
    docs = "%s; %s" % (DOC_POSTGRES_CA, DOC_REDIS_CA)
    order = order_entries(parsed.entries)
    for dup in order.duplicates:
        report.add("ca_basic_constraints", WARNING, "certificate #%d is a duplicate of an earlier certificate"
                   % dup.position, dup.cert)
    seen = set()
    unique = []
    for entry in parsed.entries:
        if entry.fingerprint not in seen:
            seen.add(entry.fingerprint)
            unique.append(entry)
    for entry in unique:
        cert = entry.cert
        self_signed = is_self_signed(cert)
        if is_ca(cert):
            kind = "root" if self_signed else "intermediate"
            report.add("ca_basic_constraints", PASSED, "CA certificate (basicConstraints CA:TRUE, %s)" % kind, cert)
        elif self_signed:
            report.add("ca_basic_constraints", WARNING, "not a CA certificate (basicConstraints CA:TRUE missing) "
                       "but self-signed: it only works as the self-signed server certificate itself, trusted "
                       "directly (%s)" % docs, cert)
        else:
            report.add("ca_basic_constraints", FAILED, "not a CA certificate (basicConstraints CA:TRUE missing): "
                       "sslCA / tlsCA must hold the CA that issued the server certificate (issuer '%s'), not "
                       "the server certificate itself (%s)" % (format_name(cert.issuer), docs), cert)
        if cert.issuer == cert.subject:
            reason = verify_signature(cert, cert)
            if reason is None:
                report.add("signature", PASSED, "self-signed certificate: its signature verifies with its own "
                           "public key", cert)
            else:
                report.add("signature", FAILED, "the certificate claims to be self-signed but its signature does "
                           "not verify with its own public key: %s" % reason, cert)
        _check_validity(report, cert, now, warning_days)
    if private_key_pem is not None:
        report.add("private_key", SKIPPED, "a private key is not used with purpose=ca")
    if domain:
        report.add("hostname", SKIPPED, "the domain is not checked with purpose=ca")
    report.ordered_chain_pem = join_pem(unique)
    report.chain = [_describe_entry(e, now) for e in unique]
