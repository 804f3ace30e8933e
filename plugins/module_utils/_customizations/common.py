# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Private: the choices and defaults of the structured variables, the references to CARTO's guides, the
problem records and the builder the sections of ``customizations.yaml`` share.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.carto.selfhosted.plugins.module_utils import _docs


SERVICE_TYPES = ("ClusterIP", "LoadBalancer", "NodePort")
TLS_MODES = ("self_signed", "existing_secret", "disabled")
CLOUDS = ("none", "gke", "aws_eks", "aws_eks_tls_offloading", "azure_aks")
INGRESS_CERTIFICATES = ("own", "google_managed")
STORAGE_PROVIDERS = ("gcp", "s3", "azure-blob")
SCALING_MODES = ("none", "static", "autoscaling")
HA_PROFILES = ("none", "standard", "standard_with_upgrades", "high_traffic")
MIN_CONNECTION_TIMEOUT = 605

# The components CARTO's scaling and high-availability examples configure
# (customizations-examples/scale_components, high_availability): chart key -> component label.
SCALED_COMPONENTS = {
    "accountsWww": "accounts-www",
    "importApi": "import-api",
    "ldsApi": "lds-api",
    "mapsApi": "maps-api",
    "router": "router",
    "workspaceApi": "workspace-api",
    "workspaceWww": "workspace-www",
}
# Components with a podDisruptionBudget block (customizations-examples/pod_disruption_budget).
PDB_COMPONENTS = ("accountsWww", "cdnInvalidatorSub", "httpCache", "importApi", "importWorker", "ldsApi", "mapsApi",
                  "notifier", "router", "sqlWorker", "workspaceApi", "workspaceSubscriber", "workspaceWww")
# High-availability profiles (CC "High Availability"): static replicas and autoscaling range per component.
# standard / standard_with_upgrades are CARTO's example files; high_traffic is not in the reference material,
# so the collection uses a larger range with the same anti-affinity.
HA_SCALING = {
    "standard": {"replicas": 2, "min": 2, "max": 2},
    "standard_with_upgrades": {"replicas": 3, "min": 2, "max": 3},
    "high_traffic": {"replicas": 3, "min": 3, "max": 6},
}

# A bare FQDN: labels of letters, digits and hyphens; no scheme, path, port or trailing dot.
_FQDN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$", re.IGNORECASE)
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

DEFAULT_POSTGRESQL_SECRET = "carto-postgresql"
DEFAULT_REDIS_SECRET = "carto-redis"
DEFAULT_TLS_SECRET = "carto-tls"
DEFAULT_BUCKETS_SECRET = "carto-buckets"
DEFAULT_GOOGLE_MAPS_SECRET = "carto-google-maps"
DEFAULT_BIGQUERY_OAUTH_SECRET = "carto-bigquery-oauth"
DEFAULT_REDSHIFT_SECRET = "carto-redshift-imports"
DEFAULT_CLOUDSQL_SECRET = "carto-cloudsql-proxy-sa-key"
DEFAULT_CLOUDSQL_NAME = "carto-cloudsql-proxy"
DEFAULT_CLOUDSQL_IMAGE = "gcr.io/cloudsql-docker/gce-proxy:1.27.1-alpine"

AWS_TIMEOUT = "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout"
AWS_SSL_CERT = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
AWS_SSL_PORTS = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports"
AWS_BACKEND_PROTOCOL = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol"
AZURE_TIMEOUT = "service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout"

_CC = _docs.GUIDE  # its sections: _CC + "#<anchor>"
DOC = {
    "domain": _CC + "#configure-the-domain-of-your-self-hosted",
    "router_service": _CC + "#expose-carto-with-the-carto-router-service-in-loadbalancer-mode",
    "ingress": _CC + "#expose-carto-with-ingress-and-your-own-tls-certificates",
    "tls": _CC + "#configure-tls-termination-in-the-carto-router-service",
    "external_postgresql": _CC + "#configure-external-postgres",
    "cloud_sql_proxy": _CC + "#setup-google-cloud-sql-for-postgres-with-cloud-sql-auth-proxy",
    "external_redis": _CC + "#configure-external-redis",
    "buckets": _CC + "#custom-buckets",
    "google_maps": _CC + "#google-maps",
    "bigquery_oauth": _CC + "#enable-bigquery-oauth-connections",
    "redshift_imports": _CC + "#redshift-imports",
    "service_account": _CC + "#custom-service-account",
    "scaling": _CC + "#components-scaling",
}
# Keys of the structured variables that hold secret values: never read into the values.
SECRET_KEYS = ("password", "admin_password", "private_key", "certificate", "service_account_key",
               "access_key_id", "secret_access_key", "access_key", "api_key", "client_secret")


class Problem(dict):
    """One input error: ``variable``, ``key``, ``message``, ``fix``, ``doc`` and ``covers``.

    ``covers`` lists the chart key paths the error makes wrong in the rendered document, so
    the validation of ``customizations.yaml`` does not report them a second time.
    """

    def __str__(self):
        return "%s: %s: %s. Fix: %s" % (self["variable"], self["key"], self["message"], self["fix"])


class _Builder(object):
    def __init__(self, prefix):
        self.prefix = prefix
        self.problems = []
        self.secrets = {}

    def var(self, name):
        return self.prefix + name

    def problem(self, name, key, message, fix, covers=(), doc=None):
        self.problems.append(Problem(variable=self.var(name), key=key, message=message, fix=fix,
                                     doc=doc or DOC.get(name.split(".")[0]), covers=list(covers)))

    def secret(self, name, keys):
        have = self.secrets.setdefault(name, [])
        for key in keys:
            if key not in have:
                have.append(key)


def _given(spec, *keys):
    return any(spec.get(key) not in (None, "") for key in keys)


def domain_problem(domain):
    """Return why ``domain`` is not a bare FQDN, or None (CC "Configure the domain of your Self Hosted")."""
    if not domain:
        return "is empty; CARTO needs a full domain or subdomain"
    if "://" in domain:
        return "'%s' contains a scheme" % domain
    if "/" in domain:
        return "'%s' contains a path; CARTO cannot be installed in the path of a URL" % domain
    if ":" in domain:
        return "'%s' contains a port" % domain
    if not _FQDN.match(domain.rstrip(".")) or domain.endswith("."):
        return "'%s' is not a fully qualified domain name" % domain
    return None


def _port(value):
    """Ports are quoted strings in customizations (CC "Tips for creating the customization Yaml file")."""
    return str(value)


def _int(b, name, key, value, minimum=None):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        b.problem(name, key, "'%s' is not a whole number" % (value,), "set %s.%s to a number" % (b.var(name), key))
        return None
    if minimum is not None and number < minimum:
        b.problem(name, key, "%d is below the minimum %d" % (number, minimum),
                  "set %s.%s to %d or more" % (b.var(name), key, minimum))
        return None
    return number
