# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Build CARTO's ``customizations.yaml`` from the collection's structured variables.

Every block mirrors a section of ``../shared/docs/carto-customizations.md`` (CC),
``carto-access-outside-cluster.md`` (AO) or ``carto-kubernetes-install.md`` (KI); the
produced keys are the chart's own (see the chart's ``values.yaml``). Secret values never
enter the produced document: credentials are referenced through ``existingSecret`` and
created as Kubernetes Secrets by the ``carto.selfhosted.secrets`` role, so
``customizations.yaml`` can be kept and diffed.

Entry points:

* :func:`build_customizations` returns ``(values, problems)``; ``problems`` lists every
  input error at once, each naming the variable, the key and the fix.
* :func:`build` returns a dict with the values, the problems in the format of
  ``carto_values`` (``source``/``path``/``message``/``fix``/``doc``/``rule``), the Secrets
  the ``secrets`` role will create in the same run (name -> keys) and whether TLS is
  terminated in front of the router.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from ansible_collections.carto.selfhosted.plugins.module_utils._tls import validate as _tls_validate
except ImportError:  # pragma: no cover - part of the collection
    _tls_validate = None

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

_CC = "carto-customizations.md"
_AO = "carto-access-outside-cluster.md"
DOC = {
    "domain": _CC + "#configure-the-domain-of-your-self-hosted",
    "router_service": _CC + "#expose-carto-with-the-carto-router-service-in-loadbalancer-mode",
    "ingress": _AO + "#expose-carto-with-ingress-and-your-own-tls-certificates",
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


def _router_service(b, spec, tls):
    """CC/AO "Expose CARTO with the Carto Router service in LoadBalancer mode" (per-cloud settings, 605 s)."""
    name = "router_service"
    service = spec or {}
    cloud = service.get("cloud") or "none"
    svc_type = service.get("type") or ("LoadBalancer" if cloud != "none" else "ClusterIP")
    if svc_type not in SERVICE_TYPES:
        b.problem(name, "type", "'%s' is not a Service type" % svc_type, "use one of %s" % ", ".join(SERVICE_TYPES),
                  covers=["router.service.type"])
    if cloud not in CLOUDS:
        b.problem(name, "cloud", "'%s' is not a supported cloud preset" % cloud, "use one of %s" % ", ".join(CLOUDS))
        cloud = "none"
    if cloud != "none" and svc_type != "LoadBalancer":
        b.problem(name, "cloud", "the %s load balancer settings need type LoadBalancer (type is %s)" % (cloud, svc_type),
                  "set %s.type: LoadBalancer or remove cloud" % b.var(name), covers=["router.service.annotations"])
    timeout = _int(b, name, "connection_timeout", service.get("connection_timeout", MIN_CONNECTION_TIMEOUT),
                   MIN_CONNECTION_TIMEOUT)
    timeout = timeout or MIN_CONNECTION_TIMEOUT
    annotations = {}
    if cloud in ("aws_eks", "aws_eks_tls_offloading"):
        annotations[AWS_TIMEOUT] = str(timeout)
    if cloud == "azure_aks":
        # Azure counts minutes; CARTO's example uses 10, 605 s needs at least 11 (rounded up).
        annotations[AZURE_TIMEOUT] = str(max(10, -(-timeout // 60)))
    if cloud == "aws_eks_tls_offloading":
        # TLS ends at the NLB with an ACM certificate; the router serves plain HTTP behind it.
        if not service.get("aws_certificate_arn"):
            b.problem(name, "aws_certificate_arn", "is required with cloud aws_eks_tls_offloading",
                      "import the certificate in AWS ACM and set %s.aws_certificate_arn to its ARN" % b.var(name),
                      covers=["router.service.annotations"])
        elif not str(service["aws_certificate_arn"]).startswith("arn:"):
            b.problem(name, "aws_certificate_arn", "'%s' is not an ACM certificate ARN" % service["aws_certificate_arn"],
                      "set it to arn:aws:acm:<region>:<account>:certificate/<id>")
        annotations[AWS_SSL_CERT] = str(service.get("aws_certificate_arn") or "")
        annotations[AWS_SSL_PORTS] = "https"
        annotations[AWS_BACKEND_PROTOCOL] = "http"
        tls_mode = (tls or {}).get("mode") or "self_signed"
        if tls_mode != "disabled":
            b.problem(name, "cloud", "TLS is offloaded at the AWS load balancer but %stls.mode is '%s'"
                      % (b.prefix, tls_mode), "set %stls.mode: disabled" % b.prefix, covers=["tlsCerts"])
    annotations.update(service.get("annotations") or {})
    out = {"type": svc_type}
    if annotations:
        out["annotations"] = dict((k, str(v)) for k, v in annotations.items())
    if service.get("load_balancer_ip"):
        out["loadBalancerIP"] = service["load_balancer_ip"]
    if service.get("load_balancer_source_ranges"):
        out["loadBalancerSourceRanges"] = list(service["load_balancer_source_ranges"])
    return {"router": {"service": out}}


def _extra_deploy_object(api_version, kind, name, spec_lines):
    """A chart ``extraDeploy`` object (rendered by the chart with ``tpl``), as in CARTO's examples."""
    header = (
        "apiVersion: %s\n"
        "kind: %s\n"
        "metadata:\n"
        "  name: %s\n"
        "  labels: {{- include \"common.labels.standard\" . | nindent 4 }}\n"
        "    app.kubernetes.io/component: carto\n"
        "  namespace: {{ .Release.Namespace | quote }}\n"
        "spec:\n" % (api_version, kind, name))
    return header + "".join("  %s\n" % line for line in spec_lines)


def _ingress(b, spec, tls):
    """AO "Expose CARTO with Ingress and your own TLS certificates" / "... GCP SSL Managed Certificates",
    "Create a SSL Policy for your Ingress" (GKE only)."""
    name = "ingress"
    ing = spec or {}
    if not ing.get("enabled", bool(ing)):
        return {}, []
    certificate = ing.get("certificate") or "own"
    if certificate not in INGRESS_CERTIFICATES:
        b.problem(name, "certificate", "'%s' is not an Ingress certificate mode" % certificate,
                  "use one of %s" % ", ".join(INGRESS_CERTIFICATES))
        certificate = "own"
    timeout = _int(b, name, "backend_timeout", ing.get("backend_timeout", MIN_CONNECTION_TIMEOUT),
                   MIN_CONNECTION_TIMEOUT) or MIN_CONNECTION_TIMEOUT
    frontend = ing.get("frontend_config_name") or "carto-ingress-frontend-config"
    backend = ing.get("backend_config_name") or "carto-service-backend-config"
    for key, value in (("frontend_config_name", frontend), ("backend_config_name", backend),
                       ("managed_certificate_name", ing.get("managed_certificate_name"))):
        if value and not _K8S_NAME.match(value):
            b.problem(name, key, "'%s' is not a valid Kubernetes object name" % value,
                      "use lowercase letters, digits and '-'")
    annotations = {"kubernetes.io/ingress.class": "gce",
                   "networking.gke.io/v1beta1.FrontendConfig": frontend}
    if ing.get("static_ip_name"):
        annotations["kubernetes.io/ingress.global-static-ip-name"] = ing["static_ip_name"]
    elif certificate == "google_managed":
        b.problem(name, "static_ip_name", "Google-managed certificates need a reserved global static IP",
                  "gcloud compute addresses create <name> --global, then set %s.static_ip_name" % b.var(name),
                  doc=_AO + "#expose-carto-with-ingress-and-gcp-ssl-managed-certificates")
    annotations.update(ing.get("annotations") or {})
    service_annotations = {"cloud.google.com/backend-config": '{"default": "%s"}' % backend}
    if ing.get("neg"):
        service_annotations["cloud.google.com/neg"] = '{"ingress": true}'
    frontend_spec = ["redirectToHttps:", "  enabled: %s" % ("true" if ing.get("https_redirect", True) else "false")]
    if ing.get("ssl_policy"):
        frontend_spec.append("sslPolicy: %s" % ing["ssl_policy"])
    objects = [
        _extra_deploy_object("cloud.google.com/v1", "BackendConfig", backend, ["timeoutSec: %d" % timeout]),
        _extra_deploy_object("networking.gke.io/v1beta1", "FrontendConfig", frontend, frontend_spec),
    ]
    values = {"router": {"ingress": {"enabled": True, "annotations": annotations},
                         "service": {"annotations": service_annotations}},
              "tlsCerts": {"httpsEnabled": False}}
    tls = tls or {}
    if certificate == "own":
        if tls.get("mode") != "existing_secret":
            b.problem(name, "certificate", "an Ingress with your own certificate reads it from the router TLS Secret, "
                      "but %stls.mode is '%s'" % (b.prefix, tls.get("mode") or "self_signed"),
                      "set %stls.mode: existing_secret with secret_name (and certificate_file/private_key_file to "
                      "create it)" % b.prefix, covers=["tlsCerts.existingSecret.name"])
        values["router"]["ingress"]["tls"] = True
        values["tlsCerts"].update({"autoGenerate": False, "existingSecret": {
            "name": tls.get("secret_name") or DEFAULT_TLS_SECRET, "keyKey": "tls.key", "certKey": "tls.crt"}})
    else:
        managed = ing.get("managed_certificate_name") or "carto-google-managed-cert"
        annotations["networking.gke.io/managed-certificates"] = managed
        objects.append(_extra_deploy_object("networking.gke.io/v1", "ManagedCertificate", managed,
                                            ["domains:", "  - {{ .Values.appConfigValues.selfHostedDomain }}"]))
    return values, objects


def _tls(b, spec, ingress_on):
    """CC "Configure TLS termination in the CARTO router service" (not used with an Ingress)."""
    name = "tls"
    tls = spec or {}
    mode = tls.get("mode") or "self_signed"
    if mode not in TLS_MODES:
        b.problem(name, "mode", "'%s' is not a TLS mode" % mode, "use one of %s" % ", ".join(TLS_MODES),
                  covers=["tlsCerts"])
        return {}
    if mode == "existing_secret":
        secret = tls.get("secret_name") or DEFAULT_TLS_SECRET
        if _given(tls, "certificate", "certificate_file") != _given(tls, "private_key", "private_key_file"):
            b.problem(name, "private_key" if _given(tls, "certificate", "certificate_file") else "certificate",
                      "a certificate and its private key go together to create the Secret '%s'" % secret,
                      "set both certificate(_file) and private_key(_file), or neither to use an existing Secret")
        elif _given(tls, "certificate", "certificate_file"):
            b.secret(secret, ["tls.crt", "tls.key"])
    if ingress_on:
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


def _existing(secret, key):
    return {"existingSecret": {"name": secret, "key": key}}


def _buckets(b, spec):
    """CC "Custom Buckets" (Pre-requisites, Google Cloud Storage, AWS S3, Azure Storage)."""
    name = "buckets"
    variable = b.var(name)
    bk = spec or {}
    if not bk:
        return {}
    provider = bk.get("provider")
    if provider not in STORAGE_PROVIDERS:
        b.problem(name, "provider", "'%s' is not a storage provider" % provider,
                  "use one of %s (one provider at a time)" % ", ".join(STORAGE_PROVIDERS),
                  covers=["appConfigValues.storageProvider"])
        return {}
    config = {"storageProvider": provider}
    for key, chart in (("client_bucket", "workspaceImportsBucket"), ("thumbnails_bucket", "workspaceThumbnailsBucket")):
        if not bk.get(key):
            b.problem(name, key, "is required with custom buckets", "set %s.%s to the bucket name" % (variable, key),
                      covers=["appConfigValues." + chart])
        config[chart] = bk.get(key) or ""
    # The guides' importBucket is not a key of chart 1.287.1 (Helm would ignore it): import_bucket is accepted
    # and documented but not written.
    config["workspaceImportsPublic"] = bool(bk.get("imports_public", True))
    config["workspaceThumbnailsPublic"] = bool(bk.get("thumbnails_public", True))
    thumbs = bk.get("thumbnails_bucket") or "<thumbnails_bucket>"
    secret = bk.get("secret_name") or DEFAULT_BUCKETS_SECRET
    create = bk.get("create_secret", True)
    secrets = {}
    if provider == "gcp":
        url = "https://%s/%s/" % ("storage.googleapis.com" if config["workspaceThumbnailsPublic"]
                                  else "storage.cloud.google.com", thumbs)
        if not bk.get("gcp_project_id"):
            b.problem(name, "gcp_project_id", "is required with provider gcp", "set %s.gcp_project_id" % variable,
                      covers=["appConfigValues.googleCloudStorageProjectId"])
        config["googleCloudStorageProjectId"] = bk.get("gcp_project_id") or ""
        # Without a key the custom service account (Workload Identity) is used (CC "Google Cloud Storage" step 4).
        if _given(bk, "service_account_key", "service_account_key_file") or bk.get("secret_name"):
            secrets["googleCloudStorageServiceAccountKey"] = _existing(secret, "key")
            if create and _given(bk, "service_account_key", "service_account_key_file"):
                b.secret(secret, ["key"])
    elif provider == "s3":
        url = "https://%s.s3.amazonaws.com/" % thumbs
        if not bk.get("s3_region"):
            b.problem(name, "s3_region", "is required with provider s3", "set %s.s3_region (e.g. eu-west-1)" % variable,
                      covers=["appConfigValues.awsS3Region"])
        config["awsS3Region"] = bk.get("s3_region") or ""
        secrets["awsAccessKeyId"] = _existing(secret, "awsAccessKeyId")
        secrets["awsAccessKeySecret"] = _existing(secret, "awsSecretAccessKey")
        if create and _given(bk, "access_key_id", "secret_access_key"):
            if not (_given(bk, "access_key_id") and _given(bk, "secret_access_key")):
                b.problem(name, "secret_access_key" if _given(bk, "access_key_id") else "access_key_id",
                          "S3 credentials need both the access key id and the secret access key",
                          "set both %s.access_key_id and %s.secret_access_key (Ansible Vault)" % (variable, variable))
            b.secret(secret, ["awsAccessKeyId", "awsSecretAccessKey"])
    else:
        account = bk.get("azure_storage_account") or ""
        url = "https://%s.blob.core.windows.net/%s/" % (account or "<storage_account>", thumbs)
        if not account:
            b.problem(name, "azure_storage_account", "is required with provider azure-blob",
                      "set %s.azure_storage_account" % variable, covers=["appConfigValues.azureStorageAccount"])
        config["azureStorageAccount"] = account
        secrets["azureStorageAccessKey"] = _existing(secret, "azureStorageAccessKey")
        if create and _given(bk, "access_key"):
            b.secret(secret, ["azureStorageAccessKey"])
    config["thumbnailsBucketExternalURL"] = bk.get("thumbnails_external_url") or url
    out = {"appConfigValues": config}
    if secrets:
        out["appSecrets"] = secrets
    return out


def _app_secret(b, name, spec, value_key, chart_item, default_secret, default_key, config=None):
    """One appSecrets item referenced through existingSecret (CC "Google Maps", "Enable BigQuery OAuth")."""
    conf = spec or {}
    secret = conf.get("secret_name") or default_secret
    key = conf.get("secret_key") or default_key
    if conf.get("create_secret", True) and _given(conf, value_key):
        b.secret(secret, [key])
    out = {"appSecrets": {chart_item: _existing(secret, key)}}
    if config:
        out["appConfigValues"] = config
    return out


def _google_maps(b, spec):
    if not spec:
        return {}
    return _app_secret(b, "google_maps", spec, "api_key", "googleMapsApiKey", DEFAULT_GOOGLE_MAPS_SECRET,
                       "googleMapsApiKey")


def _bigquery_oauth(b, spec):
    if not spec:
        return {}
    if not spec.get("client_id"):
        b.problem("bigquery_oauth", "client_id", "is required to enable BigQuery OAuth connections",
                  "set %s.client_id to the web client id of the OAuth credentials" % b.var("bigquery_oauth"),
                  covers=["appConfigValues.bigqueryOauth2ClientId"])
    return _app_secret(b, "bigquery_oauth", spec, "client_secret", "bigqueryOauth2ClientSecret",
                       DEFAULT_BIGQUERY_OAUTH_SECRET, "bigqueryOauth2ClientSecret",
                       {"bigqueryOauth2ClientId": spec.get("client_id") or ""})


def _redshift_imports(b, spec):
    """CC "Redshift imports"."""
    name = "redshift_imports"
    conf = spec or {}
    if not conf:
        return {}
    arn = conf.get("role_arn") or ""
    if not arn.startswith("arn:aws:iam::"):
        b.problem(name, "role_arn", "'%s' is not an IAM ARN" % arn, "set %s.role_arn: arn:aws:iam::<account>:..."
                  % b.var(name), covers=["appConfigValues.importAwsRoleArn"])
    secret = conf.get("secret_name") or DEFAULT_REDSHIFT_SECRET
    if conf.get("create_secret", True) and _given(conf, "access_key_id", "secret_access_key"):
        if not (_given(conf, "access_key_id") and _given(conf, "secret_access_key")):
            b.problem(name, "secret_access_key" if _given(conf, "access_key_id") else "access_key_id",
                      "the import user needs both the access key id and the secret access key",
                      "set both %s.access_key_id and %s.secret_access_key (Ansible Vault)" % (b.var(name), b.var(name)))
        b.secret(secret, ["importAwsAccessKeyId", "importAwsSecretAccessKey"])
    return {"appConfigValues": {"importAwsRoleArn": arn},
            "appSecrets": {"importAwsAccessKeyId": _existing(secret, "importAwsAccessKeyId"),
                           "importAwsSecretAccessKey": _existing(secret, "importAwsSecretAccessKey")}}


def _service_account(b, spec):
    """CC "Custom Service Account": the backend ServiceAccount, with GKE Workload Identity."""
    conf = spec or {}
    if not conf:
        return {}
    out = {}
    if "create" in conf:
        out["create"] = bool(conf["create"])
    if conf.get("name"):
        out["name"] = conf["name"]
    annotations = dict(conf.get("annotations") or {})
    email = conf.get("gcp_service_account_email")
    if email:
        if not re.match(r"^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$", email):
            b.problem("service_account", "gcp_service_account_email", "'%s' is not a GCP service account email" % email,
                      "use <name>@<project>.iam.gserviceaccount.com")
        annotations["iam.gke.io/gcp-service-account"] = email
        out["enableGCPWorkloadIdentity"] = True
    if conf.get("workload_identity") is not None:
        out["enableGCPWorkloadIdentity"] = bool(conf["workload_identity"])
    if out.get("create") is False and not out.get("name"):
        b.problem("service_account", "name", "create is false but no existing ServiceAccount is named",
                  "set %s.name" % b.var("service_account"))
    if annotations:
        out["annotations"] = annotations
    return {"commonBackendServiceAccount": out}


def _scaling(b, spec):
    """CC "Components scaling" (autoscaling, static scaling), "High Availability", PodDisruptionBudgets."""
    name = "scaling"
    variable = b.var(name)
    conf = spec or {}
    if not conf:
        return {}
    mode = conf.get("mode") or "none"
    profile = conf.get("high_availability") or "none"
    if mode not in SCALING_MODES:
        b.problem(name, "mode", "'%s' is not a scaling mode" % mode, "use one of %s" % ", ".join(SCALING_MODES))
        mode = "none"
    if profile not in HA_PROFILES:
        b.problem(name, "high_availability", "'%s' is not a high-availability profile" % profile,
                  "use one of %s" % ", ".join(HA_PROFILES))
        profile = "none"
    if profile != "none" and mode == "none":
        b.problem(name, "mode", "high availability needs static scaling or autoscaling",
                  "set %s.mode: autoscaling (recommended) or static" % variable, doc=_CC + "#high-availability")
    ha = HA_SCALING.get(profile, {"replicas": 1, "min": None, "max": None})
    overrides = conf.get("components") or {}
    values = {}
    for component in sorted(set(overrides) - set(SCALED_COMPONENTS)):
        b.problem(name, "components.%s" % component, "is not one of the components CARTO supports scaling",
                  "use one of %s" % ", ".join(sorted(SCALED_COMPONENTS)))
    for component in sorted(SCALED_COMPONENTS):
        own = overrides.get(component) or {}
        block = {}
        if mode == "static":
            replicas = own.get("replicas", conf.get("replicas", ha["replicas"]))
            block["replicaCount"] = _int(b, name, "components.%s.replicas" % component if "replicas" in own
                                         else "replicas", replicas, 1) or 1
        elif mode == "autoscaling":
            auto = {"enabled": True}
            low = own.get("min_replicas", conf.get("min_replicas", ha["min"]))
            high = own.get("max_replicas", conf.get("max_replicas", ha["max"]))
            cpu = own.get("target_cpu", conf.get("target_cpu"))
            if low is not None:
                auto["minReplicas"] = _int(b, name, "min_replicas", low, 1) or 1
            if high is not None:
                auto["maxReplicas"] = _int(b, name, "max_replicas", high, 1) or 1
            if auto.get("minReplicas") and auto.get("maxReplicas") and auto["minReplicas"] > auto["maxReplicas"]:
                b.problem(name, "components.%s" % component if own else "min_replicas",
                          "%s: min_replicas %d is greater than max_replicas %d"
                          % (component, auto["minReplicas"], auto["maxReplicas"]),
                          "set max_replicas >= min_replicas", covers=["%s.autoscaling.minReplicas" % component],
                          doc=_CC + "#enable-carto-autoscaling-feature")
            if cpu is not None:
                auto["targetCPUUtilizationPercentage"] = _int(b, name, "target_cpu", cpu, 1) or 75
            block["autoscaling"] = auto
        if profile != "none":
            block["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 1,
                "podAffinityTerm": {
                    "labelSelector": {"matchExpressions": [{
                        "key": "app.kubernetes.io/component", "operator": "In",
                        "values": [SCALED_COMPONENTS[component]]}]},
                    "topologyKey": "kubernetes.io/hostname"}}]}}
        if block:
            values[component] = block
    for component, pdb in sorted((conf.get("pod_disruption_budgets") or {}).items()):
        key = "pod_disruption_budgets.%s" % component
        if component not in PDB_COMPONENTS:
            b.problem(name, key, "is not a component with a PodDisruptionBudget",
                      "use one of %s" % ", ".join(PDB_COMPONENTS))
            continue
        pdb = pdb or {}
        out = {"enabled": bool(pdb.get("enabled", True))}
        if "min_available" in pdb and "max_unavailable" in pdb:
            b.problem(name, key, "sets both min_available and max_unavailable", "keep only one of them",
                      doc=_CC + "#high-availability")
        if "min_available" in pdb:
            out["minAvailable"] = pdb["min_available"]
        if "max_unavailable" in pdb:
            out["maxUnavailable"] = pdb["max_unavailable"]
        values.setdefault(component, {})["podDisruptionBudget"] = out
    return values


def deep_merge(base, override):
    """Merge ``override`` into a copy of ``base`` like Helm merges values files (maps merge, rest replaces)."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def _build(spec, variable_prefix):
    spec = spec or {}
    b = _Builder(variable_prefix)
    values = {}
    reason = domain_problem(spec.get("domain") or "")
    if reason:
        b.problem("domain", "appConfigValues.selfHostedDomain", "the domain " + reason,
                  "set %sdomain to a bare FQDN such as carto.example.com" % variable_prefix,
                  covers=["appConfigValues.selfHostedDomain"])
    values["appConfigValues"] = {"selfHostedDomain": spec.get("domain") or ""}
    ingress_values, ingress_objects = _ingress(b, spec.get("ingress"), spec.get("tls"))
    ingress_on = bool(ingress_values)
    if ingress_on and (spec.get("router_service") or {}).get("cloud") not in (None, "none"):
        b.problem("ingress", "enabled", "the GKE Ingress and a LoadBalancer cloud preset both expose CARTO",
                  "use either %singress or %srouter_service.cloud" % (variable_prefix, variable_prefix))
    pg_values, pg_objects = _external_postgresql(b, spec.get("external_postgresql"))
    parts = (
        _router_service(b, spec.get("router_service"), spec.get("tls")),
        _tls(b, spec.get("tls"), ingress_on),
        ingress_values,
        pg_values,
        _external_redis(b, spec.get("external_redis")),
        _buckets(b, spec.get("buckets")),
        _google_maps(b, spec.get("google_maps")),
        _bigquery_oauth(b, spec.get("bigquery_oauth")),
        _redshift_imports(b, spec.get("redshift_imports")),
        _service_account(b, spec.get("service_account")),
        _scaling(b, spec.get("scaling")),
    )
    for part in parts:
        values = deep_merge(values, part)
    objects = ingress_objects + pg_objects
    if objects:
        values["extraDeploy"] = objects
    return values, b


def build_customizations(spec, variable_prefix="values_"):
    """Turn the structured variables into chart values.

    ``spec`` keys (all optional except ``domain``): ``domain``, ``router_service``, ``ingress``, ``tls``,
    ``external_postgresql``, ``external_redis``, ``buckets``, ``google_maps``, ``bigquery_oauth``,
    ``redshift_imports``, ``service_account``, ``scaling``. Returns ``(values, problems)``.
    """
    values, builder = _build(spec, variable_prefix)
    return values, builder.problems


def tls_terminated_in_front(spec):
    """True when the structured variables put TLS termination in front of the router."""
    spec = spec or {}
    if (spec.get("ingress") or {}).get("enabled", bool(spec.get("ingress"))):
        return True
    if (spec.get("router_service") or {}).get("cloud") == "aws_eks_tls_offloading":
        return True
    return bool((spec.get("tls") or {}).get("external_termination"))


def build(spec, variable_prefix="carto_"):
    """Everything the values role needs from the structured variables, without raising.

    Returns ``{"values", "problems", "secrets", "external_tls_termination"}``: ``problems`` in the
    ``carto_values`` problem format (``source`` is the inventory variable, ``path`` its key) plus
    ``covers`` (chart key paths the problem makes wrong); ``secrets`` maps the Secrets the
    ``carto.selfhosted.secrets`` role creates in the same run to their data keys.
    """
    values, builder = _build(spec, variable_prefix)
    problems = [{
        "severity": "error",
        "source": "inventory variable " + p["variable"],
        "line": None,
        "path": p["key"],
        "message": p["message"],
        "fix": p["fix"],
        "doc": p["doc"],
        "rule": "structured-" + p["variable"][len(variable_prefix):].split(".")[0].replace("_", "-"),
        "covers": p["covers"],
    } for p in builder.problems]
    return {"values": values, "problems": problems, "secrets": builder.secrets,
            "external_tls_termination": tls_terminated_in_front(spec)}


def autoscaling_components(values):
    """Names of the top-level components whose ``autoscaling.enabled`` is true (CC "Autoscaling")."""
    names = []
    for name, block in sorted((values or {}).items()):
        if isinstance(block, dict) and isinstance(block.get("autoscaling"), dict):
            if block["autoscaling"].get("enabled") is True:
                names.append(name)
    return names
