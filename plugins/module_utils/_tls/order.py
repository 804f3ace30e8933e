# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: leaf-first ordering of a certificate chain and host name matching (SANs, wildcards, IPs).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.carto.selfhosted.plugins.module_utils._tls.certs import (
    TlsChainError, _MAX_PATH_LENGTH, _spki, format_name, san_names, signed_by,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._tls.pem import parse_bundle


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
