# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``carto.selfhosted.customizations``: structured variables -> chart values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# Backends are imported when a filter is called, not here (see module_utils/_lazy.py: the cost per task).
from ansible_collections.carto.selfhosted.plugins.module_utils._lazy import backend as _backend


def customizations(spec, variable_prefix="values_"):
    """Return the ``customizations.yaml`` document for ``spec``; raise listing every problem."""
    if not isinstance(spec, dict):
        raise AnsibleFilterError("carto.selfhosted.customizations expects a dict, got %s" % type(spec).__name__)
    values, problems = _backend("_customizations.build").build_customizations(spec, variable_prefix=variable_prefix)
    if problems:
        raise AnsibleFilterError(
            "%d problem(s) in the structured CARTO variables:\n%s" % (len(problems), "\n".join("- %s" % p for p in problems))
        )
    return values


def autoscaling_enabled(values):
    """True when any component of the chart values has ``autoscaling.enabled: true``."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("carto.selfhosted.autoscaling_enabled expects a dict, got %s" % type(values).__name__)
    return bool(_backend("_customizations.build").autoscaling_components(values))


class FilterModule(object):
    def filters(self):
        return {"customizations": customizations, "autoscaling_enabled": autoscaling_enabled}
