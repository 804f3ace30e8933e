# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the JSON Schema of the chart's key space (generated from the chart's ``values.yaml``): loading,
chart defaults, validation with every error at once, unknown keys with the closest valid key and keys that
moved between chart versions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import json
import os
import re

try:
    import jsonschema
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without jsonschema
    jsonschema = None
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = exc

from ansible_collections.carto.selfhosted.plugins.module_utils._values.merge import _setter
from ansible_collections.carto.selfhosted.plugins.module_utils._values.problems import (
    CartoValuesError, DOC_ADVANCED, DOC_BUCKETS_PRE, DOC_TIPS, ERROR, WARNING, _type_name, format_path,
    make_problem,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import _is_secret_path


# Keys shown by CARTO's guides that chart values.yaml does not declare: Helm
# ignores them, so they are warnings (with the replacement) and not typos.
DOC_KEYS_NOT_IN_CHART = {
    ("appConfigValues", "importBucket"): (
        "is shown in the Custom Buckets guide but is not a key of this chart version, Helm ignores it",
        "remove it; the chart stores imports in appConfigValues.workspaceImportsBucket",
        DOC_BUCKETS_PRE),
}

# Keys that CARTO's examples or earlier chart versions used and chart 1.287.1 reads under another path
# (found by comparing chart/values.yaml across the versions of github.com/CartoDB/carto-selfhosted-helm).
# Each entry: old key path (a prefix: everything below moves along) -> new key path, and where it comes from.
# An unknown key under an old path is reported with the new path ("moved-key"), when the new path is a key
# of the chart. The Redis -> Valkey switch (carto-selfhosted-helm #842, chart 1.287.1 "internalRedis" comment)
# kept the internalRedis / externalRedis / cartoSecrets.redisPassword key names, so it adds no entry.
KNOWN_MOVES = (
    (("router", "ports"), ("router", "service", "ports"),
     "CARTO's example service_loadBalancer/aws_eks_tls_offloading (carto-selfhosted-helm #268) used "
     "router.ports; the chart reads the router Service ports under router.service.ports"),
    (("appConfigValues", "gcpBucketsProjectId"), ("appConfigValues", "googleCloudStorageProjectId"),
     "renamed in carto-selfhosted-helm #166 (docs.carto.com, Self-hosted, Custom Buckets, Google Cloud Storage)"),
    (("appConfigValues", "gcsBucketsProjectId"), ("appConfigValues", "googleCloudStorageProjectId"),
     "renamed to gcpBucketsProjectId in carto-selfhosted-helm #75, then to googleCloudStorageProjectId in #166"),
    (("appSecrets", "gcpBucketsServiceAccountKey"), ("appSecrets", "googleCloudStorageServiceAccountKey"),
     "renamed in carto-selfhosted-helm #166 (docs.carto.com, Self-hosted, Custom Buckets, Google Cloud Storage)"),
    (("internalRedis", "auth", "existingSecret"), ("internalRedis", "existingSecret"),
     "moved when the chart stopped using the Bitnami Redis subchart (carto-selfhosted-helm #700, chart 1.183.1)"),
)


# ---------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------

_SCHEMA_CACHE = {}
_INDEX_CACHE = {}


def load_schema(path=None):
    """Load the generated values schema (``path`` or the bundled one)."""
    key = path or "<bundled>"
    if key in _SCHEMA_CACHE:
        return _SCHEMA_CACHE[key]
    if path:
        try:
            with open(path) as handle:
                schema = json.load(handle)
        except (IOError, OSError, ValueError) as exc:
            raise CartoValuesError("cannot load values schema %s: %s" % (path, exc))
    else:
        # The schema ships once, as JSON data of the collection, read on the controller by the action plugin of
        # carto.selfhosted.carto_values_render (a module payload would not carry it).
        bundled = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "values_schema.json")
        try:
            with open(bundled) as handle:
                schema = json.load(handle)
        except (IOError, OSError, ValueError) as exc:
            raise CartoValuesError("cannot load the bundled values schema %s: %s. carto.selfhosted.carto_values_render "
                                   "runs through its action plugin on the controller, where the collection's "
                                   "plugins/module_utils/values_schema.json is; give schema= otherwise" % (bundled, exc))
    _SCHEMA_CACHE[key] = schema
    return schema


def chart_label(schema):
    meta = schema.get("x-carto-chart") or {}
    return "%s %s" % (meta.get("name", "carto"), meta.get("version", "unknown"))


_NO_DEFAULT = object()


def _defaults_of(schema):
    if "properties" in schema:
        out = {}
        for key, sub in schema["properties"].items():
            value = _defaults_of(sub)
            if value is not _NO_DEFAULT:
                out[key] = value
        return out
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    return _NO_DEFAULT


def schema_defaults(schema):
    """Rebuild the chart default values from the ``default`` annotations."""
    value = _defaults_of(schema)
    return {} if value is _NO_DEFAULT else value


def _key_index(schema):
    """{key name: [path tuples]} for every structured key of the schema."""
    cached = _INDEX_CACHE.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    index = {}

    def walk(node, path):
        for key, sub in (node.get("properties") or {}).items():
            index.setdefault(key, []).append(path + (key,))
            if isinstance(sub, dict):
                walk(sub, path + (key,))
    walk(schema, ())
    _INDEX_CACHE[id(schema)] = (schema, index)
    return index


def _type_fix(expected, value, path):
    key = path[-1] if path else "value"
    if "boolean" in expected and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return "write %s: %s without quotes (booleans are unquoted)" % (key, value.strip().lower())
    if ("integer" in expected or "number" in expected) and isinstance(value, str) \
            and re.match(r"^\s*-?\d+(\.\d+)?\s*$", value):
        return "write %s: %s without quotes (numbers are unquoted)" % (key, value.strip())
    if "string" in expected and isinstance(value, (bool, int, float)):
        literal = str(value).lower() if isinstance(value, bool) else str(value)
        return 'quote the value: %s: "%s"' % (key, literal)
    if "object" in expected and isinstance(value, (str, list)):
        return "%s is a map: put its subkeys indented under it" % key
    if "array" in expected and not isinstance(value, list):
        return "%s is a list: write its items as '- item' lines" % key
    return "set %s to a %s" % (key, " or ".join(_human_type(t) for t in expected))


def _human_type(json_type):
    return {"object": "map", "array": "list"}.get(json_type, json_type)


def validate_schema(values, schema, provenance=None):
    """Validate merged values against the schema and return ALL problems.

    ``null`` values are accepted anywhere (Helm deletes the default), but a
    ``null`` on a structured section is a warning.  Unknown keys come with the
    closest valid key (same level first, then the same key elsewhere).
    """
    if not HAS_JSONSCHEMA:
        raise CartoValuesError("jsonschema is required: %s" % JSONSCHEMA_IMPORT_ERROR)
    provenance = provenance or {}
    label = chart_label(schema)
    index = _key_index(schema)
    problems = []
    validator = jsonschema.Draft202012Validator(schema)
    for error in validator.iter_errors(values):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            sub = error.schema
            known = sorted((sub.get("properties") or {}).keys())
            for key in sorted((k for k in error.instance if k not in (sub.get("properties") or {})), key=str):
                problems.extend(_unknown_key_problems(path, key, known, index, provenance, label,
                                                      error.instance.get(key)))
            continue
        if error.instance is None:
            continue  # null deletes the chart default, as in Helm
        source, line = _setter(provenance, path)
        if error.validator == "type":
            expected = error.validator_value
            expected = [expected] if isinstance(expected, str) else list(expected)
            shown = "" if _is_secret_path(path) else " (%s)" % _short_repr(error.instance)
            wanted = " or ".join(_human_type(t) for t in expected)
            got = _human_type(_type_name(error.instance))
            problems.append(make_problem(
                ERROR, source, path, "wrong type: expected %s, got %s%s" % (wanted, got, shown),
                _type_fix(expected, error.instance, path), DOC_TIPS, "schema-type", line=line))
        else:
            problems.append(make_problem(
                ERROR, source, path, "invalid value: %s" % error.message,
                "see the chart parameter documentation for %s" % format_path(path),
                DOC_ADVANCED, "schema-%s" % error.validator, line=line))
    problems.extend(_null_section_warnings(values, schema, provenance, ()))
    return problems


def _short_repr(value):
    text = json.dumps(value, default=str) if not isinstance(value, str) else '"%s"' % value
    return text if len(text) <= 60 else text[:57] + "..."


def _leaf_paths(value, path):
    """Key paths of the scalar (or list) leaves below ``path`` in ``value`` (``path`` itself for a scalar)."""
    if isinstance(value, dict) and value:
        out = []
        for key in sorted(value, key=str):
            out.extend(_leaf_paths(value[key], path + (key,)))
        return out
    return [path]


def _all_paths(index):
    return set(p for paths in index.values() for p in paths)


def known_move(path, index=None):
    """``(new path, source)`` when ``path`` (tuple) is at or below an entry of :data:`KNOWN_MOVES`, else None.

    With ``index`` (the schema key index), only a new path that is a key of the chart is returned.
    """
    path = tuple(path)
    for old, new, why in KNOWN_MOVES:
        if path[:len(old)] == old:
            target = new + path[len(old):]
            if index is None or target in _all_paths(index):
                return target, why
    return None


def closest_key(path, index):
    """The chart key path closest to an unknown key path (tuple), anywhere in the key space, or None.

    The same leaf name elsewhere first (the most similar full dotted path wins), then a close leaf name
    (difflib, typos), then the closest full dotted path.
    """
    path = tuple(path)
    leaf = str(path[-1]) if path else ""
    dotted = format_path(path)

    def best(candidates):
        scored = sorted(((difflib.SequenceMatcher(None, dotted, format_path(c)).ratio(), format_path(c), c)
                         for c in candidates if c != path), reverse=True)
        return scored[0][2] if scored else None

    if leaf in index:
        return best(index[leaf])
    close = difflib.get_close_matches(leaf, list(index), n=3, cutoff=0.8)
    if close:
        return best([c for name in close for c in index[name]])
    every = dict((format_path(p), p) for p in _all_paths(index))
    close = difflib.get_close_matches(dotted, list(every), n=1, cutoff=0.75)
    return every[close[0]] if close else None


def _moved_key_problems(path, value, index, provenance, label):
    """One problem per leaf below an unknown key on a path of :data:`KNOWN_MOVES`; None when not a known move."""
    problems = []
    for leaf in _leaf_paths(value, path):
        move = known_move(leaf, index)
        if move is None:
            return None
        target, why = move
        old, new = format_path(leaf), format_path(target)
        for src, line in _unique(provenance.get(leaf) or [_setter(provenance, leaf)]):
            problems.append(make_problem(
                ERROR, src, leaf, "'%s' is not read by chart %s: the key moved to %s (%s); did you mean `%s`"
                % (old, label, new, why, new), "move the value to %s (and remove %s)" % (new, old), DOC_ADVANCED,
                "moved-key", line=line))
    return problems


def _unknown_key_problems(parent, key, known, index, provenance, label, value=None):
    path = parent + (key,)
    records = provenance.get(path) or [_setter(provenance, path)]
    if path in DOC_KEYS_NOT_IN_CHART:
        message, fix, doc = DOC_KEYS_NOT_IN_CHART[path]
        return [make_problem(WARNING, src, path, "'%s' %s (chart %s)" % (key, message, label), fix, doc,
                             "doc-key-not-in-chart", line=line) for src, line in _unique(records)]
    moved = _moved_key_problems(path, value, index, provenance, label)
    if moved:
        return moved
    skey = str(key)
    suggestion = None
    lowered = dict((k.lower(), k) for k in known)
    elsewhere = [p for p in index.get(skey, []) if p[:-1] != parent]
    if skey.lower() in lowered:
        suggestion = lowered[skey.lower()]
    elif not elsewhere:
        close = difflib.get_close_matches(skey, known, n=1, cutoff=0.6)
        if close:
            suggestion = close[0]
    if suggestion is not None:
        message = "unknown key '%s' (not a key of chart %s); did you mean '%s'" % (skey, label, suggestion)
        fix = "rename '%s' to '%s'" % (skey, suggestion)
    elif elsewhere and len(elsewhere) <= 3:
        target = " or ".join(format_path(p) for p in elsewhere)
        message = "unknown key '%s' at this level (not a key of chart %s); did you mean %s" % (skey, label, target)
        fix = "move it under %s" % " or ".join(format_path(p[:-1]) for p in elsewhere)
    else:
        message = "unknown key '%s' (not a key of chart %s); Helm would silently ignore it" % (skey, label)
        fix = "remove it or check the spelling against the chart parameters"
        guesses = []
        for leaf in _leaf_paths(value, path)[:3]:
            target = closest_key(leaf, index)
            if target is not None:
                guesses.append((leaf, target))
        if guesses:
            shown = []
            for leaf, target in guesses:
                if leaf == path:
                    shown.append("`%s`" % format_path(target))
                else:
                    shown.append("`%s` for %s" % (format_path(target), format_path(leaf)))
            message += "; did you mean %s" % " / ".join(shown)
            fix = "move %s" % ", ".join("%s to %s" % (format_path(leaf), format_path(target))
                                        for leaf, target in guesses) + ", or remove it"
    return [make_problem(ERROR, src, path, message, fix, DOC_ADVANCED, "unknown-key", line=line)
            for src, line in _unique(records)]


def _unique(records):
    seen = []
    for record in records:
        if record not in seen:
            seen.append(record)
    return seen


def _null_section_warnings(values, schema, provenance, path):
    problems = []
    if not isinstance(values, dict):
        return problems
    for key, value in values.items():
        sub = (schema.get("properties") or {}).get(key) if isinstance(schema, dict) else None
        if not isinstance(sub, dict):
            continue
        if value is None and sub.get("properties"):
            source, line = _setter(provenance, path + (key,))
            problems.append(make_problem(
                WARNING, source, path + (key,),
                "'%s' is empty (null): Helm deletes all chart defaults below it" % key,
                "remove the empty key, or indent its subkeys under it", DOC_TIPS, "null-section", line=line))
        elif isinstance(value, dict):
            problems.extend(_null_section_warnings(value, sub, provenance, path + (key,)))
    return problems
