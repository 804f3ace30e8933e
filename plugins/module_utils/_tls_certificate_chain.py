# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private backend of carto.selfhosted.tls_certificate_chain (not a public API).

``run(runner)`` reads the certificate, key, extra certificate and CA bundle files (or takes their content), runs the
checks of module_utils/_tls and returns the module's result; ``runner`` is the action plugin in the controller
process (plugins/action/tls_certificate_chain.py, how every task runs it: the files are read on the controller, where
they are) or the module's ``main()`` (see plugin_utils/_action_runner.py for the runner interface). Options, return
values and errors: see the module's documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.carto.selfhosted.plugins.module_utils._tls import certs as tls_certs
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import checks as tls_checks
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import validate as tls_validate

ARGUMENT_SPEC = dict(
    certificate=dict(type="path"),
    certificate_content=dict(type="str"),
    private_key=dict(type="path", no_log=False),
    private_key_content=dict(type="str", no_log=True),
    extra_certificates=dict(type="path"),
    extra_certificates_content=dict(type="str"),
    ca_bundle=dict(type="path"),
    ca_bundle_content=dict(type="str"),
    domain=dict(type="str"),
    expiry_warning_days=dict(type="int", default=30),
    reorder=dict(type="bool", default=False),
    purpose=dict(type="str", choices=list(tls_certs.PURPOSES), default=tls_certs.PURPOSE_SERVER),
)
MUTUALLY_EXCLUSIVE = [
    ("certificate", "certificate_content"),
    ("private_key", "private_key_content"),
    ("extra_certificates", "extra_certificates_content"),
    ("ca_bundle", "ca_bundle_content"),
]
REQUIRED_ONE_OF = [("certificate", "certificate_content")]


def _read(runner, path, option):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        runner.fail(msg="cannot read %s %s: %s" % (option, path, to_native(exc)))


def _input(runner, path_option, content_option):
    """(data, label): the file content when the path option is set, else the content option."""
    path = runner.params[path_option]
    if path is not None:
        return _read(runner, path, path_option), path
    content = runner.params[content_option]
    if content is not None:
        return content, content_option
    return None, None


def run(runner):
    """Validate the chain of ``runner.params``; returns the result of a valid one, calls ``runner.fail`` otherwise."""
    params = runner.params
    problem = tls_certs.check_cryptography()
    if problem is not None:
        runner.fail(msg=missing_required_lib("cryptography >= %s" % tls_certs.MIN_CRYPTOGRAPHY_VERSION),
                    exception=tls_certs.CRYPTOGRAPHY_IMP_ERR or problem)

    if params["expiry_warning_days"] < 0:
        runner.fail(msg="expiry_warning_days must be 0 or more (days), got %d" % params["expiry_warning_days"])

    certificate, _label = _input(runner, "certificate", "certificate_content")
    private_key, _label = _input(runner, "private_key", "private_key_content")
    if private_key is not None and params["private_key"] is not None:
        # The key read from a file is masked like private_key_content (a no_log option) is.
        text = to_native(private_key, errors="surrogate_or_strict")
        runner.mask([text.strip()] + [line.strip() for line in text.splitlines() if len(line.strip()) >= 16])
    extra, _label = _input(runner, "extra_certificates", "extra_certificates_content")
    trust, trust_label = _input(runner, "ca_bundle", "ca_bundle_content")
    purpose = params["purpose"]

    if purpose == tls_certs.PURPOSE_SERVER and trust is None:
        trust_label = tls_checks.find_default_ca_bundle()

    try:
        report = tls_validate.validate_chain(
            certificate,
            private_key_pem=private_key,
            extra=extra,
            trust=trust,
            domain=params["domain"],
            warning_days=params["expiry_warning_days"],
            purpose=purpose,
            reorder=params["reorder"],
            trust_source=trust_label,
        )
    except Exception as exc:  # unexpected: report it instead of a bare traceback
        runner.fail(msg="certificate validation error: %s" % to_native(exc), exception=traceback.format_exc())

    result = report.to_dict()
    result.pop("warnings")
    result["changed"] = False
    result["ca_bundle_used"] = trust_label if purpose == tls_certs.PURPOSE_SERVER else None
    for warning in report.warnings:
        runner.warn(warning)
    if not report.valid:
        runner.fail(msg=report.failure_message(), **result)
    return result
