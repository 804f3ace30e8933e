# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Preflight checks of a CARTO Self-Hosted install, computed from data read before anything changes.

Inputs are plain data (what kubernetes.core.k8s_info / k8s_cluster_info / helm_template return)
so every rule is unit-tested without a cluster. Entry point: :func:`preflight_checks`.

Sources (CARTO's public docs):

* Kubernetes version: the chart's own preflight fails below 1.29 and warns below 1.30
  (carto-chart templates ``carto.validateKubeVersion`` / NOTES).
* Resources: https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, "Requirements" (at least 6 CPUs and 16 GiB of memory
  for the cluster); https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, "High Availability" > "Capacity planning" (the HA
  profiles ask more replicas, and their anti-affinity rules need as many worker nodes).
* Default StorageClass: the internal PostgreSQL / Redis of the chart keep data on
  PersistentVolumes (https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, "Configure external Postgres" explains why
  production should not use them).
* Gateway API: carto-chart values.yaml ``gateway.enabled`` (Gateway API CRDs must be installed).
* metrics-server: https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, "Autoscaling" > "Prerequisites".
* Package files: https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, "Installation package" (carto-values.yaml and
  carto-secrets.yaml are issued together for one customer).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.carto.selfhosted.plugins.module_utils.carto_checks import (
    FAILED, PASSED, SKIPPED, WARNING, check)
from ansible_collections.carto.selfhosted.plugins.module_utils._preflight import api_validation, capacity
from ansible_collections.carto.selfhosted.plugins.module_utils._preflight.quantity import (  # noqa: F401
    cpu_milli, human_cpu, human_memory, parse_quantity, pod_requests)

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

DOC_REQUIREMENTS = "https://docs.carto.com/carto-self-hosted/key-concepts/deployment-requirements"
DOC_HA = "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#high-availability"
DOC_AUTOSCALING = "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#prerequisites (Autoscaling)"
DOC_EXTERNAL_DB = "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#configure-external-postgres"
DOC_PACKAGE = "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, Installation package"
DOC_CHART = "carto-chart (carto/carto 1.287.1) preflight: Kubernetes >= 1.29, 1.30 recommended"
DOC_GATEWAY = "carto-chart values.yaml, gateway.enabled"

MIN_KUBERNETES = (1, 29)
RECOMMENDED_KUBERNETES = (1, 30)
#: https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes: the cluster needs at least 6 CPUs and 16 GiB of memory.
MIN_CPU_MILLI = 6000
MIN_MEMORY_BYTES = 16 * 1024 ** 3

GATEWAY_CRDS = ("gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io",
                "gatewayclasses.gateway.networking.k8s.io")


def parse_version(git_version):
    match = re.match(r"^v?(\d+)\.(\d+)", str(git_version or ""))
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def _get(values, dotted, default=None):
    node = values or {}
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


# --------------------------------------------------------------------------- checks


def check_kubernetes_version(git_version):
    version = parse_version(git_version)
    if version is None:
        return check("kubernetes_version", SKIPPED, "the cluster version could not be read (%r)" % (git_version,))
    if version < MIN_KUBERNETES:
        return check("kubernetes_version", FAILED,
                     "Kubernetes %s is older than %d.%d, the lowest version the chart installs on"
                     % (git_version, MIN_KUBERNETES[0], MIN_KUBERNETES[1]),
                     fix="upgrade the cluster to Kubernetes 1.30 or later", doc=DOC_CHART)
    if version < RECOMMENDED_KUBERNETES:
        return check("kubernetes_version", WARNING,
                     "Kubernetes %s is supported but below the recommended %d.%d"
                     % (git_version, RECOMMENDED_KUBERNETES[0], RECOMMENDED_KUBERNETES[1]),
                     fix="plan an upgrade of the cluster to 1.30 or later", doc=DOC_CHART)
    return check("kubernetes_version", PASSED, "Kubernetes %s (chart needs >= 1.29)" % git_version, doc=DOC_CHART)


def load_manifest(manifest):
    """The objects of a rendered manifest (multi-document YAML text or list of dicts)."""
    if isinstance(manifest, list):
        return [d for d in manifest if isinstance(d, dict)]
    if not manifest:
        return []
    if not HAS_YAML:  # pragma: no cover
        raise ValueError("PyYAML is required to read the rendered manifest")
    return [d for d in yaml.safe_load_all(manifest) if isinstance(d, dict)]


def _anti_affinity(pod_spec):
    """('required'|'preferred'|None) for a pod anti-affinity on the node hostname."""
    anti = ((pod_spec.get("affinity") or {}).get("podAntiAffinity") or {})
    for term in anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []:
        if term.get("topologyKey") == "kubernetes.io/hostname":
            return "required"
    for term in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        if (term.get("podAffinityTerm") or {}).get("topologyKey") == "kubernetes.io/hostname":
            return "preferred"
    return None


def workloads(manifest):
    """Deployments and StatefulSets of a rendered manifest with replicas, requests and anti-affinity.

    Replicas come from ``spec.replicas``, else from the HorizontalPodAutoscaler's minReplicas, else 1.
    """
    objects = load_manifest(manifest)
    hpa_min = {}
    hpa_max = {}
    for obj in objects:
        if obj.get("kind") == "HorizontalPodAutoscaler":
            ref = (obj.get("spec") or {}).get("scaleTargetRef") or {}
            hpa_min[(ref.get("kind"), ref.get("name"))] = int((obj.get("spec") or {}).get("minReplicas") or 1)
            hpa_max[(ref.get("kind"), ref.get("name"))] = int((obj.get("spec") or {}).get("maxReplicas") or 1)
    out = []
    for obj in objects:
        kind = obj.get("kind")
        if kind not in ("Deployment", "StatefulSet"):
            continue
        name = (obj.get("metadata") or {}).get("name")
        spec = obj.get("spec") or {}
        pod_spec = ((spec.get("template") or {}).get("spec")) or {}
        replicas = spec.get("replicas")
        if replicas is None:
            replicas = hpa_min.get((kind, name), 1)
        cpu, mem = pod_requests(pod_spec)
        out.append({
            "kind": kind, "name": name, "replicas": int(replicas),
            "max_replicas": hpa_max.get((kind, name), int(replicas)),
            "cpu_milli": cpu, "memory_bytes": mem,
            "anti_affinity": _anti_affinity(pod_spec),
            "init_containers": [c.get("name") for c in pod_spec.get("initContainers") or []],
            "containers": [c.get("name") for c in pod_spec.get("containers") or []],
            "volume_claim_templates": len(spec.get("volumeClaimTemplates") or []),
            "selector": (spec.get("selector") or {}).get("matchLabels") or {},
            # for the node_capacity fit (_preflight.capacity)
            "pod_spec": pod_spec,
            "pod_labels": ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {},
        })
    return sorted(out, key=lambda w: (w["kind"], w["name"]))


def schedulable_nodes(nodes):
    """Nodes that accept CARTO pods: Ready, not cordoned, no NoSchedule/NoExecute taint."""
    out = []
    for node in nodes or []:
        spec = node.get("spec") or {}
        if spec.get("unschedulable"):
            continue
        if any(t.get("effect") in ("NoSchedule", "NoExecute") for t in spec.get("taints") or []):
            continue
        ready = [c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]
        if not ready or ready[0].get("status") != "True":
            continue
        out.append(node)
    return out


def check_resources(nodes, loads, min_cpu_milli=MIN_CPU_MILLI, min_memory_bytes=MIN_MEMORY_BYTES):
    """Allocatable CPU/memory of the schedulable nodes against the requests of the profile."""
    usable = schedulable_nodes(nodes)
    if nodes is None:
        return [check("cluster_resources", SKIPPED, "the nodes could not be read"),
                check("node_count", SKIPPED, "the nodes could not be read")]
    cpu = mem = 0
    for node in usable:
        alloc = (node.get("status") or {}).get("allocatable") or {}
        cpu += cpu_milli(alloc.get("cpu", 0))
        mem += parse_quantity(alloc.get("memory", 0))
    need_cpu = sum(w["cpu_milli"] * w["replicas"] for w in loads)
    need_mem = sum(w["memory_bytes"] * w["replicas"] for w in loads)
    want_cpu = max(need_cpu, min_cpu_milli)
    want_mem = max(need_mem, min_memory_bytes)
    detail = ("%d schedulable node(s) offer %s CPU and %s; the release requests %s CPU and %s "
              "(%d replicas), the chart asks at least %s CPU and %s"
              % (len(usable), human_cpu(cpu), human_memory(mem), human_cpu(need_cpu), human_memory(need_mem),
                 sum(w["replicas"] for w in loads), human_cpu(min_cpu_milli), human_memory(min_memory_bytes)))
    short = []
    if cpu < want_cpu:
        short.append("CPU short by %s" % human_cpu(want_cpu - cpu))
    if mem < want_mem:
        short.append("memory short by %s" % human_memory(want_mem - mem))
    checks = []
    if short:
        checks.append(check("cluster_resources", FAILED, "%s: %s" % (detail, ", ".join(short)),
                            fix="add nodes or bigger nodes, or pick a smaller profile (fewer replicas)",
                            doc="%s; %s" % (DOC_REQUIREMENTS, DOC_HA)))
    else:
        checks.append(check("cluster_resources", PASSED, detail, doc=DOC_REQUIREMENTS))

    hard = [w for w in loads if w["anti_affinity"] == "required" and w["replicas"] > len(usable)]
    soft = [w for w in loads if w["anti_affinity"] == "preferred" and w["replicas"] > len(usable)]
    hard_scale = [w for w in loads if w["anti_affinity"] == "required" and w["max_replicas"] > len(usable)
                  and w not in hard]
    spread = max([w["replicas"] for w in loads if w["anti_affinity"]] or [0])
    if hard:
        checks.append(check(
            "node_count", FAILED,
            "%d schedulable node(s), but the required pod anti-affinity of %s needs one node per replica"
            % (len(usable), ", ".join("%s %s (%d replicas)" % (w["kind"], w["name"], w["replicas"]) for w in hard)),
            fix="add worker nodes (one per replica, ideally in different zones) or lower the replicas", doc=DOC_HA))
    elif soft or hard_scale:
        checks.append(check(
            "node_count", WARNING,
            "%d schedulable node(s): %s will share nodes, so a node failure stops more than one replica"
            % (len(usable), ", ".join("%s (%d replicas)" % (w["name"], max(w["replicas"], w["max_replicas"]))
                                      for w in soft + hard_scale)),
            fix="add worker nodes for high availability", doc=DOC_HA))
    elif spread:
        checks.append(check("node_count", PASSED, "%d schedulable node(s) for anti-affinity spreading up to %d "
                            "replicas per component" % (len(usable), spread), doc=DOC_HA))
    else:
        checks.append(check("node_count", PASSED if usable else FAILED,
                            "%d schedulable node(s); no anti-affinity rule in the profile" % len(usable),
                            fix=None if usable else "make at least one node schedulable (Ready, not cordoned)"))
    return checks


def internal_databases(values):
    out = []
    if _get(values, "internalPostgresql.enabled", True):
        out.append("internalPostgresql")
    if _get(values, "internalRedis.enabled", True):
        out.append("internalRedis")
    return out


def check_storage_class(values, storage_classes):
    enabled = internal_databases(values)
    if not enabled:
        return check("default_storageclass", SKIPPED, "no internal database enabled (external PostgreSQL and Redis)")
    explicit = _get(values, "global.storageClass") or ""
    if storage_classes is None:
        return check("default_storageclass", SKIPPED, "the StorageClasses could not be read")
    names = [(s.get("metadata") or {}).get("name") for s in storage_classes]
    if explicit:
        if explicit in names:
            return check("default_storageclass", PASSED, "global.storageClass %s exists" % explicit)
        return check("default_storageclass", FAILED,
                     "global.storageClass is %s, but the cluster has no such StorageClass (has: %s)"
                     % (explicit, ", ".join(names) or "none"),
                     fix="create the StorageClass or set global.storageClass to one of the cluster's")
    default = [(s.get("metadata") or {}).get("name") for s in storage_classes
               if ((s.get("metadata") or {}).get("annotations") or {}).get(
                   "storageclass.kubernetes.io/is-default-class") == "true"]
    if default:
        return check("default_storageclass", PASSED, "default StorageClass %s for %s"
                     % (", ".join(default), ", ".join(enabled)))
    return check("default_storageclass", FAILED,
                 "%s enabled, but the cluster has no default StorageClass (StorageClasses: %s): their "
                 "PersistentVolumeClaims stay Pending" % (", ".join(enabled), ", ".join(names) or "none"),
                 fix="annotate a StorageClass with storageclass.kubernetes.io/is-default-class=true, set "
                     "global.storageClass, or use an external PostgreSQL and Redis (carto_external_postgresql, "
                     "carto_external_redis)", doc=DOC_EXTERNAL_DB)


def check_gateway_crds(values, crd_names):
    if not _get(values, "gateway.enabled", False):
        return check("gateway_api_crds", SKIPPED, "gateway.enabled is false")
    if crd_names is None:
        return check("gateway_api_crds", SKIPPED, "the CustomResourceDefinitions could not be read")
    missing = [c for c in GATEWAY_CRDS if c not in set(crd_names)]
    if missing:
        return check("gateway_api_crds", FAILED, "gateway.enabled is true but the Gateway API CRDs %s are missing"
                     % ", ".join(missing),
                     fix="install the Gateway API CRDs (https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api) "
                         "or set gateway.enabled: false", doc=DOC_GATEWAY)
    return check("gateway_api_crds", PASSED, "Gateway API CRDs present", doc=DOC_GATEWAY)


# API groups that a CARTO customization brings, for a missing kind: which customization needs it.
KIND_SOURCES = {
    "cloud.google.com": "the GKE Ingress customization (BackendConfig; carto_ingress / ingress.* values, GKE only)",
    "networking.gke.io": "the GKE Ingress customization (FrontendConfig / ManagedCertificate: carto_ingress, "
                         "GKE only)",
    "gateway.networking.k8s.io": "the Gateway API customization (gateway.enabled): install the Gateway API CRDs",
    "monitoring.coreos.com": "a monitoring customization (the Prometheus Operator's CRDs)",
}
DOC_KINDS = "Kubernetes API discovery (https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api)"


def check_served_kinds(manifest, served):
    """Every apiVersion/kind of the rendered release is served by the cluster (discovery), else helm fails later
    with ``no matches for kind``. ``served``: list of ``"<apiVersion> <Kind>"`` strings (``apps/v1 Deployment``,
    ``v1 Service``), or None when discovery could not be read."""
    if served is None:
        return check("served_kinds", SKIPPED, "the cluster's API discovery could not be read", doc=DOC_KINDS)
    if manifest is None:
        return check("served_kinds", SKIPPED, "no rendered manifest", doc=DOC_KINDS)
    served = set(served)
    missing = {}
    for obj in load_manifest(manifest):
        key = "%s %s" % (obj.get("apiVersion"), obj.get("kind"))
        if obj.get("apiVersion") and obj.get("kind") and key not in served:
            missing.setdefault(key, []).append((obj.get("metadata") or {}).get("name") or "?")
    if not missing:
        return check("served_kinds", PASSED, "the cluster serves every kind of the release (%d objects)"
                     % len(load_manifest(manifest)), doc=DOC_KINDS)
    parts = []
    for key in sorted(missing):
        group = key.split("/", 1)[0] if "/" in key.split(" ", 1)[0] else ""
        source = KIND_SOURCES.get(group, "the values that render it")
        parts.append("%s (%s), brought by %s" % (key, ", ".join(sorted(missing[key])), source))
    return check("served_kinds", FAILED, "the cluster does not serve: %s" % "; ".join(parts),
                 fix="install the CRDs / enable the API on the cluster, or remove the customization that renders "
                     "these kinds", doc=DOC_KINDS)


def check_metrics_server(autoscaling, apiservice, answered, error=None):
    if not autoscaling:
        return check("metrics_server", SKIPPED, "autoscaling is not enabled")
    available = any(c.get("type") == "Available" and c.get("status") == "True"
                    for c in ((apiservice or {}).get("status") or {}).get("conditions") or [])
    if apiservice and available and answered:
        return check("metrics_server", PASSED, "metrics-server APIService Available and serving pod metrics",
                     doc=DOC_AUTOSCALING)
    return check("metrics_server", FAILED,
                 "autoscaling is enabled but metrics-server is not serving metrics (APIService %s; pod metrics: %s)"
                 % ("missing" if not apiservice else ("Available" if available else "not Available"),
                    "answer" if answered else (error or "no answer")),
                 fix="deploy metrics-server (https://github.com/kubernetes-sigs/metrics-server#installation) or "
                     "disable autoscaling", doc=DOC_AUTOSCALING)


def _load_yaml_file(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def _sa_project(secrets):
    raw = _get(secrets, "cartoSecrets.defaultGoogleServiceAccount.value")
    if not raw:
        return None
    try:
        return json.loads(raw).get("project_id")
    except (TypeError, ValueError, AttributeError):
        return None


def check_package(values_file, secrets_file):
    """Both package files present, parseable YAML mappings, and issued for the same customer.

    Never puts secret content in a message: only key names, paths and the project id.
    """
    problems = []
    loaded = {}
    for label, path, key in (("carto_package_values_file", values_file, "cartoConfigValues"),
                             ("carto_package_secrets_file", secrets_file, "cartoSecrets")):
        if not path:
            problems.append("%s is not set" % label)
            continue
        if not os.path.isfile(path):
            problems.append("%s %s does not exist" % (label, path))
            continue
        try:
            data = _load_yaml_file(path)
        except (OSError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            problems.append("%s %s is not valid YAML%s" % (label, path, " (line %d)" % (mark.line + 1) if mark else ""))
            continue
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            problems.append("%s %s has no %s section: is it the right file of the CARTO package?" % (label, path, key))
            continue
        loaded[label] = data
    if problems:
        return check("package_files", FAILED, "; ".join(problems),
                     fix="download carto-values.yaml and carto-secrets.yaml of the installation package from the "
                         "CARTO Self-Hosted portal and set carto_package_values_file / carto_package_secrets_file",
                     doc=DOC_PACKAGE)
    values = loaded["carto_package_values_file"]
    tenant = _get(values, "cartoConfigValues.selfHostedTenantId")
    project = _get(values, "cartoConfigValues.selfHostedGcpProjectId")
    sa_project = _sa_project(loaded["carto_package_secrets_file"])
    if project and sa_project and project != sa_project:
        return check("package_files", FAILED,
                     "the package files are for different customers: carto-values.yaml has selfHostedGcpProjectId "
                     "%s, the service account of carto-secrets.yaml belongs to project %s" % (project, sa_project),
                     fix="use carto-values.yaml and carto-secrets.yaml from the same installation package",
                     doc=DOC_PACKAGE)
    if not sa_project:
        return check("package_files", WARNING, "package files parsed (tenant %s); the customer of carto-secrets.yaml "
                     "could not be compared (no service account project id)" % (tenant or "?"), doc=DOC_PACKAGE)
    return check("package_files", PASSED, "package files parsed, both for tenant %s (project %s), version %s"
                 % (tenant or "?", project, _get(values, "cartoConfigValues.customerPackageVersion", "?")),
                 doc=DOC_PACKAGE)


def preflight_checks(data):
    """All preflight checks at once. ``data`` keys (all optional; a missing input makes its check skipped):

    kubernetes_version (str), nodes (list), manifest (str or list), values (dict), storage_classes (list),
    crd_names (list), served_kinds (list of "<apiVersion> <Kind>"), autoscaling (bool), metrics_apiservice (dict),
    metrics_answered (bool), metrics_error (str), package_values_file, package_secrets_file (str), min_cpu (quantity),
    min_memory (quantity), render_error (str), pods (list of the cluster's unfinished Pods: the ``node_capacity``
    check runs when the key is present), release / release_namespace (str: the release's own pods are not counted
    against free capacity), dry_run (``{"refused", "namespace", "into", "error"}`` of the server-side dry run: the
    ``api_validation`` check).
    """
    data = dict(data or {})
    values = data.get("values") or {}
    if data.get("manifest") is not None:
        data["manifest"] = load_manifest(data["manifest"])  # parsed once for every check below
    checks = []
    if data.get("package_values_file") is not None or data.get("package_secrets_file") is not None:
        checks.append(check_package(data.get("package_values_file"), data.get("package_secrets_file")))
    else:
        checks.append(check("package_files", SKIPPED, "no package file given"))
    checks.append(check_kubernetes_version(data.get("kubernetes_version")))
    if data.get("render_error"):
        checks.append(check("chart_render", FAILED, "helm template failed: %s" % data["render_error"],
                            fix="correct the values named in the error"))
        checks.append(check("cluster_resources", SKIPPED, "the chart could not be rendered"))
        checks.append(check("node_count", SKIPPED, "the chart could not be rendered"))
    elif data.get("manifest") is None:
        checks.append(check("cluster_resources", SKIPPED, "no rendered manifest to size the release"))
        checks.append(check("node_count", SKIPPED, "no rendered manifest to size the release"))
    else:
        loads = workloads(data["manifest"])
        checks.extend(check_resources(
            data.get("nodes"), loads,
            min_cpu_milli=cpu_milli(data.get("min_cpu") or "6"),
            min_memory_bytes=parse_quantity(data.get("min_memory") or "16Gi")))
        if "pods" in data:
            checks.append(capacity.check_node_capacity(
                data.get("nodes"), data.get("pods"), loads, release=data.get("release"),
                namespace=data.get("release_namespace")))
    if data.get("served_kinds") is not None and data.get("manifest") is not None:
        checks.append(check_served_kinds(data["manifest"], data["served_kinds"]))
    if data.get("dry_run") is not None:
        dry = data["dry_run"]
        checks.append(api_validation.check_api_validation(dry.get("refused"), values, namespace=dry.get("namespace"),
                                                          fallback=dry.get("into"), error=dry.get("error")))
    checks.append(check_storage_class(values, data.get("storage_classes")))
    checks.append(check_gateway_crds(values, data.get("crd_names")))
    checks.append(check_metrics_server(bool(data.get("autoscaling")), data.get("metrics_apiservice"),
                                       bool(data.get("metrics_answered")), data.get("metrics_error")))
    return checks
