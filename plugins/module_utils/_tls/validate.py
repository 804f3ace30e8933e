# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: :func:`validate_chain`, the entry point of the chain validation, and :func:`ca_certificate_problems`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils._tls.certs import (
    DOC_OWN_CERT, FAILED, PASSED, PURPOSES, PURPOSE_CA, PURPOSE_SERVER, PrivateKeyError, SKIPPED, _aware, _spki,
    check_cryptography, describe_certificate, describe_public_key,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._tls.checks import (
    _check_eku, _check_hostname, _check_key_match, _check_order, _check_parse, _check_signatures, _check_trust,
    _check_validity, _describe_entry, _skip_rest, _validate_ca, load_default_trust,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._tls.order import order_entries
from ansible_collections.carto.selfhosted.plugins.module_utils._tls.pem import (
    join_pem, load_private_key, parse_bundle, parse_trust,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._tls.report import ChainReport


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
