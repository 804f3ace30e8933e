# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Build CARTO's ``customizations.yaml`` from the collection's structured variables.

Every block mirrors a section of ``../shared/docs/carto-customizations.md`` (CC) or
``carto-kubernetes-install.md`` (KI); the produced keys are the chart's own (see the
chart's ``values.yaml``). Secret values never enter the produced document: credentials
are referenced through ``existingSecret`` and created as Kubernetes Secrets by the
``carto.selfhosted.secrets`` role, so ``customizations.yaml`` can be kept and diffed.

The entry point is :func:`build_customizations`; it returns ``(values, problems)``
where ``problems`` lists every input error at once, each naming the variable, the key
and the fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SERVICE_TYPES = ("ClusterIP", "LoadBalancer", "NodePort")
TLS_MODES = ("self_signed", "existing_secret", "disabled")

# A bare FQDN: labels of letters, digits and hyphens; no scheme, path, port or trailing dot.
_FQDN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$", re.IGNORECASE)

DEFAULT_POSTGRESQL_SECRET = "carto-postgresql"
DEFAULT_REDIS_SECRET = "carto-redis"
DEFAULT_TLS_SECRET = "carto-tls"


class Problem(dict):
    """One input error: ``variable``, ``key``, ``message`` and ``fix``."""

    def __str__(self):
        return "%s: %s: %s. Fix: %s" % (self["variable"], self["key"], self["message"], self["fix"])


def _problem(problems, variable, key, message, fix):
    problems.append(Problem(variable=variable, key=key, message=message, fix=fix))


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


def _router_service(spec, variable, problems):
    service = spec or {}
    svc_type = service.get("type") or "ClusterIP"
    if svc_type not in SERVICE_TYPES:
        _problem(problems, variable, "type", "'%s' is not a Service type" % svc_type,
                 "use one of %s" % ", ".join(SERVICE_TYPES))
    out = {"type": svc_type}
    if service.get("annotations"):
        out["annotations"] = dict(service["annotations"])
    if service.get("load_balancer_ip"):
        out["loadBalancerIP"] = service["load_balancer_ip"]
    if service.get("load_balancer_source_ranges"):
        out["loadBalancerSourceRanges"] = list(service["load_balancer_source_ranges"])
    return {"router": {"service": out}}


def _tls(spec, variable, problems):
    """CC "Configure TLS termination in the CARTO router service"."""
    tls = spec or {}
    mode = tls.get("mode") or "self_signed"
    if mode not in TLS_MODES:
        _problem(problems, variable, "mode", "'%s' is not a TLS mode" % mode, "use one of %s" % ", ".join(TLS_MODES))
        return {}
    if mode == "self_signed":
        return {"tlsCerts": {"httpsEnabled": True, "autoGenerate": True}}
    if mode == "disabled":
        return {"tlsCerts": {"httpsEnabled": False}}
    return {"tlsCerts": {
        "httpsEnabled": True,
        "autoGenerate": False,
        "existingSecret": {
            "name": tls.get("secret_name") or DEFAULT_TLS_SECRET,
            "keyKey": "tls.key",
            "certKey": "tls.crt",
        },
    }}


def _external_postgresql(spec, variable, problems):
    """CC "Configure external Postgres" / KI "External database"."""
    pg = spec or {}
    if not pg:
        return {}
    for key in ("host", "user", "admin_user", "database"):
        if not pg.get(key):
            _problem(problems, variable, key, "is required when an external Postgres is configured",
                     "set %s.%s" % (variable, key))
    out = {
        "host": pg.get("host", ""),
        "port": _port(pg.get("port", 5432)),
        "user": pg.get("user", ""),
        "adminUser": pg.get("admin_user", ""),
        "database": pg.get("database", ""),
        "existingSecret": pg.get("secret_name") or DEFAULT_POSTGRESQL_SECRET,
        "existingSecretPasswordKey": pg.get("password_key") or "user-password",
        "existingSecretAdminPasswordKey": pg.get("admin_password_key") or "admin-password",
        "sslEnabled": bool(pg.get("ssl_enabled", False)),
    }
    if pg.get("ssl_ca"):
        if not out["sslEnabled"]:
            _problem(problems, variable, "ssl_ca", "is set but ssl_enabled is false",
                     "set %s.ssl_enabled: true or remove ssl_ca" % variable)
        out["sslCA"] = pg["ssl_ca"]
    # CC "Setup Azure Postgres": users with '@' need the internal names.
    for key, internal in (("user", "internal_user"), ("admin_user", "internal_admin_user")):
        if "@" in (pg.get(key) or "") and not pg.get(internal):
            _problem(problems, variable, internal, "%s '%s' contains '@' (Azure naming) but %s is empty"
                     % (key, pg[key], internal),
                     "set %s.%s to the user name without '@<server>'" % (variable, internal))
    if pg.get("internal_user"):
        out["internalUser"] = pg["internal_user"]
    if pg.get("internal_admin_user"):
        out["internalAdminUser"] = pg["internal_admin_user"]
    return {"internalPostgresql": {"enabled": False}, "externalPostgresql": out}


def _external_redis(spec, variable, problems):
    """CC "Configure external Redis"."""
    redis = spec or {}
    if not redis:
        return {}
    if not redis.get("host"):
        _problem(problems, variable, "host", "is required when an external Redis is configured",
                 "set %s.host" % variable)
    out = {
        "host": redis.get("host", ""),
        "port": _port(redis.get("port", 6379)),
        "existingSecret": redis.get("secret_name") or DEFAULT_REDIS_SECRET,
        "existingSecretPasswordKey": redis.get("password_key") or "password",
        "tlsEnabled": bool(redis.get("tls_enabled", False)),
    }
    if redis.get("tls_ca"):
        if not out["tlsEnabled"]:
            _problem(problems, variable, "tls_ca", "is set but tls_enabled is false",
                     "set %s.tls_enabled: true or remove tls_ca" % variable)
        out["tlsCA"] = redis["tls_ca"]
    return {"internalRedis": {"enabled": False}, "externalRedis": out}


def deep_merge(base, override):
    """Merge ``override`` into a copy of ``base`` like Helm merges values files (maps merge, rest replaces)."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def build_customizations(spec, variable_prefix="values_"):
    """Turn the structured variables into chart values.

    ``spec`` keys (all optional except ``domain``): ``domain``, ``router_service``,
    ``tls``, ``external_postgresql``, ``external_redis``. Returns ``(values, problems)``.
    """
    problems = []
    spec = spec or {}
    values = {}
    reason = domain_problem(spec.get("domain") or "")
    if reason:
        _problem(problems, variable_prefix + "domain", "appConfigValues.selfHostedDomain", "the domain " + reason,
                 "set %sdomain to a bare FQDN such as carto.example.com" % variable_prefix)
    values["appConfigValues"] = {"selfHostedDomain": spec.get("domain") or ""}
    builders = (
        ("router_service", _router_service),
        ("tls", _tls),
        ("external_postgresql", _external_postgresql),
        ("external_redis", _external_redis),
    )
    for key, builder in builders:
        values = deep_merge(values, builder(spec.get(key), variable_prefix + key, problems))
    return values, problems



def autoscaling_components(values):
    """Names of the top-level components whose ``autoscaling.enabled`` is true (CC "Autoscaling")."""
    names = []
    for name, block in sorted((values or {}).items()):
        if isinstance(block, dict) and isinstance(block.get("autoscaling"), dict):
            if block["autoscaling"].get("enabled") is True:
                names.append(name)
    return names
