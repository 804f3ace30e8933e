# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the constants of the chain validation (statuses, purposes, the documentation each behaviour comes
from), its errors, the cryptography check and the small X.509 helpers (names, SANs, signatures, expiry).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import datetime
import re
import traceback

CRYPTOGRAPHY_IMP_ERR = None
CRYPTOGRAPHY_VERSION = None
try:
    import cryptography
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import NameOID

    CRYPTOGRAPHY_VERSION = cryptography.__version__
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - exercised only without cryptography
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMP_ERR = traceback.format_exc()

from ansible_collections.carto.selfhosted.plugins.module_utils import _docs


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


#: Documentation sections each behaviour comes from (CARTO's public documentation: page, section).
DOC_OWN_CERT = _docs.INSTALL + ", Use your own TLS certificate"
DOC_OWN_CERT_ROUTER = _docs.GUIDE + ", Use your own TLS certificate"
DOC_INGRESS_CERT = _docs.GUIDE + ", Expose CARTO with Ingress and your own TLS certificates"
DOC_500_ERROR = _docs.GUIDE + ", Troubleshooting, 500 Code Error"
DOC_POSTGRES_CA = _docs.GUIDE + ", Configure Postgres SSL with custom CA"
DOC_REDIS_CA = _docs.GUIDE + ", Configure Redis TLS"

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
# Small helpers
# --------------------------------------------------------------------------


def check_cryptography():
    """Return None when a usable cryptography is importable, else an error string."""
    if not HAS_CRYPTOGRAPHY:
        return "the Python library cryptography (>= %s) is required" % MIN_CRYPTOGRAPHY_VERSION
    if _version_tuple(CRYPTOGRAPHY_VERSION) < _version_tuple(MIN_CRYPTOGRAPHY_VERSION):
        return "cryptography >= %s is required, found %s" % (MIN_CRYPTOGRAPHY_VERSION, CRYPTOGRAPHY_VERSION)
    return None


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
