# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: Helm-order deep merge of values sources (later wins, maps merge, lists/scalars replace, ``null``
deletes) keeping, for every key path, which source set it (the provenance).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.carto.selfhosted.plugins.module_utils._values.problems import (
    CartoValuesError, MERGED_SOURCE, _type_name,
)


# ---------------------------------------------------------------------------
# Helm-style merge with provenance
# ---------------------------------------------------------------------------

def _drop_subtree(provenance, path):
    size = len(path)
    for key in [k for k in provenance if len(k) > size and k[:size] == path]:
        del provenance[key]


def _merge_into(dst, src, keep_nulls, provenance, path, source, lines):
    for key, value in src.items():
        key_path = path + (key,)
        record = (source, lines.get(key_path)) if provenance is not None else None
        if isinstance(value, dict):
            current = dst.get(key)
            if not isinstance(current, dict):
                current = {}
                if provenance is not None:
                    _drop_subtree(provenance, key_path)
                dst[key] = current
            if provenance is not None:
                provenance.setdefault(key_path, []).append(record)
            _merge_into(current, value, keep_nulls, provenance, key_path, source, lines)
            continue
        if provenance is not None:
            _drop_subtree(provenance, key_path)
        if value is None and not keep_nulls:
            dst.pop(key, None)
            if provenance is not None:
                provenance.pop(key_path, None)
            continue
        dst[key] = copy.deepcopy(value)
        if provenance is not None:
            provenance.setdefault(key_path, []).append(record)


def merge_with_provenance(sources, keep_nulls=False, base=None):
    """Merge ``sources`` (list of ``(name, dict[, lines])``) like ``helm -f a -f b``.

    Later sources win; maps merge recursively; lists and scalars replace;
    ``null`` deletes the key (``keep_nulls=True`` keeps it instead, which is
    what a single file handed to Helm needs to still delete chart defaults).
    ``base`` (e.g. chart defaults) is merged first without provenance.

    Returns ``(merged, provenance)`` with ``provenance[path_tuple]`` the list
    of ``(source, line)`` that set that key, in order (last one wins).
    """
    merged = copy.deepcopy(base) if isinstance(base, dict) else {}
    provenance = {}
    for entry in sources:
        name, data = entry[0], entry[1]
        lines = entry[2] if len(entry) > 2 and entry[2] else {}
        if data is None:
            continue
        if not isinstance(data, dict):
            raise CartoValuesError("values source %s is not a map" % name)
        _merge_into(merged, data, keep_nulls, provenance, (), name, lines)
    return merged, provenance


def merge_values(values_list, keep_nulls=False):
    """Helm-style deep merge of a list of dicts (later wins, ``null`` deletes)."""
    if isinstance(values_list, dict):
        values_list = [values_list]
    sources = []
    for index, item in enumerate(values_list or []):
        if item is None:
            continue
        if not isinstance(item, dict):
            raise CartoValuesError("item %d of the values list is a %s, not a map" % (index, _type_name(item)))
        sources.append(("item %d" % index, item))
    return merge_with_provenance(sources, keep_nulls=keep_nulls)[0]


def _setter(provenance, path):
    """Last ``(source, line)`` that set ``path`` or its nearest ancestor."""
    path = tuple(path)
    while path:
        records = provenance.get(path)
        if records:
            return records[-1]
        path = path[:-1]
    return (MERGED_SOURCE, None)


def _user_set(provenance, path):
    return bool(provenance.get(tuple(path)))
