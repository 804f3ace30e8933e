# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Filters reading rollout state from kubernetes.core.k8s_info results (see plugins/filter/*.yml for docs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.carto.selfhosted.plugins.module_utils import k8s_status


def _objects(value, name):
    if not isinstance(value, list):
        raise AnsibleFilterError("carto.selfhosted.%s expects a list of Kubernetes objects, got %s"
                                 % (name, type(value).__name__))
    return value


def deployments_not_available(value):
    return k8s_status.deployments_not_available(_objects(value, "deployments_not_available"))


def pods_not_ready(value):
    return k8s_status.pods_not_ready(_objects(value, "pods_not_ready"))


def pod_table(value):
    return k8s_status.pod_table(_objects(value, "pod_table"))


def format_table(value, columns):
    return k8s_status.format_table(_objects(value, "format_table"), list(columns))


def pods_with_container(value, container):
    return k8s_status.pods_with_container(_objects(value, "pods_with_container"), container)


def recent_events(value, count=30):
    return k8s_status.recent_events(_objects(value, "recent_events"), count)


class FilterModule(object):
    def filters(self):
        return {
            "deployments_not_available": deployments_not_available,
            "pods_not_ready": pods_not_ready,
            "pod_table": pod_table,
            "format_table": format_table,
            "pods_with_container": pods_with_container,
            "recent_events": recent_events,
        }
