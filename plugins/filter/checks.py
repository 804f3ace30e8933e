# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the preflight and the verification (see plugins/filter/<name>.yml for docs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# Backends are imported when a filter is called, not here (see module_utils/_lazy.py: the cost per task).
from ansible_collections.carto.selfhosted.plugins.module_utils._lazy import backend as _backend


def _dict(value, name):
    if not isinstance(value, dict):
        raise AnsibleFilterError("carto.selfhosted.%s expects a dict, got %s" % (name, type(value).__name__))
    return value


def _checks(value, name):
    if not isinstance(value, list) or not all(isinstance(c, dict) and "status" in c for c in value):
        raise AnsibleFilterError("carto.selfhosted.%s expects a list of checks (dicts with name, status, message)"
                                 % name)
    return value


def preflight_checks(value):
    try:
        return _backend("carto_preflight").preflight_checks(_dict(value, "preflight_checks"))
    except ValueError as exc:
        raise AnsibleFilterError("carto.selfhosted.preflight_checks: %s" % exc)


def verify_report(value):
    try:
        return _backend("carto_verify").build_report(_dict(value, "verify_report"))
    except ValueError as exc:
        raise AnsibleFilterError("carto.selfhosted.verify_report: %s" % exc)


def endpoint_target(value, domain, service=None, ingress=None, address="", ingress_enabled=False):
    if value not in ("auto", "port_forward", "direct", "skip"):
        raise AnsibleFilterError("carto.selfhosted.endpoint_target: mode must be auto, port_forward, direct or skip, "
                                 "not %r (verify_endpoint_mode)" % (value,))
    return _backend("carto_verify").endpoint_target(value, domain, service or None, ingress or None, address or "",
                                                    bool(ingress_enabled))


def checks_table(value, width=160):
    return _backend("carto_checks").format_checks(_checks(value, "checks_table"), width=int(width))


def checks_failure(value, what="checks"):
    return _backend("carto_checks").failure_message(_checks(value, "checks_failure"), what)


def checks_summary(value):
    return _backend("carto_checks").summarize(_checks(value, "checks_summary"))


class FilterModule(object):
    def filters(self):
        return {
            "preflight_checks": preflight_checks,
            "verify_report": verify_report,
            "checks_table": checks_table,
            "endpoint_target": endpoint_target,
            "checks_failure": checks_failure,
            "checks_summary": checks_summary,
        }
