# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Filters for CARTO Helm values: values_merge, values_file_sources, values_input_files.

Documentation lives in the per-filter YAML files next to this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# Backends are imported when a filter is called, not here (see module_utils/_lazy.py: the cost per task).
from ansible_collections.carto.selfhosted.plugins.module_utils._lazy import backend as _backend


def values_merge(values_list, keep_nulls=False):
    """Helm-style deep merge of a list of dicts (later wins, null deletes)."""
    if values_list is None:
        return {}
    if not isinstance(values_list, (list, tuple, dict)):
        raise AnsibleFilterError("values_merge expects a list of dicts, got %s" % type(values_list).__name__)
    merge, problems = _backend("_values.merge"), _backend("_values.problems")
    try:
        return merge.merge_values(list(values_list) if not isinstance(values_list, dict) else values_list,
                                  keep_nulls=bool(keep_nulls))
    except problems.CartoValuesError as exc:
        raise AnsibleFilterError("values_merge: %s" % exc)


def values_file_sources(paths):
    """Turn values file paths into ``carto_values_validate`` sources (``name`` and ``path``), empty paths skipped."""
    if paths is None:
        return []
    if isinstance(paths, str) or not isinstance(paths, (list, tuple)):
        raise AnsibleFilterError("values_file_sources expects a list of paths, got %s" % type(paths).__name__)
    out = []
    for path in paths:
        if not isinstance(path, str):
            raise AnsibleFilterError("values_file_sources: %r is not a path" % (path,))
        if path:
            out.append({"name": path, "path": path})
    return out


def values_input_files(variables):
    """``[{variable, path}]`` of the file paths in ``{inventory variable: value}`` (for carto_values_validate)."""
    if variables is None:
        return []
    if not isinstance(variables, dict):
        raise AnsibleFilterError("values_input_files expects a dict of inventory variables, got %s"
                                 % type(variables).__name__)
    return _backend("_values.validate").input_files(variables)


class FilterModule(object):
    """CARTO Helm values filters."""

    def filters(self):
        return {
            "values_merge": values_merge,
            "values_file_sources": values_file_sources,
            "values_input_files": values_input_files,
        }
