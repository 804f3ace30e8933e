# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Private: Kubernetes resource quantities (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/)
and the requests of a pod spec, for the preflight's sizing (carto_preflight) and node fit (_preflight.capacity)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_SUFFIX = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4, "Pi": 1024 ** 5, "Ei": 1024 ** 6,
           "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "P": 1e15, "E": 1e18}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|K|M|G|T|P|E)?$")


def parse_quantity(value):
    """A Kubernetes quantity (``500m``, ``2``, ``16Gi``, ``1e3``) as a float; ValueError when malformed."""
    if isinstance(value, (int, float)):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError("not a Kubernetes quantity: %r" % (value,))
    return float(match.group(1)) * _SUFFIX[match.group(2) or ""]


def cpu_milli(value):
    return int(round(parse_quantity(value) * 1000))


def human_cpu(milli):
    return ("%g" % (milli / 1000.0)) if milli % 1000 == 0 else "%dm" % milli


def human_memory(num):
    return "%.1f GiB" % (num / 1024.0 ** 3)


def pod_requests(pod_spec):
    """(cpu in millicores, memory in bytes) a pod spec requests: the sum of its containers, or its largest init
    container when that is larger (init containers run before the others, as the scheduler counts them)."""
    cpu = mem = 0
    for container in (pod_spec.get("containers") or []):
        req = (container.get("resources") or {}).get("requests") or {}
        cpu += cpu_milli(req["cpu"]) if "cpu" in req else 0
        mem += parse_quantity(req["memory"]) if "memory" in req else 0
    # init containers run before the others: the pod needs the larger of both
    init_cpu = init_mem = 0
    for container in (pod_spec.get("initContainers") or []):
        req = (container.get("resources") or {}).get("requests") or {}
        init_cpu = max(init_cpu, cpu_milli(req["cpu"]) if "cpu" in req else 0)
        init_mem = max(init_mem, parse_quantity(req["memory"]) if "memory" in req else 0)
    return max(cpu, init_cpu), max(mem, init_mem)
