# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the default trust store and the checks :func:`validate.validate_chain` runs (parse, order, key,
trust, signatures, validity, hostname, extended key usage, CA purpose).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID
except ImportError:  # pragma: no cover - reported by certs.check_cryptography
    pass

from ansible_collections.carto.selfhosted.plugins.module_utils._tls.certs import (
    DOC_500_ERROR, DOC_INGRESS_CERT, DOC_POSTGRES_CA, DOC_REDIS_CA, FAILED, MODULUS_COMMANDS, PASSED, PURPOSE_CA,
    PURPOSE_SERVER, SKIPPED, UNABLE_TO_VERIFY, WARNING, _MAX_PATH_LENGTH, _colon_hex, _eku_names, _ext, _iso,
    _spki, common_names, days_to_expiry, describe_certificate, describe_public_key, format_name, is_ca,
    is_self_signed, signed_by, verify_signature,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._tls.order import (
    _normalize_host, _not_one_chain_message, domain_covered, hostname_matches, order_entries,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._tls.pem import join_pem, parse_trust


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
