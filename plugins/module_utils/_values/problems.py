# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the problem records of the values validation (severity, source, line, key path, message,
fix, doc, rule), their text form, and the references to CARTO's guides they cite.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils import _docs


ERROR = "error"
WARNING = "warning"
MERGED_SOURCE = "<merged values>"
REDACTED = "<redacted>"

# --- documentation references (CARTO's public documentation pages, with the section as anchor) ---
_CUST = _docs.GUIDE  # its sections: _CUST + "#<anchor>"
_INSTALL = _docs.INSTALL
DOC_TIPS = _CUST + "#tips-for-creating-the-customization-yaml-file"
DOC_ADVANCED = _CUST + "#advanced-configuration"
DOC_APPLY = _CUST + "#how-to-apply-the-configurations"
DOC_DOMAIN = _CUST + "#configure-the-domain-of-your-self-hosted"
DOC_ACCESS = _CUST + "#access-to-carto-from-outside-the-cluster"
DOC_LB = _CUST + "#expose-carto-with-the-carto-router-service-in-loadbalancer-mode"
DOC_INGRESS = _CUST + "#expose-carto-with-ingress-and-your-own-tls-certificates"
DOC_INGRESS_MANAGED = _CUST + "#expose-carto-with-ingress-and-gcp-ssl-managed-certificates"
DOC_TLS = _CUST + "#configure-tls-termination-in-the-carto-router-service"
DOC_DISABLE_HTTPS = _CUST + "#disable-internal-https"
DOC_OWN_TLS = _CUST + "#use-your-own-tls-certificate"
DOC_PG = _CUST + "#configure-external-postgres"
DOC_PG_SECRETS = _CUST + "#setup-postgres-creating-secrets"
DOC_PG_AUTO = _CUST + "#setup-postgres-with-automatic-secret-creation"
DOC_PG_AZURE = _CUST + "#setup-azure-postgres"
DOC_INSTALL_DB = _INSTALL + "#external-database"
DOC_REDIS = _CUST + "#configure-external-redis"
DOC_REDIS_SECRETS = _CUST + "#setup-redis-creating-secrets"
DOC_PG_SSL_CA = _CUST + "#configure-postgres-ssl-with-custom-ca"
DOC_REDIS_TLS = _CUST + "#configure-redis-tls"
DOC_BUCKETS = _CUST + "#custom-buckets"
DOC_BUCKETS_PRE = _CUST + "#pre-requisites"
DOC_GCS = _CUST + "#google-cloud-storage"
DOC_S3 = _CUST + "#aws-s3"
DOC_AZURE = _CUST + "#azure-storage"
DOC_SCALING = _CUST + "#enable-static-scaling"
DOC_AUTOSCALING = _CUST + "#enable-carto-autoscaling-feature"
DOC_GMAPS = _CUST + "#google-maps"


class CartoValuesError(Exception):
    """Raised for unusable input (not for validation problems)."""


# ---------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------

def format_path(path):
    """Render a key path tuple as ``a.b[0]."dotted.key"``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += "[%d]" % part
            continue
        part = str(part)
        if "." in part or " " in part or part == "":
            part = '"%s"' % part
        out += ("." + part) if out else part
    return out


def make_problem(severity, source, path, message, fix, doc, rule, line=None):
    if isinstance(path, (tuple, list)):
        path = format_path(path)
    return {
        "severity": severity,
        "source": source,
        "line": line,
        "path": path,
        "message": message,
        "fix": fix,
        "doc": doc,
        "rule": rule,
    }


def format_problem(problem):
    """``<source>[:line]: <key.path>: <message>. Fix: <fix>``."""
    source = problem.get("source") or MERGED_SOURCE
    if problem.get("line"):
        source = "%s:%s" % (source, problem["line"])
    text = "%s: %s: %s" % (source, problem.get("path") or "<top>", problem.get("message", "").rstrip("."))
    if problem.get("fix"):
        text += ". Fix: %s" % problem["fix"].rstrip(".")
    if problem.get("doc"):
        text += " (see %s)" % problem["doc"]
    return text


def format_problems(problems):
    return "\n".join(format_problem(p) for p in problems)


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__
