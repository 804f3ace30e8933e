# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the cross-field rules of CARTO's guides on merged values (:func:`check_rules`): external
Postgres and Redis, ports, TLS, load balancer timeouts, scaling, inline secrets and CA certificates.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from ansible_collections.carto.selfhosted.plugins.module_utils._tls import validate as _tls_validate
except ImportError:  # pragma: no cover - part of the collection
    _tls_validate = None

from ansible_collections.carto.selfhosted.plugins.module_utils._values.merge import _setter
from ansible_collections.carto.selfhosted.plugins.module_utils._values.problems import (
    DOC_ACCESS, DOC_ADVANCED, DOC_APPLY, DOC_AUTOSCALING, DOC_DISABLE_HTTPS, DOC_INGRESS, DOC_INSTALL_DB, DOC_LB,
    DOC_OWN_TLS, DOC_PG, DOC_PG_AZURE, DOC_PG_SECRETS, DOC_PG_SSL_CA, DOC_REDIS, DOC_REDIS_SECRETS, DOC_REDIS_TLS,
    DOC_SCALING, DOC_TIPS, DOC_TLS, ERROR, WARNING, _type_name, format_path, make_problem,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._values.rules_core import (
    _Ctx, _INLINE_SECRET_FIX, _check_domain, _check_secret_items, _check_storage,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import (
    _get, _iter_secret_leaves, _nonempty,
)


_GKE_INGRESS_CLASSES = ("gce", "gce-internal")
_TLS_OFFLOAD_ANNOTATIONS = (
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    "service.beta.kubernetes.io/oci-load-balancer-ssl-ports",
    "service.beta.kubernetes.io/do-loadbalancer-certificate-id",
)
# annotation -> (unit name, seconds per unit, minimum in that unit, cloud)
_LB_TIMEOUT_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout": ("seconds", 1, 605, "AWS"),
    "service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout": ("minutes", 60, 10, "Azure"),
}


def _check_postgres(ctx):
    enabled = ctx.get("internalPostgresql.enabled")
    blame = ["internalPostgresql.enabled"]
    if enabled is not False:
        if ctx.is_set("externalPostgresql.host"):
            ctx.add(WARNING, "externalPostgresql.host",
                    "externalPostgresql is configured but internalPostgresql.enabled is true: it is ignored",
                    "set internalPostgresql.enabled: false to use the external database", DOC_PG, "postgres-ignored")
        return
    host = ctx.get("externalPostgresql.host")
    if not ctx.is_set("externalPostgresql.host") or not _nonempty(host) or \
            str(host).strip().lower() in ("localhost", "127.0.0.1", "::1"):
        ctx.add(ERROR, "externalPostgresql.host",
                "internalPostgresql.enabled is false but externalPostgresql.host is %s"
                % ("not set (chart default '%s')" % host if not ctx.is_set("externalPostgresql.host")
                   else "'%s'" % host),
                "set externalPostgresql.host to the IP/hostname of your Postgres", DOC_PG_SECRETS,
                "postgres-host", blame=["externalPostgresql.host"] + blame)
    if not _nonempty(ctx.get("externalPostgresql.adminUser")):
        ctx.add(ERROR, "externalPostgresql.adminUser", "the Postgres admin user is required with an external "
                "database (it creates the CARTO user and database)", 'set externalPostgresql.adminUser: "postgres"',
                DOC_INSTALL_DB, "postgres-credentials", blame=["externalPostgresql.adminUser"] + blame)
    if ctx.get("externalPostgresql.awsEksPodIdentityEnabled") is True:
        if not _nonempty(ctx.get("externalPostgresql.awsRdsRegion")):
            ctx.add(ERROR, "externalPostgresql.awsRdsRegion", "EKS Pod Identity needs the RDS region",
                    "set externalPostgresql.awsRdsRegion", DOC_PG, "postgres-credentials",
                    blame=["externalPostgresql.awsEksPodIdentityEnabled"])
    elif _nonempty(ctx.get("externalPostgresql.existingSecret")):
        for key in ("existingSecretPasswordKey", "existingSecretAdminPasswordKey"):
            if not _nonempty(ctx.get("externalPostgresql." + key)):
                ctx.add(ERROR, "externalPostgresql." + key,
                        "externalPostgresql.existingSecret is set but the key name %s is missing" % key,
                        'set externalPostgresql.%s: "%s"' % (key, "carto-password" if key ==
                                                             "existingSecretPasswordKey" else "admin-password"),
                        DOC_PG_SECRETS, "postgres-credentials", blame=["externalPostgresql.existingSecret"])
    else:
        for key, what in (("password", "CARTO user"), ("adminPassword", "admin user")):
            if not _nonempty(ctx.get("externalPostgresql." + key)):
                ctx.add(ERROR, "externalPostgresql." + key,
                        "no credentials for the %s of the external Postgres (neither %s nor existingSecret)"
                        % (what, key),
                        "set externalPostgresql.existingSecret with existingSecretPasswordKey and "
                        "existingSecretAdminPasswordKey (recommended), or externalPostgresql.%s from Ansible Vault"
                        % key, DOC_PG_SECRETS, "postgres-credentials", blame=["externalPostgresql"] + blame)
    for user_key, internal_key in (("user", "internalUser"), ("adminUser", "internalAdminUser")):
        user = ctx.get("externalPostgresql." + user_key)
        internal = ctx.get("externalPostgresql." + internal_key)
        if isinstance(user, str) and "@" in user:
            bare = user.split("@", 1)[0]
            if not _nonempty(internal):
                ctx.add(ERROR, "externalPostgresql." + internal_key,
                        "externalPostgresql.%s '%s' has the Azure '@server' suffix, so %s is required"
                        % (user_key, user, internal_key),
                        'set externalPostgresql.%s: "%s"' % (internal_key, bare), DOC_PG_AZURE, "postgres-azure-user",
                        blame=["externalPostgresql." + user_key])
            elif "@" in str(internal):
                ctx.add(ERROR, "externalPostgresql." + internal_key,
                        "%s must be the user name without the '@server' suffix" % internal_key,
                        'set externalPostgresql.%s: "%s"' % (internal_key, str(internal).split("@", 1)[0]),
                        DOC_PG_AZURE, "postgres-azure-user")
            elif internal != bare:
                ctx.add(WARNING, "externalPostgresql." + internal_key,
                        "%s '%s' differs from %s without its suffix ('%s')" % (internal_key, internal, user_key, bare),
                        'check it: usually externalPostgresql.%s: "%s"' % (internal_key, bare), DOC_PG_AZURE,
                        "postgres-azure-user")


def _check_redis(ctx):
    if ctx.get("internalRedis.enabled") is not False:
        if ctx.is_set("externalRedis.host"):
            ctx.add(WARNING, "externalRedis.host",
                    "externalRedis is configured but internalRedis.enabled is true: it is ignored",
                    "set internalRedis.enabled: false to use the external Redis", DOC_REDIS, "redis-ignored")
        return
    blame = ["internalRedis.enabled"]
    host = ctx.get("externalRedis.host")
    if not ctx.is_set("externalRedis.host") or not _nonempty(host) or \
            str(host).strip().lower() in ("localhost", "127.0.0.1", "::1"):
        ctx.add(ERROR, "externalRedis.host", "internalRedis.enabled is false but externalRedis.host is %s"
                % ("not set (chart default '%s')" % host if not ctx.is_set("externalRedis.host") else "'%s'" % host),
                "set externalRedis.host to the IP/hostname of your Redis", DOC_REDIS_SECRETS, "redis-host",
                blame=["externalRedis.host"] + blame)
    if _nonempty(ctx.get("externalRedis.existingSecret")):
        if not _nonempty(ctx.get("externalRedis.existingSecretPasswordKey")):
            ctx.add(ERROR, "externalRedis.existingSecretPasswordKey",
                    "externalRedis.existingSecret is set but the key name is missing",
                    'set externalRedis.existingSecretPasswordKey: "password"', DOC_REDIS_SECRETS, "redis-credentials",
                    blame=["externalRedis.existingSecret"])
    elif not _nonempty(ctx.get("externalRedis.password")):
        ctx.add(ERROR, "externalRedis.password",
                "no credentials for the external Redis (neither password nor existingSecret)",
                "set externalRedis.existingSecret and existingSecretPasswordKey (recommended), or "
                "externalRedis.password from Ansible Vault", DOC_REDIS_SECRETS, "redis-credentials",
                blame=["externalRedis"] + blame)


def _check_ports(ctx):
    for path, doc in (("externalPostgresql.port", DOC_PG_SECRETS), ("externalRedis.port", DOC_REDIS_SECRETS),
                      ("externalProxy.port", DOC_ADVANCED)):
        if not ctx.is_set(path):
            continue
        value = ctx.get(path)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            ctx.add(ERROR, path, "ports must be quoted strings, got %s %s" % (_type_name(value), value),
                    'write %s: "%s"' % (path.rsplit(".", 1)[-1], value), DOC_TIPS, "port-quoted")
        elif not value.strip().isdigit() or not 0 < int(value.strip()) < 65536:
            ctx.add(ERROR, path, "'%s' is not a TCP port number" % value, 'write e.g. port: "5432"', doc, "port-range")


def _tls_in_front(ctx, external_tls_termination):
    """Why TLS terminates in front of the router, or None."""
    if external_tls_termination:
        return "declared by the caller (external_tls_termination)"
    if ctx.get("router.ingress.enabled") is True and _gke_ingress(ctx):
        return "GKE Ingress"
    annotations = ctx.get("router.service.annotations") or {}
    if ctx.get("router.service.type") == "LoadBalancer" and isinstance(annotations, dict):
        for name in _TLS_OFFLOAD_ANNOTATIONS:
            if _nonempty(annotations.get(name)):
                return "LoadBalancer TLS offloading (%s)" % name
    if ctx.get("gateway.enabled") is True and (ctx.get("gateway.tls.mode") or "Terminate") == "Terminate":
        return "Gateway API listener terminating TLS"
    return None


def _gke_ingress(ctx):
    annotations = ctx.get("router.ingress.annotations") or {}
    klass = annotations.get("kubernetes.io/ingress.class") if isinstance(annotations, dict) else None
    return klass in _GKE_INGRESS_CLASSES or ctx.get("router.ingress.ingressClassName") in _GKE_INGRESS_CLASSES


def _check_tls(ctx, external_tls_termination):
    https = ctx.get("tlsCerts.httpsEnabled")
    auto = ctx.get("tlsCerts.autoGenerate")
    name = ctx.get("tlsCerts.existingSecret.name")
    if auto is False and not _nonempty(name):
        ctx.add(ERROR, "tlsCerts.existingSecret.name",
                "tlsCerts.autoGenerate is false but no existing TLS Secret is named",
                'create the Secret (kubectl create secret tls <name> --cert=... --key=...) and set '
                'tlsCerts.existingSecret.name: "<name>"', DOC_OWN_TLS, "tls-existing-secret",
                blame=["tlsCerts.autoGenerate"])
    elif auto is not False and _nonempty(name) and https is not False and ctx.is_set("tlsCerts.existingSecret.name"):
        ctx.add(WARNING, "tlsCerts.autoGenerate",
                "tlsCerts.existingSecret.name is set but tlsCerts.autoGenerate is true: a self-signed certificate "
                "is generated and the Secret '%s' is not used" % name, "set tlsCerts.autoGenerate: false",
                DOC_OWN_TLS, "tls-existing-secret", blame=["tlsCerts.existingSecret.name"])
    for part in ("certKey", "keyKey"):
        if auto is False and _nonempty(name) and not _nonempty(ctx.get("tlsCerts.existingSecret." + part)):
            ctx.add(ERROR, "tlsCerts.existingSecret." + part, "the key name inside the TLS Secret is empty",
                    'set tlsCerts.existingSecret.%s: "%s"' % (part, "tls.crt" if part == "certKey" else "tls.key"),
                    DOC_OWN_TLS, "tls-existing-secret")
    if https is False:
        front = _tls_in_front(ctx, external_tls_termination)
        if front is None:
            ctx.add(ERROR, "tlsCerts.httpsEnabled",
                    "HTTPS is disabled in the router but nothing in front terminates TLS; CARTO only works "
                    "over HTTPS", "keep tlsCerts.httpsEnabled: true, or expose CARTO with a GKE Ingress or a "
                    "LoadBalancer with TLS offloading (e.g. service.beta.kubernetes.io/aws-load-balancer-ssl-cert)",
                    DOC_DISABLE_HTTPS, "https-disabled")
    ingress_enabled = ctx.get("router.ingress.enabled") is True
    if ingress_enabled:
        if not _gke_ingress(ctx):
            ctx.add(ERROR, "router.ingress.enabled", "the Ingress exposure is supported only on GKE, but neither the "
                    "kubernetes.io/ingress.class annotation nor router.ingress.ingressClassName is 'gce'",
                    'add router.ingress.annotations."kubernetes.io/ingress.class": "gce" (GKE), or use '
                    "router.service.type: LoadBalancer on other clouds", DOC_ACCESS, "ingress-gke-only")
        if https is not False:
            ctx.add(WARNING, "tlsCerts.httpsEnabled", "router TLS termination is configured while exposing CARTO "
                    "with an Ingress (the Ingress terminates TLS)", "set tlsCerts.httpsEnabled: false as in the GKE "
                    "Ingress examples", DOC_TLS, "ingress-router-tls", blame=["router.ingress.enabled"])
        if ctx.get("router.ingress.tls") is True and not _nonempty(name):
            ctx.add(ERROR, "tlsCerts.existingSecret.name", "router.ingress.tls is true but no TLS Secret is named",
                    "create the TLS Secret (with the full chain) and set tlsCerts.existingSecret.name, or use "
                    "GCP managed certificates without router.ingress.tls", DOC_INGRESS, "ingress-tls-secret",
                    blame=["router.ingress.tls"])


def _check_lb_timeouts(ctx):
    annotations = ctx.get("router.service.annotations") or {}
    if not isinstance(annotations, dict):
        return
    service_type = ctx.get("router.service.type")
    for name, (unit, factor, minimum, cloud) in sorted(_LB_TIMEOUT_ANNOTATIONS.items()):
        if name not in annotations or annotations[name] is None:
            continue
        path = ("router", "service", "annotations", name)
        value = annotations[name]
        source, line = _setter(ctx.provenance, path)
        try:
            number = int(str(value).strip())
        except ValueError:
            ctx.problems.append(make_problem(
                ERROR, source, path, "'%s' is not a number of %s" % (value, unit),
                'set it to "%d" (%s %s)' % (minimum, cloud, unit), DOC_LB, "lb-timeout", line=line))
            continue
        if number < minimum:
            ctx.problems.append(make_problem(
                ERROR, source, path, "the %s load balancer idle timeout is %d %s (%d s); CARTO needs incoming "
                "connections to last at least 605 s" % (cloud, number, unit, number * factor),
                'set it to "%d" (%s)' % (minimum, unit), DOC_ACCESS, "lb-timeout", line=line))
        if service_type != "LoadBalancer":
            ctx.problems.append(make_problem(
                WARNING, source, path, "load balancer annotation set but router.service.type is '%s'" % service_type,
                "set router.service.type: LoadBalancer (or remove the annotation)", DOC_LB, "lb-timeout", line=line))


def _components(schema):
    props = (schema or {}).get("properties") or {}
    return sorted(k for k, v in props.items() if isinstance(v, dict)
                  and "replicaCount" in (v.get("properties") or {}) and "autoscaling" in (v.get("properties") or {}))


def _check_scaling(ctx, schema):
    for component in _components(schema):
        auto = ctx.get(component + ".autoscaling") or {}
        if not isinstance(auto, dict):
            continue
        if auto.get("enabled") is True and ctx.is_set(component + ".replicaCount"):
            ctx.add(WARNING, component + ".replicaCount",
                    "%s has both static scaling (replicaCount %s) and autoscaling enabled: autoscaling wins and "
                    "replicaCount is ignored" % (component, ctx.get(component + ".replicaCount")),
                    "remove %s.replicaCount or set %s.autoscaling.enabled: false" % (component, component),
                    DOC_SCALING, "scaling-both")
        low, high = auto.get("minReplicas"), auto.get("maxReplicas")
        if auto.get("enabled") is True and isinstance(low, int) and isinstance(high, int) and low > high:
            ctx.add(ERROR, component + ".autoscaling.minReplicas",
                    "minReplicas (%d) is greater than maxReplicas (%d)" % (low, high),
                    "set %s.autoscaling.maxReplicas >= minReplicas" % component, DOC_AUTOSCALING,
                    "autoscaling-range", blame=[component + ".autoscaling.minReplicas",
                                                component + ".autoscaling.maxReplicas"])


def _check_inline_secrets(ctx):
    for path, _value in _iter_secret_leaves(ctx.user):
        records = ctx.provenance.get(tuple(path)) or [_setter(ctx.provenance, path)]
        source, line = records[-1]
        base = format_path(path[:-1]) if path[-1] == "value" else format_path(path)
        ctx.problems.append(make_problem(
            WARNING, source, path, "secret value written inline (it ends up in the Helm release and in logs)",
            "%s: %s" % (base, _INLINE_SECRET_FIX), DOC_APPLY, "inline-secret", line=line))


# The CA certificates the chart hands to CARTO's services (https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md,
# "Configure Postgres SSL with custom CA", "Configure Redis TLS"): whichever source sets them, the merged value must be
# PEM CA certificates.
CA_CERTIFICATE_KEYS = (
    ("externalPostgresql.sslCA", "externalPostgresql.sslEnabled", DOC_PG_SSL_CA),
    ("externalRedis.tlsCA", "externalRedis.tlsEnabled", DOC_REDIS_TLS),
)


def _check_ca_certificates(ctx):
    for path, enabled, doc in CA_CERTIFICATE_KEYS:
        value = _get(ctx.user, path)
        if not isinstance(value, str) or not value.strip():
            continue  # unset, null or empty: nothing to check (a wrong type is a schema problem)
        key = path.rsplit(".", 1)[-1]
        found = _tls_validate.ca_certificate_problems(value) if _tls_validate is not None else None
        if found is None:
            ctx.add(WARNING, path, "the CA certificate could not be checked: the Python library cryptography "
                    "(>= 42) is not installed on the controller", "install the collection's requirements.txt",
                    doc, "ca-certificate")
            continue
        failures, warnings = found
        if failures:
            ctx.add(ERROR, path, "is not a usable CA certificate (PEM X.509): %s" % "; ".join(failures),
                    "set %s to the PEM text of the CA that issued the server certificate, every certificate "
                    "between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines (YAML block scalar "
                    "%s: |)" % (path, key), doc, "ca-certificate")
        for warning in warnings:
            ctx.add(WARNING, path, warning, "check the CA certificate in %s" % path, doc, "ca-certificate")
        if ctx.get(enabled) is not True:
            ctx.add(WARNING, path, "is set but %s is not true: the chart does not use it" % enabled,
                    "set %s: true or remove %s" % (enabled, path), doc, "ca-certificate")


def check_rules(user_values, effective_values, provenance, schema=None, domain_required=True,
                external_tls_termination=False, warn_inline_secrets=True):
    """Cross-field rules of CARTO's guides on merged values; returns problems."""
    ctx = _Ctx(user_values, effective_values, provenance)
    _check_domain(ctx, domain_required)
    _check_secret_items(ctx)
    _check_storage(ctx)
    _check_postgres(ctx)
    _check_redis(ctx)
    _check_ports(ctx)
    _check_tls(ctx, external_tls_termination)
    _check_lb_timeouts(ctx)
    _check_scaling(ctx, schema)
    _check_ca_certificates(ctx)
    if warn_inline_secrets:
        _check_inline_secrets(ctx)
    return ctx.problems
