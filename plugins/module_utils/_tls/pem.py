# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: PEM and DER parsing of certificate bundles, trust bundles and private keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import warnings

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - reported by certs.check_cryptography
    pass

from ansible_collections.carto.selfhosted.plugins.module_utils._tls.certs import (
    DOC_OWN_CERT, HAS_CRYPTOGRAPHY, PrivateKeyError, TlsChainError, UNPROTECT_KEY_COMMAND, _BEGIN_RE, _END_RE, _to_text,
    cert_to_pem,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._tls.report import CertEntry, ParsedBundle


def join_pem(certs):
    """PEM text of certificates (x509.Certificate or CertEntry), concatenated."""
    out = []
    for item in certs:
        cert = item.cert if isinstance(item, CertEntry) else item
        out.append(cert_to_pem(cert))
    return "".join(out)


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
