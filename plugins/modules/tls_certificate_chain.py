#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_certificate_chain
short_description: Validate a TLS certificate chain (and key) before giving it to CARTO Self-Hosted
version_added: 0.1.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - Validates the certificate bundle that goes into the TLS Secret of CARTO Self-Hosted (C(tlsCerts.existingSecret),
    created with C(kubectl create secret tls), see C(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Use your own TLS certificate) and
    C(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Use your own TLS certificate)) or of the Ingress
    (C(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Expose CARTO with Ingress and your own TLS
    certificates)), offline, before the
    installation.
  - With O(purpose=ca) it validates the CA certificates given as C(externalPostgresql.sslCA) or
    C(externalRedis.tlsCA) instead (C(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Configure Postgres SSL
    with custom CA) and
    C(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Configure Redis TLS)).
  - Every check is reported separately in RV(checks), with a status V(passed), V(failed), V(warning) or V(skipped).
    The module fails when at least one check failed, and then lists B(all) the failures at once in C(msg).
  - "Checks with O(purpose=server):
    C(pem_parse) - every PEM block of the bundle parses (a malformed block is reported with its 1-based position;
    a private key pasted into the certificate file is a warning and is never returned);
    C(chain_order) - the bundle is ordered leaf first, then each issuer (a misordered bundle fails, or is only a
    warning and is reordered with O(reorder=true)); certificates that are not on the leaf's chain fail; duplicates
    are a warning;
    C(private_key) - the key parses and is not passphrase-protected
    (C(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Use your own TLS certificate));
    C(private_key_match) - the key matches the leaf certificate (public keys compared, RSA, EC and others: the
    equivalent of the modulus md5 comparison of C(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md,
    Troubleshooting, 500 Code Error));
    C(signature) - each certificate is signed by the next one (signature verified, not names compared), the top one
    by its trusted CA, and each issuer is a CA;
    C(trust) - the chain reaches a trusted CA of O(ca_bundle), completing a missing intermediate from
    O(extra_certificates) when possible (C(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, Troubleshooting, 500
    Code Error));
    C(validity) - each certificate is within its validity window, with a warning when it expires in less than
    O(expiry_warning_days) days;
    C(hostname) - the leaf subjectAltNames cover O(domain);
    C(extended_key_usage) - the leaf may be used for TLS server authentication."
  - "Checks with O(purpose=ca): C(pem_parse); C(ca_basic_constraints) - every certificate is a CA
    (basicConstraints CA:TRUE; a self-signed non-CA server certificate is only a warning); C(signature) - the
    self-signature of self-signed certificates verifies; C(validity)."
  - The module never returns private key material.
  - This module does not change anything and fully supports check mode.
options:
  certificate:
    description:
      - Path of the certificate bundle (PEM, leaf first, then the intermediates), the file given to
        C(kubectl create secret tls --cert). A DER file with a single certificate is accepted too.
      - With O(purpose=ca), the path of the CA certificate(s).
      - Exactly one of O(certificate) and O(certificate_content) is required.
    type: path
  certificate_content:
    description:
      - The certificate bundle as PEM text (for example the decoded C(tls.crt) of a Secret, or the value of
        C(externalPostgresql.sslCA)).
    type: str
  private_key:
    description:
      - Path of the PEM private key of the leaf certificate (the file given to C(kubectl create secret tls --key)).
      - Optional; when neither O(private_key) nor O(private_key_content) is given, the key checks are skipped.
      - Ignored (check skipped) with O(purpose=ca).
    type: path
  private_key_content:
    description:
      - The PEM private key of the leaf certificate as text. Never logged nor returned.
    type: str
  extra_certificates:
    description:
      - Path of a PEM file with extra intermediate certificates (for example the CA bundle sent with the
        certificate). They are only used to complete a bundle whose chain is incomplete; the completed chain is
        returned in RV(completed_chain_pem).
    type: path
  extra_certificates_content:
    description:
      - The extra intermediate certificates as PEM text. See O(extra_certificates).
    type: str
  ca_bundle:
    description:
      - Path of the PEM bundle of trusted CAs the chain must reach.
      - When neither O(ca_bundle) nor O(ca_bundle_content) is given, the operating system bundle is used (the first
        readable of C(/etc/ssl/certs/ca-certificates.crt), C(/etc/pki/tls/certs/ca-bundle.crt),
        C(/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem), C(/etc/ssl/ca-bundle.pem), C(/etc/ssl/cert.pem),
        C(/usr/local/share/certs/ca-root-nss.crt)); when none exists the C(trust) check is a warning.
      - Use your private CA here when the certificate is issued by one.
    type: path
  ca_bundle_content:
    description:
      - The trusted CAs as PEM text. See O(ca_bundle).
    type: str
  domain:
    description:
      - The host name (or IP address) the leaf certificate must cover, for example the C(appUrl) host of CARTO.
      - Matched against the subjectAltName DNS names (IP addresses against IP subjectAltNames) per RFC 6125,
        case-insensitively; a wildcard C(*.example.com) covers exactly one left-most label (C(a.example.com), not
        C(example.com) nor C(a.b.example.com)); partial wildcards such as C(w*.example.com) are not honoured.
      - The subject common name (CN) is never used (no CN fallback, like current TLS clients).
      - When omitted, the C(hostname) check is skipped.
    type: str
  expiry_warning_days:
    description:
      - The C(validity) check is a warning when a certificate expires in fewer than this many days.
      - In days; V(0) disables the warning.
    type: int
    default: 30
  reorder:
    description:
      - When the bundle is not ordered leaf first, report a warning instead of a failure. The ordered chain is
        returned in RV(ordered_chain_pem) in any case.
    type: bool
    default: false
  purpose:
    description:
      - V(server) validates a TLS server chain (the CARTO router or Ingress certificate).
      - V(ca) validates CA certificates to trust (C(externalPostgresql.sslCA), C(externalRedis.tlsCA)) - each
        certificate must be a CA within its validity window; chain order, key, trust and host name are not checked.
    type: str
    choices: [server, ca]
    default: server
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - cryptography >= 42.0.0
notes:
  - "Runs on the controller, as an action plugin (C(plugins/action/tls_certificate_chain.py)): the paths are files
    of the controller (the C(carto.selfhosted.secrets) role reads the same files there to create the TLS Secret), and
    no module payload is built per task. The private key, given inline or read from O(private_key), is removed from
    the result and the warnings, as a C(no_log) value is."
  - "Failure messages (each prefixed with C([check]) and the subject of the certificate concerned):
    C(PEM block N (LABEL) is malformed / does not parse as an X.509 certificate);
    C(no certificate found);
    C(the bundle is not ordered leaf -> intermediates ... Expected order: ...);
    C(the certificates are not one chain: ... not on the chain of the leaf ...);
    C(the private key (LABEL) is protected with a passphrase ... Write an unprotected copy with:
    openssl rsa -in keyfile_with_passphrase.key -out new_keyfile.key);
    C(the private key could not be parsed / no PEM PRIVATE KEY block found);
    C(the private key (...) does not match the public key of the leaf certificate ... modulus comparison ...);
    C(... names ... as issuer but is not signed by that certificate of the chain);
    C(... is signed by ..., which is not a CA certificate);
    C(the chain is incomplete: the issuer of ... is missing. Missing issuer (intermediate) certificate: Subject ...
    Clients fail with UNABLE_TO_VERIFY_LEAF_SIGNATURE ...);
    C(the certificate ... is self-signed and not in the CA bundle (DEPTH_ZERO_SELF_SIGNED_CERT));
    C(the chain ends at the self-signed root ..., which is not in the CA bundle (SELF_SIGNED_CERT_IN_CHAIN));
    C(not yet valid: valid from ...); C(expired on ... (N days ago));
    C(the leaf certificate has no subjectAltName extension ...);
    C(... is not covered by the subjectAltNames of the leaf certificate ...);
    C(extendedKeyUsage (...) does not allow serverAuth);
    C(not a CA certificate (basicConstraints CA:TRUE missing)) with O(purpose=ca)."
  - "Warnings (the module succeeds, and reports them as Ansible warnings and in RV(checks)):
    the bundle was reordered (O(reorder=true)); the bundle was completed from O(extra_certificates);
    a duplicate certificate; a private key or other non-certificate PEM block in the bundle; the first certificate
    is a CA (the leaf seems missing); a certificate expires within O(expiry_warning_days) days;
    no system CA bundle found; a self-signed non-CA certificate given with O(purpose=ca)."
  - The same validation is available to other plugins of the collection through
    C(ansible_collections.carto.selfhosted.plugins.module_utils._tls.validate.validate_chain), which also accepts the
    DER certificates served by a TLS endpoint.
seealso:
  - name: CARTO Self-Hosted Helm chart, update and reinstall steps
    description: What to do after fixing the certificate of the TLS Secret (C(helm delete) and C(helm install)).
    link: https://github.com/CartoDB/carto-selfhosted-helm#update
  - module: community.crypto.x509_certificate_info
"""

EXAMPLES = r"""
- name: Validate the router certificate, its key and the domain before creating the TLS Secret
  carto.selfhosted.tls_certificate_chain:
    certificate: files/carto.example.com.crt
    private_key: files/carto.example.com.key
    domain: carto.example.com
  register: carto_tls

- name: Complete an incomplete chain with the CA bundle sent by the CA, and use the completed chain
  carto.selfhosted.tls_certificate_chain:
    certificate: files/carto.example.com.crt
    extra_certificates: files/ca-bundle.crt
    private_key: files/carto.example.com.key
    domain: carto.example.com
    reorder: true
  register: carto_tls

- name: Create the TLS Secret from the validated (ordered, completed) chain
  kubernetes.core.k8s:
    state: present
    definition:
      apiVersion: v1
      kind: Secret
      type: kubernetes.io/tls
      metadata:
        name: carto-tls-cert
        namespace: carto
      data:
        tls.crt: "{{ (carto_tls.completed_chain_pem or carto_tls.ordered_chain_pem) | b64encode }}"
        tls.key: "{{ lookup('ansible.builtin.file', 'files/carto.example.com.key') | b64encode }}"
  no_log: true

- name: Certificate issued by a private CA
  carto.selfhosted.tls_certificate_chain:
    certificate_content: "{{ carto_tls_certificate }}"
    private_key_content: "{{ carto_tls_private_key }}"
    ca_bundle: files/private-root-ca.crt
    domain: carto.internal.example
    expiry_warning_days: 60

- name: Validate the CA given as externalPostgresql.sslCA
  carto.selfhosted.tls_certificate_chain:
    certificate_content: "{{ carto_values.externalPostgresql.sslCA }}"
    purpose: ca

- name: Show what failed without failing the play
  carto.selfhosted.tls_certificate_chain:
    certificate: files/carto.example.com.crt
  register: carto_tls_check
  ignore_errors: true

- name: Print the failed checks
  ansible.builtin.debug:
    msg: "{{ carto_tls_check.checks | selectattr('status', 'equalto', 'failed') | map(attribute='message') | list }}"
"""

RETURN = r"""
valid:
  description: Whether no check failed (warnings allowed). Always V(true) when the module succeeds.
  returned: always
  type: bool
  sample: true
purpose:
  description: The O(purpose) validated.
  returned: always
  type: str
  sample: server
checks:
  description:
    - Every check run, in order. One entry per certificate for the per-certificate checks
      (C(signature), C(validity), C(ca_basic_constraints)) and per problem for C(pem_parse) and C(chain_order).
    - Also returned when the module fails.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description:
        - The check, one of C(pem_parse), C(chain_order), C(private_key), C(private_key_match), C(signature),
          C(trust), C(validity), C(hostname), C(extended_key_usage), C(ca_basic_constraints).
      type: str
      sample: trust
    status:
      description: V(passed), V(failed), V(warning) or V(skipped).
      type: str
      sample: passed
    message:
      description: What was found and, on failure, how to fix it and the CARTO documentation section.
      type: str
      sample: "the chain reaches the trusted CA 'C = US, O = Internet Security Research Group, CN = ISRG Root X1'
        of the CA bundle (/etc/ssl/certs/ca-certificates.crt)"
    subject:
      description: Subject of the certificate the check is about (OpenSSL format), or V(null).
      type: str
      sample: CN = carto.example.com
    issuer:
      description: Issuer of that certificate (OpenSSL format), or V(null).
      type: str
      sample: C = US, O = Let's Encrypt, CN = R11
chain:
  description:
    - The chain, leaf first, as validated - the bundle's chain plus the certificates added from
      O(extra_certificates). With O(purpose=ca), every certificate in input order.
  returned: when at least one certificate parsed
  type: list
  elements: dict
  contains:
    subject:
      description: Subject, as printed by C(openssl x509 -noout -subject).
      type: str
      sample: CN = carto.example.com
    issuer:
      description: Issuer, as printed by C(openssl x509 -noout -issuer).
      type: str
      sample: C = US, O = Let's Encrypt, CN = R11
    serial:
      description: Serial number, uppercase hexadecimal.
      type: str
      sample: 3A1F0C4E9B
    not_before:
      description: Start of validity, ISO 8601 UTC.
      type: str
      sample: "2025-01-01T00:00:00Z"
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
      sample: "2025-04-01T23:59:59Z"
    days_to_expiry:
      description: Whole days until RV(chain[].not_after) (rounded down); negative when expired.
      type: int
      sample: 89
    sans:
      description: subjectAltName DNS names and IP addresses.
      type: list
      elements: str
      sample: [carto.example.com]
    fingerprint_sha256:
      description: SHA-256 fingerprint, colon-separated uppercase hexadecimal.
      type: str
      sample: "AB:CD:..."
    is_ca:
      description: Whether basicConstraints has CA:TRUE.
      type: bool
      sample: false
    self_signed:
      description: Whether the certificate is self-issued and its signature verifies with its own key.
      type: bool
      sample: false
    public_key:
      description: Public key type and size.
      type: str
      sample: RSA 2048 bits
    signature_algorithm:
      description: Signature algorithm name.
      type: str
      sample: sha256WithRSAEncryption
    extended_key_usage:
      description: extendedKeyUsage names, or V(null) when the extension is absent.
      type: list
      elements: str
      sample: [serverAuth]
    source:
      description: Where the certificate came from, V(certificate) or V(extra_certificates).
      type: str
      sample: certificate
    position:
      description: 1-based position of the certificate (PEM block) in its input.
      type: int
      sample: 1
leaf:
  description: The description of the leaf certificate (first element of RV(chain)).
  returned: with O(purpose=server), when at least one certificate parsed
  type: dict
  sample: {subject: CN = carto.example.com, days_to_expiry: 89}
anchor:
  description: The description of the trusted CA the chain reaches (same keys as RV(chain) elements, without
    C(source) and C(position)), or V(null) when it reaches none.
  returned: with O(purpose=server), when at least one certificate parsed
  type: dict
  sample: {subject: "C = US, O = Internet Security Research Group, CN = ISRG Root X1"}
ordered_chain_pem:
  description:
    - The certificates of the bundle that form the leaf's chain, leaf first, as PEM text (duplicates and unrelated
      certificates left out). Use it as C(tls.crt) when the bundle was reordered.
    - With O(purpose=ca), the parsed certificates in input order.
  returned: always
  type: str
  sample: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
completed_chain_pem:
  description:
    - The complete chain, leaf first, as PEM text - RV(ordered_chain_pem) followed by the intermediates taken
      from O(extra_certificates) - when the bundle was incomplete and could be completed. Use it as C(tls.crt).
    - V(null) when nothing was added.
  returned: always
  type: str
  sample: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
added_certificates:
  description: Descriptions of the certificates added from O(extra_certificates) (same keys as RV(chain)).
  returned: always
  type: list
  elements: dict
  sample: []
failures:
  description: The failed checks, one line each (C([check] (subject) message)). Empty on success.
  returned: always
  type: list
  elements: str
  sample: []
ca_bundle_used:
  description: The trust store used - the O(ca_bundle) path, V(ca_bundle_content), the system bundle path, or V(null)
    when none was found or with O(purpose=ca).
  returned: always
  type: str
  sample: /etc/ssl/certs/ca-certificates.crt
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.carto.selfhosted.plugins.module_utils._runner import ModuleRunner

from ansible_collections.carto.selfhosted.plugins.module_utils._tls_certificate_chain import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_ONE_OF, run,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           required_one_of=REQUIRED_ONE_OF, supports_check_mode=True)
    module.exit_json(**run(ModuleRunner(module)))


if __name__ == "__main__":
    main()
