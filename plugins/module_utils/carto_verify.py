# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Verification checks of an installed CARTO release, from its rendered manifest and live objects.

The expected components come from the release manifest (``helm get manifest`` /
kubernetes.core.helm_info ``status.manifest`` or the rendered chart), never from a fixed list.
Inputs are plain data as kubernetes.core.k8s_info returns it. Entry point: :func:`verify_checks`.

Sources (CARTO's public docs): https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes "Install CARTO" (pods Running, up to 5
minutes), "Post-installation checks" (the ``workspace-migrations`` init container of
``carto-workspace-api``), "Configure an HTTPS endpoint" (the LoadBalancer EXTERNAL-IP and the DNS
record to create); https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster
(LoadBalancer vs Ingress); https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md
"Troubleshooting" > "Ingress" (the Ingress address).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils.carto_checks import (
    FAILED, PASSED, SKIPPED, WARNING, check, summarize)
from ansible_collections.carto.selfhosted.plugins.module_utils.carto_preflight import workloads
from ansible_collections.carto.selfhosted.plugins.module_utils import k8s_status

DOC_PODS = "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Install CARTO"
DOC_MIGRATIONS = "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Post-installation checks"
DOC_ENDPOINT = "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Configure an HTTPS endpoint"
DOC_EXPOSURE = "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster"
DOC_INGRESS = "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#ingress (Troubleshooting)"


def _by_name(objects):
    return dict(((o.get("metadata") or {}).get("name"), o) for o in objects or [])


def _matches(pod, selector):
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _live_selector(obj, fallback):
    return (((obj or {}).get("spec") or {}).get("selector") or {}).get("matchLabels") or fallback


def check_workload(expected, live):
    kind, name = expected["kind"], expected["name"]
    label = "%s %s" % (kind.lower(), name)
    if live is None:
        return check(label, FAILED, "%s %s is in the release manifest but not in the cluster" % (kind, name),
                     fix="run the install again; look at 'helm status' and the events in the support bundle")
    spec = live.get("spec") or {}
    status = live.get("status") or {}
    wanted = spec.get("replicas", expected["replicas"])
    if kind == "Deployment":
        problem = k8s_status.deployment_problem(live)
        if problem:
            return check(label, FAILED, "not Available: %s (%d/%d available)"
                         % (problem, status.get("availableReplicas", 0), wanted),
                         fix="see the pods of %s below and their events and logs in the support bundle" % name,
                         doc=DOC_PODS)
        return check(label, PASSED, "Available, %d/%d replicas" % (status.get("availableReplicas", 0), wanted))
    ready = status.get("readyReplicas", 0)
    if ready < wanted or status.get("updatedReplicas", wanted) < wanted:
        return check(label, FAILED, "%d/%d replicas ready (%d updated)" % (ready, wanted, status.get("updatedReplicas", 0)),
                     fix="see the pods of %s and their events and logs in the support bundle" % name, doc=DOC_PODS)
    return check(label, PASSED, "%d/%d replicas ready" % (ready, wanted))


def _restarts(pod):
    status = pod.get("status") or {}
    return sum(c.get("restartCount", 0) for c in (status.get("containerStatuses") or []) +
               (status.get("initContainerStatuses") or []))


def check_pods(expected, live, pods, restart_threshold):
    """One check per workload over its pods: Running and Ready, restarts under the threshold."""
    label = "pods %s" % expected["name"]
    mine = [p for p in pods if _matches(p, _live_selector(live, expected.get("selector")))]
    mine = [p for p in mine if (p.get("status") or {}).get("phase") != "Succeeded"]
    if not mine:
        if expected["replicas"] == 0:
            return check(label, PASSED, "scaled to 0 replicas")
        return check(label, FAILED, "no pod found for %s %s" % (expected["kind"], expected["name"]),
                     fix="look at the events of the ReplicaSet/StatefulSet (quota, scheduling, image pull)",
                     doc=DOC_PODS)
    bad = []
    for pod in sorted(mine, key=lambda p: p["metadata"]["name"]):
        problem = k8s_status.pod_problem(pod)
        if problem:
            bad.append("%s (%s)" % (pod["metadata"]["name"], problem))
    restarted = ["%s (%d restarts)" % (p["metadata"]["name"], _restarts(p)) for p in mine
                 if _restarts(p) > restart_threshold]
    if bad:
        return check(label, FAILED, "not Running/Ready: %s" % ", ".join(bad),
                     fix="read the pod's events and container logs (support bundle, or kubectl describe / logs)",
                     doc=DOC_PODS)
    if restarted:
        return check(label, FAILED, "restarted more than %d times: %s" % (restart_threshold, ", ".join(restarted)),
                     fix="read the previous container logs (kubectl logs --previous) in the support bundle",
                     doc=DOC_PODS)
    return check(label, PASSED, "%d pod(s) Running and Ready, restarts <= %d" % (len(mine), restart_threshold))


SECRET_CHECKSUM = "checksum/secrets"  # _rollout.secrets.CHECKSUM: the pod annotation of the Secret checksums


def check_secret_rotation(rotation, deployments, statefulsets, pods):
    """After a Secret rotation (``secret_rotation`` of carto.selfhosted.helm_release_upgrade): every pod of each
    workload rolled for it carries the new ``checksum/secrets`` (no pod still runs with the old data). None when no
    workload was rolled for a Secret."""
    rotation = rotation or {}
    rolled = rotation.get("workloads_rolled") or []
    if not rolled:
        return None
    expected = {}
    for component in (rotation.get("components") or {}).values():
        for workload in component.get("workloads") or []:
            expected[workload] = component.get("checksum")
    live_by_kind = {"Deployment": _by_name(deployments), "StatefulSet": _by_name(statefulsets)}
    stale, counted = [], 0
    for workload in rolled:
        kind, _sep, name = workload.partition("/")
        live = live_by_kind.get(kind, {}).get(name)
        selector = _live_selector(live, None)
        if not selector:
            continue
        for pod in pods or []:
            meta = pod.get("metadata") or {}
            if not _matches(pod, selector) or meta.get("deletionTimestamp") or \
                    (pod.get("status") or {}).get("phase") == "Succeeded":
                continue
            counted += 1
            if (meta.get("annotations") or {}).get(SECRET_CHECKSUM) != expected.get(workload):
                stale.append("%s (%s)" % (meta.get("name"), workload))
    changed = rotation.get("secrets_changed") or []
    added = rotation.get("secrets_added") or []
    what = "Secret data changed: %s" % (", ".join(changed) or "none")
    if added:
        what += "; checksums added: %s" % ", ".join(added)
    if stale:
        return check("secret_rotation", FAILED, "%s; pods still on the old Secret data: %s" % (what, ", ".join(stale)),
                     fix="run the install again (it rolls them), or kubectl rollout restart the workload")
    return check("secret_rotation", PASSED, "%s; rolled %s: %d pod(s) on the new data" % (
        what, ", ".join(rolled), counted))


def secret_rotation_summary(rotation):
    """What the report keeps of ``secret_rotation``: names and checksums only."""
    rotation = rotation or {}
    return {"secrets_changed": list(rotation.get("secrets_changed") or []),
            "secrets_added": list(rotation.get("secrets_added") or []),
            "workloads_rolled": list(rotation.get("workloads_rolled") or []),
            "unmanaged": list(rotation.get("unmanaged") or []),
            "checksums": dict((path, component.get("checksum"))
                              for path, component in sorted((rotation.get("components") or {}).items()))}


def check_migrations(loads, pods, container):
    owners = [w for w in loads if container in w["init_containers"]]
    if not owners:
        return check("workspace_migrations", SKIPPED, "no workload of the release has the init container %s"
                     % container)
    found = []
    bad = []
    for pod in pods:
        for status in (pod.get("status") or {}).get("initContainerStatuses") or []:
            if status.get("name") != container:
                continue
            found.append(pod["metadata"]["name"])
            term = (status.get("state") or {}).get("terminated")
            if not term:
                bad.append("%s (not terminated: %s)" % (pod["metadata"]["name"],
                                                        ", ".join((status.get("state") or {}).keys()) or "no state"))
            elif term.get("exitCode") != 0:
                bad.append("%s (exit code %s, %s)" % (pod["metadata"]["name"], term.get("exitCode"),
                                                      term.get("reason", "")))
    if bad:
        return check("workspace_migrations", FAILED, "init container %s did not finish with exit 0: %s"
                     % (container, ", ".join(sorted(bad))),
                     fix="read its logs (kubectl logs <pod> -c %s, also in the support bundle): it creates the "
                         "workspace database and user, usually a database connection or credential problem" % container,
                     doc=DOC_MIGRATIONS)
    if not found:
        return check("workspace_migrations", FAILED, "no pod of %s reports the init container %s"
                     % (", ".join(w["name"] for w in owners), container), doc=DOC_MIGRATIONS)
    return check("workspace_migrations", PASSED, "init container %s terminated with exit code 0 in %s"
                 % (container, ", ".join(sorted(found))), doc=DOC_MIGRATIONS)


def lb_address(service):
    ingress = (((service or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    for item in ingress:
        if item.get("ip") or item.get("hostname"):
            return item.get("ip") or item.get("hostname")
    return None


def dns_record(domain, address):
    """The DNS record to create for ``domain`` pointing at a load balancer address."""
    if not domain or not address:
        return None
    import ipaddress
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return {"name": domain, "type": "CNAME", "value": address, "line": "%s. 300 IN CNAME %s." % (domain, address)}
    rtype = "AAAA" if ip.version == 6 else "A"
    return {"name": domain, "type": rtype, "value": address, "line": "%s. 300 IN %s %s" % (domain, rtype, address)}


def check_exposure(service, expected_type, domain, ingress_enabled=False, ingress=None, ingress_tls=None):
    """Service type as configured; LoadBalancer address + DNS record; Ingress address and TLS.

    Returns (checks, exposure dict).
    """
    checks = []
    exposure = {"service_type": None, "address": None, "dns_record": None}
    if service is None:
        checks.append(check("router_service", FAILED, "the router Service does not exist",
                            fix="run the install again and read 'helm status'", doc=DOC_EXPOSURE))
        return checks, exposure
    actual = (service.get("spec") or {}).get("type", "ClusterIP")
    exposure["service_type"] = actual
    if expected_type and actual != expected_type:
        checks.append(check("router_service", FAILED, "router Service type is %s, configured %s"
                            % (actual, expected_type),
                            fix="run the install again so the Service is updated (router.service.type)",
                            doc=DOC_EXPOSURE))
    else:
        checks.append(check("router_service", PASSED, "router Service type %s" % actual, doc=DOC_EXPOSURE))
    if actual == "LoadBalancer":
        address = lb_address(service)
        exposure["address"] = address
        if address:
            record = dns_record(domain, address)
            exposure["dns_record"] = record
            checks.append(check("load_balancer", PASSED, "external address %s; create the DNS record: %s"
                                % (address, record["line"] if record else "(no domain)"), doc=DOC_ENDPOINT))
        else:
            checks.append(check("load_balancer", FAILED, "the LoadBalancer has no external IP or hostname yet",
                                fix="check the cloud load balancer controller and the Service events "
                                    "(kubectl describe svc); the annotations of router.service must suit the cloud",
                                doc=DOC_ENDPOINT))
    else:
        checks.append(check("load_balancer", SKIPPED, "router Service is %s, not LoadBalancer" % actual))
    if ingress_enabled:
        if ingress is None:
            checks.append(check("ingress", FAILED, "router.ingress.enabled is true but the Ingress does not exist",
                                doc=DOC_INGRESS))
        else:
            address = lb_address(ingress)
            exposure["address"] = exposure["address"] or address
            if address:
                record = dns_record(domain, address)
                exposure["dns_record"] = exposure["dns_record"] or record
                checks.append(check("ingress", PASSED, "Ingress address %s; create the DNS record: %s"
                                    % (address, record["line"] if record else "(no domain)"), doc=DOC_INGRESS))
            else:
                checks.append(check("ingress", FAILED, "the Ingress has no address yet (creation can take several "
                                    "minutes)", fix="kubectl describe ingress %s and read its events"
                                    % ingress["metadata"]["name"], doc=DOC_INGRESS))
        if ingress_tls is None:
            checks.append(check("ingress_certificate", SKIPPED, "no Ingress TLS Secret to check (managed "
                                "certificates are checked by the endpoint check)"))
        else:
            checks.append(ingress_tls)
    return checks, exposure


def endpoint_target(mode, domain, service=None, ingress=None, address="", ingress_enabled=False):
    """How the endpoint check reaches the router: ``{'mode': 'port_forward'|'direct'|'skip', 'address', 'reason'}``.

    ``auto``: the Ingress address when the Ingress is enabled and has one, else the LoadBalancer address,
    else a port-forward (ClusterIP, or no address yet).
    """
    if mode == "skip":
        return {"mode": "skip", "reason": "the endpoint check is disabled (verify_endpoint_mode: skip)"}
    if not domain:
        return {"mode": "skip", "reason": "no CARTO domain (carto_domain) to send as SNI and Host"}
    if mode == "port_forward":
        return {"mode": "port_forward"}
    if address:
        return {"mode": "direct", "address": address}
    found = (lb_address(ingress) if ingress_enabled else None) or \
        (lb_address(service) if ((service or {}).get("spec") or {}).get("type") == "LoadBalancer" else None)
    if found:
        return {"mode": "direct", "address": found}
    if mode == "direct":
        return {"mode": "skip", "reason": "no load balancer or Ingress address to connect to"}
    return {"mode": "port_forward"}


def verify_checks(data):
    """All verification checks. ``data`` keys:

    manifest (str or list, the release manifest), deployments, statefulsets, pods, services, ingresses
    (lists of objects, None when they could not be read), router_service (str name), expected_service_type (str),
    domain (str), ingress_enabled (bool), ingress_tls_check (dict check), restart_threshold (int),
    migrations_container (str), endpoint_checks (list of checks from carto_endpoint_check, or None),
    endpoint_skip_reason (str), secret_rotation (dict, ``secret_rotation`` of helm_release_upgrade, optional).
    """
    checks = []
    loads = workloads(data.get("manifest") or [])
    if not loads:
        checks.append(check("release_manifest", FAILED, "no Deployment or StatefulSet in the release manifest",
                            fix="check that the release exists: helm status / helm list -n <namespace>"))
    else:
        checks.append(check("release_manifest", PASSED, "%d Deployment(s), %d StatefulSet(s) expected from the "
                            "release manifest" % (len([w for w in loads if w["kind"] == "Deployment"]),
                                                  len([w for w in loads if w["kind"] == "StatefulSet"]))))
    deployments = _by_name(data.get("deployments"))
    statefulsets = _by_name(data.get("statefulsets"))
    pods = data.get("pods") or []
    threshold = int(data.get("restart_threshold", 3))
    for expected in loads:
        live = (deployments if expected["kind"] == "Deployment" else statefulsets).get(expected["name"])
        checks.append(check_workload(expected, live))
        if live is not None:
            checks.append(check_pods(expected, live, pods, threshold))
    checks.append(check_migrations(loads, pods, data.get("migrations_container") or "workspace-migrations"))
    rotation = check_secret_rotation(data.get("secret_rotation"), data.get("deployments"), data.get("statefulsets"),
                                     pods)
    if rotation is not None:
        checks.append(rotation)
    services = _by_name(data.get("services"))
    ingresses = _by_name(data.get("ingresses"))
    router = data.get("router_service") or "carto-router"
    exp_checks, exposure = check_exposure(services.get(router), data.get("expected_service_type"),
                                          data.get("domain"), bool(data.get("ingress_enabled")),
                                          ingresses.get(router), data.get("ingress_tls_check"))
    checks.extend(exp_checks)
    if data.get("endpoint_checks"):
        checks.extend(data["endpoint_checks"])
    else:
        checks.append(check("endpoint", SKIPPED, data.get("endpoint_skip_reason") or "the endpoint check did not run"))
    return checks, exposure


def build_report(data, now=None):
    """The verification report: checks, summary, exposure, pods table (JSON-serializable)."""
    checks, exposure = verify_checks(data)
    summary = summarize(checks)
    return {
        "release": data.get("release"), "namespace": data.get("namespace"), "domain": data.get("domain"),
        "verdict": summary["verdict"], "summary": summary, "checks": checks, "exposure": exposure,
        "endpoint": data.get("endpoint") or {},
        "secret_rotation": secret_rotation_summary(data.get("secret_rotation")),
        "pods": k8s_status.pod_table(data.get("pods") or [], now=now),
        "failed": summary["failed"],
    }


__all__ = ["verify_checks", "build_report", "check_secret_rotation", "check_exposure", "check_migrations", "dns_record", "WARNING"]
