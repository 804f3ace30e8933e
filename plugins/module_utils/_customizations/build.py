# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Private: the scaling section and the whole build of ``customizations.yaml`` (:func:`build`,
:func:`build_customizations`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils._customizations.common import (
    HA_PROFILES, HA_SCALING, PDB_COMPONENTS, SCALED_COMPONENTS, SCALING_MODES, _Builder, _CC, _int, domain_problem,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._customizations.databases import (
    _external_postgresql, _external_redis,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._customizations.exposure import (
    _ingress, _router_service, _tls,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._customizations.integrations import (
    _bigquery_oauth, _buckets, _google_maps, _redshift_imports, _service_account,
)


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
