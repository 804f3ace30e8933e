# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Filters reading rollout state from kubernetes.core.k8s_info results (see plugins/filter/*.yml for docs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# Backends are imported when a filter is called, not here (see module_utils/_lazy.py: the cost per task).
from ansible_collections.carto.selfhosted.plugins.module_utils._lazy import backend as _backend


def _objects(value, name):
    if not isinstance(value, list):
        raise AnsibleFilterError("carto.selfhosted.%s expects a list of Kubernetes objects, got %s"
                                 % (name, type(value).__name__))
    return value


def format_table(value, columns):
    return _backend("k8s_status").format_table(_objects(value, "format_table"), list(columns))


def pods_with_container(value, container):
    return _backend("k8s_status").pods_with_container(_objects(value, "pods_with_container"), container)


def recent_events(value, count=30):
    return _backend("k8s_status").recent_events(_objects(value, "recent_events"), count)


class FilterModule(object):
    def filters(self):
        return {
            "format_table": format_table,
            "pods_with_container": pods_with_container,
            "recent_events": recent_events,
        }
