# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""HTTPS check of the CARTO router: status, served certificate chain and response time.

The request goes over any connected socket (a TCP connection to the load balancer / Ingress
address, or a port-forward stream to a router pod), with SNI and ``Host`` set to the CARTO domain,
like ``kubectl port-forward svc/carto-router 443:443`` plus ``/etc/hosts`` in
https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes ("Install CARTO", "Configure an HTTPS endpoint"). The served chain
is validated with :func:`tls_validate.validate_chain` (complete, matches the domain, not expiring;
https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, "Troubleshooting" > "500 Code Error").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import socket
import ssl
import time

from ansible_collections.carto.selfhosted.plugins.module_utils.carto_checks import (
    FAILED, PASSED, SKIPPED, WARNING, check)
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import certs as tls_certs
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import validate as tls_validate

DOC_ENDPOINT = "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Configure an HTTPS endpoint"
DOC_CHAIN = "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#troubleshooting, 500 Code Error"


def served_chain(sslsock):
    """DER certificates the server sent, leaf first.

    Python >= 3.13 has ``get_unverified_chain``; CPython 3.10-3.12 expose it on the private
    ``_sslobj``. Older interpreters only give the leaf (then the chain check reports it).
    """
    for obj in (sslsock, getattr(sslsock, "_sslobj", None)):
        getter = getattr(obj, "get_unverified_chain", None)
        if getter is None:
            continue
        chain = getter() or []
        out = []
        for cert in chain:
            if isinstance(cert, bytes):
                out.append(cert)
            else:
                out.append(cert.public_bytes(ssl._ssl.ENCODING_DER))  # pylint: disable=protected-access
        return out, True
    leaf = sslsock.getpeercert(binary_form=True)
    return ([leaf] if leaf else []), False


def https_request(sock, domain, path="/", timeout=10.0):
    """TLS handshake (SNI = domain, no verification: the chain is checked separately) and one GET.

    Returns dict(status, reason, headers, elapsed_seconds, tls_version, chain_der, full_chain).
    Raises OSError / ssl.SSLError / http.client.HTTPException.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    sock.settimeout(timeout)
    started = time.monotonic()
    tls = ctx.wrap_socket(sock, server_hostname=domain)
    handshake = time.monotonic() - started
    chain, full = served_chain(tls)
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: carto.selfhosted-verify\r\nAccept: */*\r\n"
               "Connection: close\r\n\r\n" % (path, domain)).encode("ascii")
    tls.sendall(request)
    response = http.client.HTTPResponse(tls, method="GET")
    response.begin()
    elapsed = time.monotonic() - started
    result = {"status": response.status, "reason": response.reason,
              "headers": dict((k.lower(), v) for k, v in response.getheaders()
                              if k.lower() in ("server", "content-type", "location")),
              "elapsed_seconds": round(elapsed, 3), "handshake_seconds": round(handshake, 3),
              "tls_version": tls.version(), "chain_der": chain, "full_chain": full}
    try:
        tls.close()
    except OSError:
        pass
    return result


def endpoint_checks(connect, domain, path="/", timeout=10.0, trust=None, trust_source=None, warning_days=30,
                    expected_status=None, slow_seconds=5.0, trust_required=True, via="", now=None):
    """Run the request over ``connect()`` (returns a connected socket) and return (checks, details)."""
    expected_status = list(expected_status or [])
    details = {"domain": domain, "path": path, "via": via}
    try:
        sock = connect()
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding
        details["error"] = str(exc)
        reason = "could not connect (%s): %s" % (via, exc)
        return [check("endpoint_connect", FAILED, reason,
                      fix="check the router pods and Service; for a LoadBalancer the firewall/security groups",
                      doc=DOC_ENDPOINT),
                check("endpoint_http", SKIPPED, "no connection"),
                check("endpoint_certificate", SKIPPED, "no connection"),
                check("endpoint_response_time", SKIPPED, "no connection")], details
    try:
        result = https_request(sock, domain, path=path, timeout=timeout)
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        details["error"] = str(exc) or exc.__class__.__name__
        return [check("endpoint_connect", FAILED, "HTTPS request to %s (%s) failed: %s" % (domain, via, details["error"]),
                      fix="check that the router serves TLS on its https port (tlsCerts.httpsEnabled) and its logs",
                      doc=DOC_ENDPOINT),
                check("endpoint_http", SKIPPED, "no HTTP response"),
                check("endpoint_certificate", SKIPPED, "no TLS handshake"),
                check("endpoint_response_time", SKIPPED, "no HTTP response")], details
    finally:
        try:
            sock.close()
        except OSError:
            pass
    checks = [check("endpoint_connect", PASSED, "TLS (%s) with SNI %s %s" % (result["tls_version"], domain, via),
                    doc=DOC_ENDPOINT)]
    status = result["status"]
    details.update(status=status, reason=result["reason"], response_seconds=result["elapsed_seconds"],
                   handshake_seconds=result["handshake_seconds"], tls_version=result["tls_version"],
                   headers=result["headers"])
    ok = status in expected_status if expected_status else 200 <= status < 400
    checks.append(check("endpoint_http", PASSED if ok else FAILED,
                        "GET https://%s%s answered HTTP %d %s" % (domain, path, status, result["reason"]),
                        fix=None if ok else "read the router and workspace-api logs in the support bundle",
                        doc=DOC_ENDPOINT))
    # ---- served chain
    report = tls_validate.validate_chain(result["chain_der"], trust=trust, domain=domain, now=now,
                                         warning_days=warning_days, trust_source=trust_source)
    chain = report.to_dict()
    details["certificate"] = {"valid": chain.get("valid"), "checks": chain.get("checks"),
                              "chain": chain.get("chain"), "full_chain_read": result["full_chain"],
                              "served_certificates": len(result["chain_der"])}
    failures = [c for c in report.checks if c.status == tls_certs.FAILED]
    trust_only = failures and all(c.name in ("trust", "signature") for c in failures)
    warnings = [c for c in report.checks if c.status == tls_certs.WARNING]
    leaf = (chain.get("chain") or [{}])[0]
    leaf_text = "leaf %s, expires %s" % (leaf.get("subject", "?"), leaf.get("not_after", "?"))
    if failures and (trust_required or not trust_only):
        checks.append(check("endpoint_certificate", FAILED, "served chain (%d certificate(s), %s) is not valid for %s: %s"
                            % (len(result["chain_der"]), leaf_text, domain,
                               "; ".join("%s: %s" % (c.name, c.message) for c in failures)),
                            fix="serve the full chain (leaf, then intermediates) for the CARTO domain in the TLS "
                                "Secret and reinstall", doc=DOC_CHAIN))
    elif failures or warnings:
        items = failures + warnings
        checks.append(check("endpoint_certificate", WARNING, "served chain for %s (%s): %s"
                            % (domain, leaf_text, "; ".join("%s: %s" % (c.name, c.message) for c in items)),
                            fix="use a certificate issued by a CA the users trust (carto_tls)" if failures else None,
                            doc=DOC_CHAIN))
    else:
        checks.append(check("endpoint_certificate", PASSED, "served chain of %d certificate(s) is complete, covers %s "
                            "and is valid (%s)" % (len(result["chain_der"]), domain, leaf_text), doc=DOC_CHAIN))
    slow = result["elapsed_seconds"] > float(slow_seconds)
    checks.append(check("endpoint_response_time", WARNING if slow else PASSED,
                        "response in %.3f s (TLS handshake %.3f s)"
                        % (result["elapsed_seconds"], result["handshake_seconds"]),
                        fix="check the router and http-cache load" if slow else None))
    return checks, details


def tcp_connect(address, port, timeout):
    return socket.create_connection((address, int(port)), timeout=timeout)


def resolve_target(service, port, pods):
    """(pod name, target port number) for ``port`` (name or number) of ``service`` among ``pods``.

    Raises ValueError with the reason when no Running pod serves it.
    """
    spec = service.get("spec") or {}
    chosen = None
    for item in spec.get("ports") or []:
        if str(item.get("name")) == str(port) or str(item.get("port")) == str(port):
            chosen = item
            break
    if chosen is None:
        raise ValueError("Service %s has no port %s (ports: %s)" % (
            service["metadata"]["name"], port,
            ", ".join("%s/%s" % (p.get("name"), p.get("port")) for p in spec.get("ports") or [])))
    selector = spec.get("selector") or {}
    if not selector:
        raise ValueError("Service %s has no selector" % service["metadata"]["name"])
    candidates = []
    for pod in pods or []:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if not all(labels.get(k) == v for k, v in selector.items()):
            continue
        if (pod.get("status") or {}).get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (pod.get("status") or {}).get("conditions") or [])
        candidates.append((0 if ready else 1, pod["metadata"]["name"], pod))
    if not candidates:
        raise ValueError("no Running pod behind Service %s (selector %s)" % (
            service["metadata"]["name"], ",".join("%s=%s" % kv for kv in sorted(selector.items()))))
    candidates.sort(key=lambda c: (c[0], c[1]))
    pod = candidates[0][2]
    target = chosen.get("targetPort", chosen.get("port"))
    if isinstance(target, int) or str(target).isdigit():
        return pod["metadata"]["name"], int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if cport.get("name") == target:
                return pod["metadata"]["name"], int(cport["containerPort"])
    raise ValueError("pod %s has no container port named %s (targetPort of Service %s)"
                     % (pod["metadata"]["name"], target, service["metadata"]["name"]))


def port_forward_socket(api_client, namespace, pod, port):
    """A socket connected to ``port`` of ``pod`` through the API server (kubectl port-forward)."""
    from kubernetes.client import CoreV1Api
    from kubernetes.stream import portforward

    api = CoreV1Api(api_client)
    forward = portforward(api.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    return forward.socket(int(port))
