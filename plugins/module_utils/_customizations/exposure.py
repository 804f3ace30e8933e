# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Private: the router Service, the GKE Ingress and TLS sections of ``customizations.yaml``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils._customizations.common import (
    AWS_BACKEND_PROTOCOL, AWS_SSL_CERT, AWS_SSL_PORTS, AWS_TIMEOUT, AZURE_TIMEOUT, CLOUDS, DEFAULT_TLS_SECRET,
    INGRESS_CERTIFICATES, MIN_CONNECTION_TIMEOUT, SERVICE_TYPES, TLS_MODES, _CC, _K8S_NAME, _given, _int,
)


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
                  doc=_CC + "#expose-carto-with-ingress-and-gcp-ssl-managed-certificates")
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
