# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Private: the external Postgres (with Cloud SQL Auth Proxy) and external Redis sections of
``customizations.yaml``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from ansible_collections.carto.selfhosted.plugins.module_utils._tls import validate as _tls_validate
except ImportError:  # pragma: no cover - part of the collection
    _tls_validate = None

from ansible_collections.carto.selfhosted.plugins.module_utils._customizations.common import (
    DEFAULT_CLOUDSQL_IMAGE, DEFAULT_CLOUDSQL_NAME, DEFAULT_CLOUDSQL_SECRET, DEFAULT_POSTGRESQL_SECRET,
    DEFAULT_REDIS_SECRET, DOC, _CC, _K8S_NAME, _given, _port,
)


def _cloud_sql_proxy(b, proxy):
    """CC "Setup Google Cloud SQL for Postgres with Cloud SQL Auth Proxy": Deployment + ClusterIP Service."""
    name = "external_postgresql"
    proxy_name = proxy.get("name") or DEFAULT_CLOUDSQL_NAME
    secret = proxy.get("secret_name") or DEFAULT_CLOUDSQL_SECRET
    connection = proxy.get("connection_name") or ""
    if not re.match(r"^[^:\s]+:[^:\s]+:[^:\s]+$", connection):
        b.problem(name, "cloud_sql_proxy.connection_name",
                  "'%s' is not a Cloud SQL connection name (<project>:<region>:<instance>)" % connection,
                  "set it to the output of: gcloud sql instances describe <instance> | grep connectionName",
                  doc=DOC["cloud_sql_proxy"])
    if not _K8S_NAME.match(proxy_name):
        b.problem(name, "cloud_sql_proxy.name", "'%s' is not a valid Kubernetes object name" % proxy_name,
                  "use lowercase letters, digits and '-'", doc=DOC["cloud_sql_proxy"])
    if _given(proxy, "service_account_key", "service_account_key_file") and proxy.get("create_secret", True):
        b.secret(secret, ["service_account.json"])
    args = ["/cloud_sql_proxy"]
    if proxy.get("private_ip", True):
        args.append("-ip_address_types=PRIVATE")
    args += ["-log_debug_stdout", "-instances=%s=tcp:0.0.0.0:5432" % connection,
             "-credential_file=/secrets/service_account.json"]
    component = "app.kubernetes.io/component: %s" % proxy_name
    deployment = (
        "apiVersion: {{ include \"common.capabilities.deployment.apiVersion\" . }}\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: %(name)s\n"
        "  labels: {{- include \"common.labels.standard\" . | nindent 4 }}\n"
        "    %(component)s\n"
        "  namespace: {{ .Release.Namespace | quote }}\n"
        "spec:\n"
        "  replicas: 1\n"
        "  strategy:\n"
        "    type: RollingUpdate\n"
        "  selector:\n"
        "    matchLabels: {{- include \"common.labels.matchLabels\" . | nindent 6 }}\n"
        "      %(component)s\n"
        "  template:\n"
        "    metadata:\n"
        "      labels: {{- include \"common.labels.standard\" . | nindent 8 }}\n"
        "        %(component)s\n"
        "    spec:\n"
        "      securityContext:\n"
        "        fsGroup: 65532\n"
        "      containers:\n"
        "        - name: %(name)s\n"
        "          image: %(image)s\n"
        "          imagePullPolicy: IfNotPresent\n"
        "          securityContext:\n"
        "            runAsUser: 65532\n"
        "            runAsGroup: 65532\n"
        "            allowPrivilegeEscalation: false\n"
        "          resources:\n"
        "            limits: {memory: 512Mi, cpu: 350m}\n"
        "            requests: {memory: 124Mi, cpu: 100m}\n"
        "          ports:\n"
        "            - name: postgresql\n"
        "              containerPort: 5432\n"
        "          readinessProbe:\n"
        "            tcpSocket: {port: 5432}\n"
        "            initialDelaySeconds: 5\n"
        "            periodSeconds: 10\n"
        "          livenessProbe:\n"
        "            tcpSocket: {port: 5432}\n"
        "            initialDelaySeconds: 15\n"
        "            periodSeconds: 20\n"
        "          volumeMounts:\n"
        "            - name: %(secret)s\n"
        "              mountPath: /secrets\n"
        "              readOnly: true\n"
        "          command:\n%(args)s"
        "      volumes:\n"
        "        - name: %(secret)s\n"
        "          secret:\n"
        "            secretName: %(secret)s\n"
        "            optional: false\n"
    ) % {"name": proxy_name, "component": component, "image": proxy.get("image") or DEFAULT_CLOUDSQL_IMAGE,
         "secret": secret, "args": "".join("            - \"%s\"\n" % arg for arg in args)}
    service = (
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata:\n"
        "  name: %(name)s\n"
        "  namespace: {{ .Release.Namespace | quote }}\n"
        "  labels: {{- include \"common.labels.standard\" . | nindent 4 }}\n"
        "    %(component)s\n"
        "spec:\n"
        "  type: ClusterIP\n"
        "  ports:\n"
        "    - port: 5432\n"
        "      targetPort: postgresql\n"
        "      protocol: TCP\n"
        "      name: postgresql\n"
        "  selector: {{- include \"common.labels.matchLabels\" . | nindent 4 }}\n"
        "    %(component)s\n"
    ) % {"name": proxy_name, "component": component}
    return proxy_name, [deployment, service]


def _external_postgresql(b, spec):
    """CC "Configure external Postgres" (+ Azure, Cloud SQL Auth Proxy, SSL with custom CA) / KI "External database"."""
    name = "external_postgresql"
    variable = b.var(name)
    pg = spec or {}
    if not pg:
        return {}, []
    objects = []
    proxy = pg.get("cloud_sql_proxy") or {}
    host = pg.get("host")
    if proxy:
        proxy_name, objects = _cloud_sql_proxy(b, proxy)
        if host and host != proxy_name:
            b.problem(name, "host", "is '%s' but the Cloud SQL Auth Proxy Service is '%s'" % (host, proxy_name),
                      "remove %s.host (it defaults to the proxy Service)" % variable,
                      covers=["externalPostgresql.host"])
        host = proxy_name
    for key, value in (("host", host), ("user", pg.get("user")), ("admin_user", pg.get("admin_user")),
                       ("database", pg.get("database"))):
        if not value:
            b.problem(name, key, "is required when an external Postgres is configured", "set %s.%s" % (variable, key),
                      covers=["externalPostgresql." + {"admin_user": "adminUser"}.get(key, key)])
    secret = pg.get("secret_name") or DEFAULT_POSTGRESQL_SECRET
    password_key = pg.get("password_key") or "user-password"
    admin_key = pg.get("admin_password_key") or "admin-password"
    if pg.get("create_secret", True) and _given(pg, "password", "admin_password"):
        if not (_given(pg, "password") and _given(pg, "admin_password")):
            b.problem(name, "admin_password" if _given(pg, "password") else "password",
                      "CARTO reads both passwords from the Secret '%s'; only one is set" % secret,
                      "set both %s.password and %s.admin_password (Ansible Vault), or create_secret: false"
                      % (variable, variable), doc=_CC + "#setup-postgres-creating-secrets")
        b.secret(secret, [password_key, admin_key])
    out = {
        "host": host or "",
        "port": _port(pg.get("port", 5432)),
        "user": pg.get("user", ""),
        "adminUser": pg.get("admin_user", ""),
        "database": pg.get("database", ""),
        "existingSecret": secret,
        "existingSecretPasswordKey": password_key,
        "existingSecretAdminPasswordKey": admin_key,
        "sslEnabled": bool(pg.get("ssl_enabled", False)) and not proxy,
    }
    if proxy and pg.get("ssl_enabled"):
        b.problem(name, "ssl_enabled", "is true but the Cloud SQL Auth Proxy already encrypts the connection",
                  "remove %s.ssl_enabled (the proxy speaks plain Postgres inside the cluster)" % variable,
                  doc=DOC["cloud_sql_proxy"])
    if pg.get("ssl_ca"):
        if not out["sslEnabled"]:
            b.problem(name, "ssl_ca", "is set but ssl_enabled is false",
                      "set %s.ssl_enabled: true or remove ssl_ca" % variable, covers=["externalPostgresql.sslCA"],
                      doc=_CC + "#configure-postgres-ssl-with-custom-ca")
        _ca_problem(b, name, "ssl_ca", pg["ssl_ca"], "externalPostgresql.sslCA",
                    _CC + "#configure-postgres-ssl-with-custom-ca")
        out["sslCA"] = pg["ssl_ca"]
    # CC "Setup Azure Postgres": users with '@' need the internal names.
    for key, internal in (("user", "internal_user"), ("admin_user", "internal_admin_user")):
        if "@" in (pg.get(key) or "") and not pg.get(internal):
            b.problem(name, internal, "%s '%s' contains '@' (Azure naming) but %s is empty" % (key, pg[key], internal),
                      "set %s.%s to the user name without '@<server>'" % (variable, internal),
                      covers=["externalPostgresql.internalUser" if key == "user" else
                              "externalPostgresql.internalAdminUser"], doc=_CC + "#setup-azure-postgres")
    if pg.get("internal_user"):
        out["internalUser"] = pg["internal_user"]
    if pg.get("internal_admin_user"):
        out["internalAdminUser"] = pg["internal_admin_user"]
    return {"internalPostgresql": {"enabled": False}, "externalPostgresql": out}, objects


def _ca_problem(b, name, key, pem, chart_key, doc):
    """A problem when ``pem`` is not PEM X.509 CA certificates (the check the values role runs on the merged
    ``chart_key``, which this problem covers so it is reported once, naming the inventory variable)."""
    found = _tls_validate.ca_certificate_problems(pem) if _tls_validate is not None and isinstance(pem, str) else None
    if found is None:
        if not isinstance(pem, str) or "BEGIN CERTIFICATE" not in pem:
            b.problem(name, key, "is not a PEM certificate", "paste the CA as -----BEGIN CERTIFICATE----- ...",
                      covers=[chart_key], doc=doc)
        return
    if found[0]:
        b.problem(name, key, "is not a usable CA certificate (PEM X.509): %s" % "; ".join(found[0]),
                  "set %s.%s to the PEM text of the CA that issued the server certificate (-----BEGIN CERTIFICATE----- "
                  "... -----END CERTIFICATE-----)" % (b.var(name), key), covers=[chart_key], doc=doc)


def _external_redis(b, spec):
    """CC "Configure external Redis" (+ "Configure Redis TLS")."""
    name = "external_redis"
    variable = b.var(name)
    redis = spec or {}
    if not redis:
        return {}
    if not redis.get("host"):
        b.problem(name, "host", "is required when an external Redis is configured", "set %s.host" % variable,
                  covers=["externalRedis.host"])
    secret = redis.get("secret_name") or DEFAULT_REDIS_SECRET
    key = redis.get("password_key") or "password"
    if redis.get("create_secret", True) and _given(redis, "password"):
        b.secret(secret, [key])
    out = {
        "host": redis.get("host", ""),
        "port": _port(redis.get("port", 6379)),
        "existingSecret": secret,
        "existingSecretPasswordKey": key,
        "tlsEnabled": bool(redis.get("tls_enabled", False)),
    }
    if redis.get("tls_ca"):
        if not out["tlsEnabled"]:
            b.problem(name, "tls_ca", "is set but tls_enabled is false",
                      "set %s.tls_enabled: true or remove tls_ca" % variable, covers=["externalRedis.tlsCA"],
                      doc=_CC + "#configure-redis-tls")
        _ca_problem(b, name, "tls_ca", redis["tls_ca"], "externalRedis.tlsCA", _CC + "#configure-redis-tls")
        out["tlsCA"] = redis["tls_ca"]
    return {"internalRedis": {"enabled": False}, "externalRedis": out}
