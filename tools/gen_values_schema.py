# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Generate the JSON Schema (draft 2020-12) of a CARTO chart's values key space.

Usage::

    python tools/gen_values_schema.py [VALUES_YAML] [--chart-yaml CHART_YAML]
                               [--output JSON] [--check]

Defaults: ``../shared/carto-chart/values.yaml`` relative to the repository
(collection) root, its sibling ``Chart.yaml`` for the chart version, and the
generated ``plugins/module_utils/values_schema.json``, the one copy of the schema: the action plugin of
``carto_values_render`` reads it on the controller.

How the schema is inferred from the chart defaults:

* booleans -> ``boolean``; integers -> ``integer`` (``integer`` or ``string``
  for ports and int-or-string Kubernetes fields); non-empty strings ->
  ``string``; empty strings (placeholders) -> any scalar except boolean;
  lists -> ``array`` of anything.
* maps with keys -> ``object`` with ``additionalProperties: false`` so that
  typos are caught, except the free-form/pass-through maps (annotations,
  labels, nodeSelector, resources, affinity, security contexts, probes,
  sub-charts ``internalPostgresql`` / ``replicated``, ``global``...) which keep
  typed known keys but accept any other key.
* empty maps ``{}`` -> free-form ``object``; annotation and label maps only
  accept string values (Kubernetes rejects anything else).
* ``## @param a.b.c Description`` / ``## @extra`` comments (bitnami
  readme-generator style) become ``description``; chart defaults are kept as
  ``default`` so that tools can rebuild the effective values.

The output is deterministic (sorted keys): regenerate it for every new chart
version (``--check`` fails when the committed files are stale).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import sys

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_VALUES = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "carto-chart", "values.yaml"))
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, "plugins", "module_utils", "values_schema.json")

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Maps whose content is passed through to Kubernetes (or is a list of
# arbitrary names): known keys stay typed, any other key is accepted.
OPEN_MAP_NAMES = frozenset([
    "affinity", "resources", "limits", "requests", "podSecurityContext",
    "containerSecurityContext", "capabilities", "livenessProbe", "readinessProbe",
    "startupProbe", "customLivenessProbe", "customReadinessProbe", "customStartupProbe",
    "lifecycleHooks", "preStop", "exec", "updateStrategy", "labelSelectorsOverride",
    "customHeaders", "nodeAffinityPreset",
])
# String-to-string maps (metadata): any key, string values only.
STRING_MAP_NAMES = frozenset([
    "annotations", "podAnnotations", "labels", "podLabels", "commonLabels",
    "commonAnnotations", "nodeSelector",
])
# Top-level sections handed to sub-charts or shared with them: free-form below.
OPEN_SUBTREES = frozenset(["internalPostgresql", "replicated", "global"])
# Keys whose value may be a list or a map (bitnami charts accept both).
LIST_OR_MAP_NAMES = frozenset(["sidecars", "initContainers"])
# Integer keys that Kubernetes / the chart also accept as strings.
INT_OR_STRING_NAMES = frozenset(["port", "http", "https", "maxUnavailable", "minAvailable"])
INT_OR_STRING_PARENTS = frozenset(["ports", "containerPorts", "nodePorts"])
# Keys read by the chart templates but not declared in values.yaml defaults
# (documented by CARTO's customization examples): parent key -> {key: schema}.
EXTRA_KEYS = {
    "podDisruptionBudget": {
        "minAvailable": {"type": ["integer", "string"],
                         "description": "Minimum number (or percentage) of pods that must stay available."},
        "maxUnavailable": {"type": ["integer", "string"],
                           "description": "Maximum number (or percentage) of pods that can be unavailable."},
    },
}

PARAM_RE = re.compile(r"^\s*##\s*@(param|extra)\s+(\S+)\s*(.*?)\s*$")
INDEX_RE = re.compile(r"\[\d+\]")


def parse_param_comments(text):
    """Return {dotted.path: description} from bitnami ``## @param`` comments."""
    descriptions = {}
    for line in text.splitlines():
        match = PARAM_RE.match(line)
        if not match:
            continue
        path = INDEX_RE.sub("", match.group(2))
        desc = match.group(3).strip()
        if desc and path not in descriptions:
            descriptions[path] = desc
    return descriptions


def _scalar_schema(name, parent, value):
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        if name in INT_OR_STRING_NAMES or parent in INT_OR_STRING_PARENTS:
            return {"type": ["integer", "string"]}
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        if value == "":
            # Placeholder: the chart does not tell the real type.
            return {"type": ["string", "integer", "number"]}
        if name in INT_OR_STRING_NAMES or parent in INT_OR_STRING_PARENTS:
            return {"type": ["string", "integer"]}
        return {"type": "string"}
    # null default: anything goes.
    return {}


def build_schema(value, path, name, parent, descriptions, open_tree=False):
    """Recursively build the schema of one value of the chart defaults."""
    dotted = ".".join(path)
    if isinstance(value, dict):
        if name in LIST_OR_MAP_NAMES:
            schema = {"type": ["object", "array"]}
        elif name in STRING_MAP_NAMES:
            schema = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
        elif not value:
            schema = {"type": "object"}
        else:
            props = {}
            child_open = open_tree or (len(path) == 1 and name in OPEN_SUBTREES)
            for key in value:
                props[str(key)] = build_schema(value[key], path + [str(key)], str(key), name,
                                               descriptions, child_open)
            for key, extra in EXTRA_KEYS.get(name, {}).items():
                props.setdefault(key, dict(extra))
            schema = {"type": "object", "properties": props}
            is_open = open_tree or child_open or name in OPEN_MAP_NAMES
            schema["additionalProperties"] = bool(is_open)
        if "properties" not in schema:
            # Free-form maps keep their default; structured maps rebuild it
            # from their properties.
            schema["default"] = value
    elif isinstance(value, list):
        schema = {"type": "array", "default": value}
        if name in LIST_OR_MAP_NAMES:
            schema["type"] = ["array", "object"]
    else:
        schema = _scalar_schema(name, parent, value)
        schema["default"] = value
    if dotted in descriptions:
        schema["description"] = descriptions[dotted]
    return schema


def read_chart_metadata(chart_yaml):
    if chart_yaml and os.path.exists(chart_yaml):
        with open(chart_yaml) as handle:
            meta = yaml.safe_load(handle) or {}
        return {"name": str(meta.get("name", "carto")), "version": str(meta.get("version", "unknown")),
                "appVersion": str(meta.get("appVersion", ""))}
    return {"name": "carto", "version": "unknown", "appVersion": ""}


def generate(values_path, chart_yaml=None, chart_version=None):
    with open(values_path) as handle:
        text = handle.read()
    values = yaml.safe_load(text) or {}
    if not isinstance(values, dict):
        raise ValueError("%s: top level is not a map" % values_path)
    if chart_yaml is None:
        chart_yaml = os.path.join(os.path.dirname(values_path), "Chart.yaml")
    meta = read_chart_metadata(chart_yaml)
    if chart_version:
        meta["version"] = chart_version
    descriptions = parse_param_comments(text)
    schema = build_schema(values, [], "", "", descriptions)
    schema.pop("description", None)
    schema.update({
        "$schema": SCHEMA_DIALECT,
        "$id": "https://github.com/carto-selfhosted/carto.selfhosted/values-schema/%s/%s.json"
               % (meta["name"], meta["version"]),
        "title": "Helm values of chart %s %s" % (meta["name"], meta["version"]),
        "$comment": ("Generated by tools/gen_values_schema.py from the values.yaml of chart %s %s "
                     "(appVersion %s). Do not edit; regenerate for a new chart version."
                     % (meta["name"], meta["version"], meta["appVersion"])),
        "x-carto-chart": meta,
    })
    return schema


def render_json(schema):
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("values", nargs="?", default=DEFAULT_VALUES, help="chart values.yaml")
    parser.add_argument("--chart-yaml", default=None, help="Chart.yaml (default: next to values.yaml)")
    parser.add_argument("--chart-version", default=None, help="override the chart version")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="JSON schema output path ('-' for stdout)")
    parser.add_argument("--check", action="store_true", help="fail if the outputs are not up to date")
    args = parser.parse_args(argv)

    schema = generate(args.values, args.chart_yaml, args.chart_version)
    rendered = render_json(schema)
    outputs = []
    if args.output == "-":
        sys.stdout.write(rendered)
    else:
        outputs.append((args.output, rendered))

    stale = []
    for path, content in outputs:
        if args.check:
            current = open(path).read() if os.path.exists(path) else None
            if current != content:
                stale.append(path)
            continue
        with open(path, "w") as handle:
            handle.write(content)
    if stale:
        sys.stderr.write("stale generated schema: %s\n" % ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
