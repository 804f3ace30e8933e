# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Validation of CARTO Self-Hosted Helm values before anything changes in the cluster.

Everything here is pure Python (PyYAML + jsonschema, controller-side), shared by
the ``carto.selfhosted.carto_values_validate`` module and the ``values_*``
filters.  Public API:

* :func:`load_yaml_text` / :func:`load_yaml_file` -- YAML loading that reports
  duplicate keys (both line numbers) and keeps the line of every key.
* :func:`merge_values` / :func:`merge_with_provenance` -- Helm-order deep merge
  (later wins, maps merge, lists/scalars replace, ``null`` deletes) keeping,
  for every key path, which source set it.
* :func:`load_schema`, :func:`schema_defaults`, :func:`validate_schema` -- the
  generated JSON Schema of the chart key space (all errors, closest valid key).
* :func:`check_rules` -- cross-field rules from CARTO's documentation.
* :func:`secret_references`, :func:`check_secret_references`,
  :func:`redact_values`, :func:`secret_values` -- Secrets handling.
* :func:`validate_sources` -- everything above in one call; returns a dict with
  ``problems``, ``errors``, ``warnings``, ``referenced_secrets``,
  ``merged_values`` and ``merged_values_redacted``.

Every problem is a dict::

    {"severity": "error" | "warning", "source": "<file or variable>",
     "line": <int or None>, "path": "<dotted.key.path>", "message": "...",
     "fix": "...", "doc": "<doc file>#<section>", "rule": "<rule id>"}

and :func:`format_problem` renders ``<source>: <key.path>: <message>. Fix: <fix>``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import difflib
import json
import os
import re
import zlib

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without PyYAML
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = exc

try:
    import jsonschema
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without jsonschema
    jsonschema = None
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = exc

try:
    from ansible_collections.carto.selfhosted.plugins.module_utils import tls_chain as _tls_chain
except ImportError:  # pragma: no cover - part of the collection
    _tls_chain = None

try:
    from ansible_collections.carto.selfhosted.plugins.module_utils import carto_values_schema as _bundled
except ImportError:  # pragma: no cover - the generated module is part of the collection
    _bundled = None

ERROR = "error"
WARNING = "warning"
MERGED_SOURCE = "<merged values>"
REDACTED = "<redacted>"

# --- documentation references (files of CARTO's guides, GitHub-style anchors) ---
_CUST = "carto-customizations.md"
_ACCESS = "carto-access-outside-cluster.md"
_INSTALL = "carto-kubernetes-install.md"
DOC_TIPS = _CUST + "#tips-for-creating-the-customization-yaml-file"
DOC_ADVANCED = _CUST + "#advanced-configuration"
DOC_APPLY = _CUST + "#how-to-apply-the-configurations"
DOC_DOMAIN = _CUST + "#configure-the-domain-of-your-self-hosted"
DOC_ACCESS = _ACCESS + "#access-to-carto-from-outside-the-cluster"
DOC_LB = _CUST + "#expose-carto-with-the-carto-router-service-in-loadbalancer-mode"
DOC_INGRESS = _ACCESS + "#expose-carto-with-ingress-and-your-own-tls-certificates"
DOC_INGRESS_MANAGED = _ACCESS + "#expose-carto-with-ingress-and-gcp-ssl-managed-certificates"
DOC_TLS = _CUST + "#configure-tls-termination-in-the-carto-router-service"
DOC_DISABLE_HTTPS = _CUST + "#disable-internal-https"
DOC_OWN_TLS = _CUST + "#use-your-own-tls-certificate"
DOC_PG = _CUST + "#configure-external-postgres"
DOC_PG_SECRETS = _CUST + "#setup-postgres-creating-secrets"
DOC_PG_AUTO = _CUST + "#setup-postgres-with-automatic-secret-creation"
DOC_PG_AZURE = _CUST + "#setup-azure-postgres"
DOC_INSTALL_DB = _INSTALL + "#external-database"
DOC_REDIS = _CUST + "#configure-external-redis"
DOC_REDIS_SECRETS = _CUST + "#setup-redis-creating-secrets"
DOC_PG_SSL_CA = _CUST + "#configure-postgres-ssl-with-custom-ca"
DOC_REDIS_TLS = _CUST + "#configure-redis-tls"
DOC_BUCKETS = _CUST + "#custom-buckets"
DOC_BUCKETS_PRE = _CUST + "#pre-requisites"
DOC_GCS = _CUST + "#google-cloud-storage"
DOC_S3 = _CUST + "#aws-s3"
DOC_AZURE = _CUST + "#azure-storage"
DOC_SCALING = _CUST + "#enable-static-scaling"
DOC_AUTOSCALING = _CUST + "#enable-carto-autoscaling-feature"
DOC_GMAPS = _CUST + "#google-maps"

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

_SECRET_NAME_RE = re.compile(
    r"(password|passwd|secret|token|apikey|api_key|privatekey|private_key|saltkey|masterkey|sdkkey"
    r"|accesskey|connectionstring|credentials)", re.I)
_SECRET_SECTIONS = ("appSecrets", "cartoSecrets")


class CartoValuesError(Exception):
    """Raised for unusable input (not for validation problems)."""


# ---------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------

def format_path(path):
    """Render a key path tuple as ``a.b[0]."dotted.key"``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += "[%d]" % part
            continue
        part = str(part)
        if "." in part or " " in part or part == "":
            part = '"%s"' % part
        out += ("." + part) if out else part
    return out


def make_problem(severity, source, path, message, fix, doc, rule, line=None):
    if isinstance(path, (tuple, list)):
        path = format_path(path)
    return {
        "severity": severity,
        "source": source,
        "line": line,
        "path": path,
        "message": message,
        "fix": fix,
        "doc": doc,
        "rule": rule,
    }


def format_problem(problem):
    """``<source>[:line]: <key.path>: <message>. Fix: <fix>``."""
    source = problem.get("source") or MERGED_SOURCE
    if problem.get("line"):
        source = "%s:%s" % (source, problem["line"])
    text = "%s: %s: %s" % (source, problem.get("path") or "<top>", problem.get("message", "").rstrip("."))
    if problem.get("fix"):
        text += ". Fix: %s" % problem["fix"].rstrip(".")
    if problem.get("doc"):
        text += " (see %s)" % problem["doc"]
    return text


def format_problems(problems):
    return "\n".join(format_problem(p) for p in problems)


# ---------------------------------------------------------------------------
# YAML loading with duplicate keys and line numbers
# ---------------------------------------------------------------------------

def _require_yaml():
    if not HAS_YAML:
        raise CartoValuesError("PyYAML is required: %s" % YAML_IMPORT_ERROR)


if HAS_YAML:
    class _MarkLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        """SafeLoader; the node tree is walked before construction for marks."""
else:  # pragma: no cover
    _MarkLoader = None


def _walk_nodes(loader, node, path, lines, problems, source, stack):
    if isinstance(node, yaml.MappingNode):
        if id(node) in stack:
            return
        stack = stack | frozenset([id(node)])
        first = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            try:
                key = loader.construct_object(key_node, deep=True)
            except yaml.YAMLError:
                key = key_node.value
            line = key_node.start_mark.line + 1
            key_path = path + (key,)
            if key in first:
                problems.append(make_problem(
                    ERROR, source, key_path,
                    "duplicate key '%s' at line %d, already defined at line %d; Helm silently keeps only "
                    "the last one" % (key, line, first[key]),
                    "keep a single '%s' key and put all its subkeys under it (lines %d and %d)"
                    % (key, first[key], line),
                    DOC_TIPS, "duplicate-key", line=line))
            else:
                first[key] = line
            lines[key_path] = line
            _walk_nodes(loader, value_node, key_path, lines, problems, source, stack)
    elif isinstance(node, yaml.SequenceNode):
        if id(node) in stack:
            return
        stack = stack | frozenset([id(node)])
        for index, item in enumerate(node.value):
            lines.setdefault(path + (index,), item.start_mark.line + 1)
            _walk_nodes(loader, item, path + (index,), lines, problems, source, stack)


def load_yaml_text(text, source="<string>"):
    """Parse one YAML document.

    Returns ``(data, problems, lines)``: ``data`` is the parsed mapping (``{}``
    for an empty document, ``None`` when unusable), ``problems`` lists
    duplicate keys and syntax errors, ``lines`` maps key path tuples to
    1-based line numbers.
    """
    _require_yaml()
    problems = []
    lines = {}
    loader = _MarkLoader(text)
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                return {}, problems, lines
            _walk_nodes(loader, node, (), lines, problems, source, frozenset())
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problems.append(make_problem(
                ERROR, source, "", "invalid YAML: %s" % str(exc).replace("\n", " "),
                "fix the YAML syntax (indentation with spaces, quotes, one document per file)",
                DOC_TIPS, "yaml-syntax", line=line))
            return None, problems, lines
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(make_problem(
            ERROR, source, "", "the top level of a values file must be a map of keys, got %s"
            % _type_name(data), "start the file with top-level keys such as 'appConfigValues:'",
            DOC_APPLY, "yaml-not-a-map", line=1))
        return None, problems, lines
    return data, problems, lines


def load_yaml_file(path, source=None):
    """:func:`load_yaml_text` for a file; ``source`` defaults to the path."""
    source = source or path
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (IOError, OSError, UnicodeDecodeError) as exc:
        return None, [make_problem(ERROR, source, "", "cannot read values file: %s" % exc,
                                   "check the path and that the file is UTF-8 YAML", DOC_APPLY,
                                   "file-unreadable")], {}
    return load_yaml_text(text, source)


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
    elif _bundled is not None:
        schema = json.loads(zlib.decompress(base64.b64decode("".join(_bundled.SCHEMA_ZLIB_B64))).decode("utf-8"))
    else:  # pragma: no cover
        bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), "values_schema.json")
        with open(bundled) as handle:
            schema = json.load(handle)
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


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


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


# ---------------------------------------------------------------------------
# secrets
# ---------------------------------------------------------------------------

def _is_secret_path(path):
    parts = [p for p in path if isinstance(p, str)]
    if not parts:
        return False
    if parts[0] in _SECRET_SECTIONS and parts[-1] == "value" and len(parts) == 3:
        return True
    last = parts[-1]
    low = last.lower()
    if low.startswith("existingsecret") or low in ("extraenvvarssecret",) or low.endswith("secretname"):
        return False
    if low.endswith("key") and low.startswith("existing"):
        return False
    return bool(_SECRET_NAME_RE.search(last))


def is_secret_path(path):
    """True when the key path (tuple or dotted string) holds secret material."""
    if isinstance(path, str):
        path = tuple(path.split("."))
    return _is_secret_path(tuple(path))


def _iter_secret_leaves(values, path=()):
    if isinstance(values, dict):
        for key, value in values.items():
            key_path = path + (key,)
            if isinstance(value, (dict, list)):
                yield from _iter_secret_leaves(value, key_path)
            elif _is_secret_path(key_path) and value not in (None, "") and not isinstance(value, bool):
                yield key_path, value
    elif isinstance(values, list):
        for index, item in enumerate(values):
            if isinstance(item, dict) and isinstance(item.get("name"), str) and "value" in item \
                    and _SECRET_NAME_RE.search(item["name"]) and item["value"] not in (None, ""):
                yield path + (index, "value"), item["value"]
            if isinstance(item, (dict, list)):
                yield from _iter_secret_leaves(item, path + (index,))


def secret_values(values):
    """All secret-looking scalar values (strings), e.g. to feed ``no_log_values``."""
    out = set()
    for _path, value in _iter_secret_leaves(values):
        text = str(value)
        out.add(text)
        for line in text.splitlines():
            if len(line.strip()) >= 8:
                out.add(line.strip())
    return out


def redact_values(values, placeholder=REDACTED):
    """Deep copy of ``values`` with secret-looking values replaced by ``placeholder``."""
    result = copy.deepcopy(values)
    for path, _value in list(_iter_secret_leaves(result)):
        node = result
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = placeholder
    return result


def _get(values, path, default=None):
    node = values
    for part in path.split(".") if isinstance(path, str) else path:
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _nonempty(value):
    return value not in (None, "") and not (isinstance(value, (dict, list)) and not value)


def _add_ref(refs, name, keys, path, source, secret_type=None):
    if not isinstance(name, str) or not name.strip():
        return
    entry = refs.setdefault(name, {"name": name, "keys": [], "paths": [], "sources": [], "type": secret_type})
    for key in keys:
        if _nonempty(key) and key not in entry["keys"]:
            entry["keys"].append(str(key))
    if path not in entry["paths"]:
        entry["paths"].append(path)
    if source and source not in entry["sources"]:
        entry["sources"].append(source)
    if secret_type and not entry.get("type"):
        entry["type"] = secret_type


def secret_references(values, provenance=None):
    """Secrets referenced by effective values (chart defaults applied).

    Returns a list (sorted by name) of ``{"name", "keys", "paths", "sources",
    "type"}``; ``keys`` are the data keys the chart reads (empty when the
    chart reads the whole Secret, e.g. image pull secrets).
    """
    provenance = provenance or {}
    refs = {}

    def src(path):
        return _setter(provenance, tuple(path.split(".")))[0] if provenance else None

    for section in _SECRET_SECTIONS:
        for item, conf in sorted((_get(values, section) or {}).items()):
            if not isinstance(conf, dict):
                continue
            existing = conf.get("existingSecret") or {}
            if isinstance(existing, dict) and _nonempty(existing.get("name")) and not _nonempty(conf.get("value")):
                path = "%s.%s.existingSecret.name" % (section, item)
                _add_ref(refs, existing["name"], [existing.get("key")], path, src(path))
    if _get(values, "internalPostgresql.enabled") is False:
        path = "externalPostgresql.existingSecret"
        if not _get(values, "externalPostgresql.awsEksPodIdentityEnabled"):
            _add_ref(refs, _get(values, path), [
                _get(values, "externalPostgresql.existingSecretPasswordKey"),
                _get(values, "externalPostgresql.existingSecretAdminPasswordKey"),
                _get(values, "externalPostgresql.existingSecretAuthApiPasswordKey")], path, src(path))
    else:
        path = "internalPostgresql.auth.existingSecret"
        _add_ref(refs, _get(values, path), [], path, src(path))
    if _get(values, "internalRedis.enabled") is False:
        path = "externalRedis.existingSecret"
        _add_ref(refs, _get(values, path), [_get(values, "externalRedis.existingSecretPasswordKey")], path, src(path))
    if _get(values, "tlsCerts.autoGenerate") is False or _get(values, "router.ingress.tls") is True:
        path = "tlsCerts.existingSecret.name"
        _add_ref(refs, _get(values, path), [_get(values, "tlsCerts.existingSecret.certKey"),
                                            _get(values, "tlsCerts.existingSecret.keyKey")],
                 path, src(path), "kubernetes.io/tls")
    for index, secret in enumerate(_get(values, "global.imagePullSecrets") or []):
        name = secret.get("name") if isinstance(secret, dict) else secret
        path = "global.imagePullSecrets[%d]" % index
        _add_ref(refs, name, [], path, src("global.imagePullSecrets"), "kubernetes.io/dockerconfigjson")
    for component, conf in sorted(values.items()):
        if not isinstance(conf, dict):
            continue
        for key in ("extraEnvVarsSecret", "existingSecret"):
            if component in ("externalPostgresql", "externalRedis") or not isinstance(conf.get(key), str):
                continue
            path = "%s.%s" % (component, key)
            _add_ref(refs, conf.get(key), [], path, src(path))
        image = conf.get("image")
        if isinstance(image, dict):
            for index, secret in enumerate(image.get("pullSecrets") or []):
                name = secret.get("name") if isinstance(secret, dict) else secret
                path = "%s.image.pullSecrets[%d]" % (component, index)
                _add_ref(refs, name, [], path, src("%s.image.pullSecrets" % component),
                         "kubernetes.io/dockerconfigjson")
    for index, tls in enumerate(_get(values, "router.ingress.extraTls") or []):
        if isinstance(tls, dict):
            path = "router.ingress.extraTls[%d].secretName" % index
            _add_ref(refs, tls.get("secretName"), [], path, src("router.ingress.extraTls"), "kubernetes.io/tls")
    return [refs[name] for name in sorted(refs)]


def check_secret_references(references, existing):
    """Problems for referenced Secrets (or keys) missing from ``existing``.

    ``existing`` maps Secret name -> list of data keys (Secrets that exist or
    that the play will create before Helm runs).
    """
    problems = []
    existing = existing or {}
    for ref in references:
        source = (ref.get("sources") or [MERGED_SOURCE])[0] or MERGED_SOURCE
        path = ref["paths"][0]
        if ref["name"] not in existing:
            problems.append(make_problem(
                ERROR, source, path, "Secret '%s' is referenced but does not exist (nor is it created by this play)"
                % ref["name"],
                "create it first, e.g. kubectl create secret generic %s -n <namespace>%s, or fix the name"
                % (ref["name"], "".join(" --from-literal=%s=..." % k for k in ref["keys"])),
                DOC_PG_SECRETS if path.startswith("externalPostgresql") else
                DOC_REDIS_SECRETS if path.startswith("externalRedis") else
                DOC_OWN_TLS if path.startswith("tlsCerts") else DOC_APPLY, "secret-missing"))
            continue
        have = existing.get(ref["name"]) or []
        for key in ref["keys"]:
            if key not in have:
                problems.append(make_problem(
                    ERROR, source, path, "Secret '%s' has no key '%s' (it has: %s)"
                    % (ref["name"], key, ", ".join(sorted(have)) or "no keys"),
                    "add the key '%s' to the Secret or point the values at an existing key" % key,
                    DOC_APPLY, "secret-key-missing"))
    return problems


# ---------------------------------------------------------------------------
# cross-field rules
# ---------------------------------------------------------------------------

_DOMAIN_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.I)
_STORAGE_PROVIDERS = ("gcp", "s3", "azure-blob")
_PROVIDER_ALIASES = {"aws": "s3", "amazon": "s3", "s3": "s3", "azure": "azure-blob", "azure_blob": "azure-blob",
                     "azureblob": "azure-blob", "blob": "azure-blob", "gcs": "gcp", "google": "gcp",
                     "gcp": "gcp", "azure-blob": "azure-blob"}
_PROVIDER_DOC = {"gcp": DOC_GCS, "s3": DOC_S3, "azure-blob": DOC_AZURE}
_PROVIDER_ONLY_KEYS = {
    "gcp": ("appConfigValues.googleCloudStorageProjectId", "appSecrets.googleCloudStorageServiceAccountKey"),
    "s3": ("appConfigValues.awsS3Region", "appSecrets.awsAccessKeyId", "appSecrets.awsAccessKeySecret"),
    "azure-blob": ("appConfigValues.azureStorageAccount", "appSecrets.azureStorageAccessKey"),
}
_STORAGE_TRIGGERS = ("appConfigValues.storageProvider", "appConfigValues.workspaceImportsBucket",
                     "appConfigValues.workspaceThumbnailsBucket", "appConfigValues.thumbnailsBucketExternalURL",
                     "appConfigValues.googleCloudStorageProjectId", "appConfigValues.awsS3Region",
                     "appConfigValues.azureStorageAccount", "appConfigValues.importBucket",
                     "appSecrets.googleCloudStorageServiceAccountKey", "appSecrets.awsAccessKeyId",
                     "appSecrets.awsAccessKeySecret", "appSecrets.azureStorageAccessKey")
_GKE_INGRESS_CLASSES = ("gce", "gce-internal")
_TLS_OFFLOAD_ANNOTATIONS = (
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    "service.beta.kubernetes.io/oci-load-balancer-ssl-ports",
    "service.beta.kubernetes.io/do-loadbalancer-certificate-id",
)
# annotation -> (unit name, seconds per unit, minimum in that unit, cloud)
_LB_TIMEOUT_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout": ("seconds", 1, 605, "AWS"),
    "service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout": ("minutes", 60, 10, "Azure"),
}
_INLINE_SECRET_FIX = ("move it to a Kubernetes Secret and reference it with existingSecret, or keep this "
                      "file/variable encrypted with Ansible Vault")


class _Ctx(object):
    """Helper bundling the values, provenance and problem list for the rules."""

    def __init__(self, user, effective, provenance):
        self.user = user
        self.values = effective
        self.provenance = provenance
        self.problems = []

    def get(self, path, default=None):
        return _get(self.values, path, default)

    def is_set(self, path):
        return _user_set(self.provenance, tuple(path.split(".")))

    def touched(self, path):
        """True when a source set ``path`` or anything below it."""
        tpath = tuple(path.split("."))
        size = len(tpath)
        return any(key[:size] == tpath for key in self.provenance)

    def setter(self, *paths):
        """(source, line) of the first of ``paths`` set by a source."""
        for path in paths:
            tpath = tuple(path.split(".")) if isinstance(path, str) else tuple(path)
            records = self.provenance.get(tpath)
            if records:
                return records[-1]
        return _setter(self.provenance, tuple(paths[0].split(".")) if paths and isinstance(paths[0], str)
                       else ())

    def add(self, severity, path, message, fix, doc, rule, blame=None):
        blame = blame or [path]
        source, line = self.setter(*blame)
        self.problems.append(make_problem(severity, source, path, message, fix, doc, rule, line=line))


def _check_domain(ctx, domain_required):
    path = "appConfigValues.selfHostedDomain"
    domain = ctx.get(path)
    if not ctx.is_set(path):
        if domain_required:
            ctx.add(ERROR, path, "the domain is not set (the chart default '%s' is a placeholder)" % domain,
                    'set appConfigValues.selfHostedDomain: "carto.example.com" (a domain you own)', DOC_DOMAIN,
                    "domain-required")
        return
    if not isinstance(domain, str) or not domain.strip():
        ctx.add(ERROR, path, "the domain is empty", 'set appConfigValues.selfHostedDomain: "carto.example.com"',
                DOC_DOMAIN, "domain-fqdn")
        return
    text = domain.strip()
    host = text
    reasons = []
    if "://" in host:
        reasons.append("a scheme")
        host = host.split("://", 1)[1]
    if "/" in host:
        if host.split("/", 1)[1].strip("/"):
            reasons.append("a path (CARTO cannot be served under a URL path)")
        else:
            reasons.append("a trailing slash")
        host = host.split("/", 1)[0]
    if "@" in host:
        reasons.append("user info")
        host = host.rsplit("@", 1)[1]
    if re.search(r":\d*$", host):
        reasons.append("a port")
        host = re.sub(r":\d*$", "", host)
    host = host.rstrip(".")
    if reasons:
        ctx.add(ERROR, path, "'%s' is not a bare domain: it contains %s" % (text, ", ".join(reasons)),
                'set appConfigValues.selfHostedDomain: "%s"' % host.lower(), DOC_DOMAIN, "domain-fqdn")
        return
    labels = host.split(".")
    if re.match(r"^\d+(\.\d+){3}$", host):
        ctx.add(ERROR, path, "'%s' is an IP address; CARTO needs a full domain or subdomain" % text,
                "use a DNS name that resolves to the exposed router (an A record to that IP)", DOC_DOMAIN,
                "domain-fqdn")
    elif len(labels) < 2 or len(host) > 253 or not all(_DOMAIN_LABEL_RE.match(label) for label in labels) \
            or text != text.strip():
        ctx.add(ERROR, path, "'%s' is not a valid fully qualified domain name" % text,
                "use letters, digits and '-' in dot-separated labels, e.g. carto.example.com", DOC_DOMAIN,
                "domain-fqdn")


def _secret_item_state(ctx, base):
    """(has_value, existing_name, existing_key) of an appSecrets/cartoSecrets item."""
    conf = ctx.get(base) or {}
    if not isinstance(conf, dict):
        return False, None, None
    existing = conf.get("existingSecret") if isinstance(conf.get("existingSecret"), dict) else {}
    return _nonempty(conf.get("value")), existing.get("name"), existing.get("key")


def _check_secret_items(ctx):
    for section in _SECRET_SECTIONS:
        items = ctx.get(section) or {}
        if not isinstance(items, dict):
            continue
        for item in sorted(items):
            base = "%s.%s" % (section, item)
            has_value, name, key = _secret_item_state(ctx, base)
            if _nonempty(name) and not _nonempty(key):
                ctx.add(ERROR, base + ".existingSecret.key",
                        "existingSecret.name '%s' is set without the key holding the value" % name,
                        "set %s.existingSecret.key to the data key inside the Secret" % base, DOC_GMAPS
                        if item == "googleMapsApiKey" else DOC_APPLY, "secret-item-key",
                        blame=[base + ".existingSecret.name"])
            elif _nonempty(key) and not _nonempty(name) and ctx.is_set(base + ".existingSecret.key"):
                ctx.add(ERROR, base + ".existingSecret.name",
                        "existingSecret.key '%s' is set without the Secret name" % key,
                        "set %s.existingSecret.name" % base, DOC_APPLY, "secret-item-name",
                        blame=[base + ".existingSecret.key"])
            if has_value and _nonempty(name):
                ctx.add(WARNING, base + ".existingSecret.name",
                        "both value and existingSecret are set: the chart uses value and ignores the Secret",
                        "keep only one of %s.value or %s.existingSecret" % (base, base), DOC_APPLY,
                        "secret-item-both", blame=[base + ".value"])


def _credential_ok(ctx, base):
    has_value, name, key = _secret_item_state(ctx, base)
    return has_value or (_nonempty(name) and _nonempty(key))


def _check_storage(ctx):
    triggers = [p for p in _STORAGE_TRIGGERS if ctx.touched(p)]
    if not triggers:
        return
    blame = ["appConfigValues.storageProvider"] + triggers
    raw = ctx.get("appConfigValues.storageProvider")
    provider = raw if raw in _STORAGE_PROVIDERS else None
    if provider is None:
        guess = _PROVIDER_ALIASES.get(str(raw).strip().lower()) if raw is not None else None
        if guess is None:
            close = difflib.get_close_matches(str(raw), _STORAGE_PROVIDERS, n=1, cutoff=0.4)
            guess = close[0] if close else None
        ctx.add(ERROR, "appConfigValues.storageProvider",
                "storage provider '%s' is not supported (valid: gcp, s3, azure-blob)" % raw,
                'set appConfigValues.storageProvider: "%s"' % (guess or "gcp|s3|azure-blob"), DOC_BUCKETS,
                "storage-provider", blame=blame)
        provider = guess
        if provider is None:
            return
    doc = _PROVIDER_DOC[provider]
    required = [
        ("appConfigValues.workspaceImportsBucket", "the import (client) bucket name"),
        ("appConfigValues.workspaceThumbnailsBucket", "the thumbnails bucket name"),
        ("appConfigValues.thumbnailsBucketExternalURL", "the external URL of the thumbnails bucket"),
    ]
    if provider == "gcp":
        required.append(("appConfigValues.googleCloudStorageProjectId", "the GCP project id of the buckets"))
    elif provider == "s3" and not _nonempty(ctx.get("appConfigValues.s3Endpoint")):
        required.append(("appConfigValues.awsS3Region", "the AWS region of the buckets"))
    elif provider == "azure-blob":
        required.append(("appConfigValues.azureStorageAccount", "the Azure storage account name"))
    for path, what in required:
        if not _nonempty(ctx.get(path)):
            ctx.add(ERROR, path, "missing with custom buckets (storageProvider %s): %s is required" % (provider, what),
                    "set %s" % path, doc, "storage-required", blame=blame)
    # one provider at a time
    for other, keys in sorted(_PROVIDER_ONLY_KEYS.items()):
        if other == provider:
            continue
        for path in keys:
            value = ctx.get(path)
            active = _nonempty(value) if not isinstance(value, dict) else (
                _nonempty(value.get("value")) or _nonempty((value.get("existingSecret") or {}).get("name")
                                                           if isinstance(value.get("existingSecret"), dict) else None))
            if not active or not ctx.touched(path):
                continue
            fix = "remove it (only one storage provider can be set at a time) or set storageProvider: %s" % other
            if provider == "azure-blob" and path == "appSecrets.awsAccessKeyId":
                fix = ("move the existingSecret/value to appSecrets.azureStorageAccessKey (the Azure Storage "
                       "guide's existing-secret example uses awsAccessKeyId by mistake)")
            leaf = path + (".value" if path.startswith("appSecrets") and _nonempty(value.get("value"))
                           else ".existingSecret.name" if path.startswith("appSecrets") else "")
            ctx.add(ERROR, leaf, "is a %s setting but storageProvider is %s" % (other, provider), fix, DOC_BUCKETS,
                    "storage-one-provider", blame=[leaf, path])
    # credentials
    if provider == "s3" and not ctx.get("appConfigValues.awsEksPodIdentityBucketsEnabled"):
        for item in ("awsAccessKeyId", "awsAccessKeySecret"):
            if not _credential_ok(ctx, "appSecrets." + item):
                ctx.add(ERROR, "appSecrets.%s" % item, "S3 buckets need %s (by value or existingSecret)" % item,
                        "set appSecrets.%s.existingSecret.name and .key (Secret created beforehand) or "
                        "appSecrets.%s.value from Ansible Vault" % (item, item), DOC_S3, "storage-credentials",
                        blame=blame)
    if provider == "azure-blob" and not _credential_ok(ctx, "appSecrets.azureStorageAccessKey"):
        ctx.add(ERROR, "appSecrets.azureStorageAccessKey",
                "Azure Storage buckets need the storage account access key (by value or existingSecret)",
                "set appSecrets.azureStorageAccessKey.existingSecret.name and .key, or .value from Ansible Vault",
                DOC_AZURE, "storage-credentials", blame=blame)
    _check_thumbnails_url(ctx, provider, doc)


def _check_thumbnails_url(ctx, provider, doc):
    path = "appConfigValues.thumbnailsBucketExternalURL"
    url = ctx.get(path)
    bucket = ctx.get("appConfigValues.workspaceThumbnailsBucket")
    if not isinstance(url, str) or not url.strip() or not isinstance(bucket, str) or not bucket:
        return
    match = re.match(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?P<host>[^/?#]+)(?P<path>[^?#]*)", url.strip())
    custom_endpoint = provider == "s3" and _nonempty(ctx.get("appConfigValues.s3Endpoint"))
    if provider == "gcp":
        expected = "https://storage.googleapis.com/%s/ (public) or https://storage.cloud.google.com/%s/" % (
            bucket, bucket)
    elif provider == "s3":
        expected = "https://%s.s3.amazonaws.com/" % bucket
    else:
        expected = "https://%s.blob.core.windows.net/%s/" % (ctx.get("appConfigValues.azureStorageAccount")
                                                             or "<storage_account>", bucket)
    if not match:
        ctx.add(ERROR, path, "'%s' is not a URL" % url, "set it to %s" % expected, doc, "storage-url")
        return
    if match.group("scheme").lower() != "https" and not custom_endpoint:
        ctx.add(ERROR, path, "the thumbnails URL must use https", "set it to %s" % expected, doc, "storage-url")
        return
    if custom_endpoint:
        return
    host = match.group("host").lower()
    segments = [s for s in match.group("path").split("/") if s]
    good = False
    if provider == "gcp":
        good = host in ("storage.googleapis.com", "storage.cloud.google.com") and segments[:1] == [bucket]
    elif provider == "s3":
        region = ctx.get("appConfigValues.awsS3Region") or ""
        virtual = (host == "%s.s3.amazonaws.com" % bucket.lower() or
                   (region and host in ("%s.s3.%s.amazonaws.com" % (bucket.lower(), region),
                                        "%s.s3-%s.amazonaws.com" % (bucket.lower(), region))))
        path_style = host in ("s3.amazonaws.com",) or (region and host == "s3.%s.amazonaws.com" % region)
        good = bool(virtual or (path_style and segments[:1] == [bucket]))
    else:
        account = (ctx.get("appConfigValues.azureStorageAccount") or "").lower()
        good = host == "%s.blob.core.windows.net" % account and segments[:1] == [bucket]
    if not good:
        ctx.add(ERROR, path, "'%s' does not point at the %s thumbnails bucket '%s'" % (url, provider, bucket),
                "set it to %s" % expected, doc, "storage-url")
    elif not url.endswith("/"):
        ctx.add(WARNING, path, "the thumbnails URL should end with '/'", "set it to %s/" % url, doc, "storage-url")


def _check_postgres(ctx):
    enabled = ctx.get("internalPostgresql.enabled")
    blame = ["internalPostgresql.enabled"]
    if enabled is not False:
        if ctx.is_set("externalPostgresql.host"):
            ctx.add(WARNING, "externalPostgresql.host",
                    "externalPostgresql is configured but internalPostgresql.enabled is true: it is ignored",
                    "set internalPostgresql.enabled: false to use the external database", DOC_PG, "postgres-ignored")
        return
    host = ctx.get("externalPostgresql.host")
    if not ctx.is_set("externalPostgresql.host") or not _nonempty(host) or \
            str(host).strip().lower() in ("localhost", "127.0.0.1", "::1"):
        ctx.add(ERROR, "externalPostgresql.host",
                "internalPostgresql.enabled is false but externalPostgresql.host is %s"
                % ("not set (chart default '%s')" % host if not ctx.is_set("externalPostgresql.host")
                   else "'%s'" % host),
                "set externalPostgresql.host to the IP/hostname of your Postgres", DOC_PG_SECRETS,
                "postgres-host", blame=["externalPostgresql.host"] + blame)
    if not _nonempty(ctx.get("externalPostgresql.adminUser")):
        ctx.add(ERROR, "externalPostgresql.adminUser", "the Postgres admin user is required with an external "
                "database (it creates the CARTO user and database)", 'set externalPostgresql.adminUser: "postgres"',
                DOC_INSTALL_DB, "postgres-credentials", blame=["externalPostgresql.adminUser"] + blame)
    if ctx.get("externalPostgresql.awsEksPodIdentityEnabled") is True:
        if not _nonempty(ctx.get("externalPostgresql.awsRdsRegion")):
            ctx.add(ERROR, "externalPostgresql.awsRdsRegion", "EKS Pod Identity needs the RDS region",
                    "set externalPostgresql.awsRdsRegion", DOC_PG, "postgres-credentials",
                    blame=["externalPostgresql.awsEksPodIdentityEnabled"])
    elif _nonempty(ctx.get("externalPostgresql.existingSecret")):
        for key in ("existingSecretPasswordKey", "existingSecretAdminPasswordKey"):
            if not _nonempty(ctx.get("externalPostgresql." + key)):
                ctx.add(ERROR, "externalPostgresql." + key,
                        "externalPostgresql.existingSecret is set but the key name %s is missing" % key,
                        'set externalPostgresql.%s: "%s"' % (key, "carto-password" if key ==
                                                             "existingSecretPasswordKey" else "admin-password"),
                        DOC_PG_SECRETS, "postgres-credentials", blame=["externalPostgresql.existingSecret"])
    else:
        for key, what in (("password", "CARTO user"), ("adminPassword", "admin user")):
            if not _nonempty(ctx.get("externalPostgresql." + key)):
                ctx.add(ERROR, "externalPostgresql." + key,
                        "no credentials for the %s of the external Postgres (neither %s nor existingSecret)"
                        % (what, key),
                        "set externalPostgresql.existingSecret with existingSecretPasswordKey and "
                        "existingSecretAdminPasswordKey (recommended), or externalPostgresql.%s from Ansible Vault"
                        % key, DOC_PG_SECRETS, "postgres-credentials", blame=["externalPostgresql"] + blame)
    for user_key, internal_key in (("user", "internalUser"), ("adminUser", "internalAdminUser")):
        user = ctx.get("externalPostgresql." + user_key)
        internal = ctx.get("externalPostgresql." + internal_key)
        if isinstance(user, str) and "@" in user:
            bare = user.split("@", 1)[0]
            if not _nonempty(internal):
                ctx.add(ERROR, "externalPostgresql." + internal_key,
                        "externalPostgresql.%s '%s' has the Azure '@server' suffix, so %s is required"
                        % (user_key, user, internal_key),
                        'set externalPostgresql.%s: "%s"' % (internal_key, bare), DOC_PG_AZURE, "postgres-azure-user",
                        blame=["externalPostgresql." + user_key])
            elif "@" in str(internal):
                ctx.add(ERROR, "externalPostgresql." + internal_key,
                        "%s must be the user name without the '@server' suffix" % internal_key,
                        'set externalPostgresql.%s: "%s"' % (internal_key, str(internal).split("@", 1)[0]),
                        DOC_PG_AZURE, "postgres-azure-user")
            elif internal != bare:
                ctx.add(WARNING, "externalPostgresql." + internal_key,
                        "%s '%s' differs from %s without its suffix ('%s')" % (internal_key, internal, user_key, bare),
                        'check it: usually externalPostgresql.%s: "%s"' % (internal_key, bare), DOC_PG_AZURE,
                        "postgres-azure-user")


def _check_redis(ctx):
    if ctx.get("internalRedis.enabled") is not False:
        if ctx.is_set("externalRedis.host"):
            ctx.add(WARNING, "externalRedis.host",
                    "externalRedis is configured but internalRedis.enabled is true: it is ignored",
                    "set internalRedis.enabled: false to use the external Redis", DOC_REDIS, "redis-ignored")
        return
    blame = ["internalRedis.enabled"]
    host = ctx.get("externalRedis.host")
    if not ctx.is_set("externalRedis.host") or not _nonempty(host) or \
            str(host).strip().lower() in ("localhost", "127.0.0.1", "::1"):
        ctx.add(ERROR, "externalRedis.host", "internalRedis.enabled is false but externalRedis.host is %s"
                % ("not set (chart default '%s')" % host if not ctx.is_set("externalRedis.host") else "'%s'" % host),
                "set externalRedis.host to the IP/hostname of your Redis", DOC_REDIS_SECRETS, "redis-host",
                blame=["externalRedis.host"] + blame)
    if _nonempty(ctx.get("externalRedis.existingSecret")):
        if not _nonempty(ctx.get("externalRedis.existingSecretPasswordKey")):
            ctx.add(ERROR, "externalRedis.existingSecretPasswordKey",
                    "externalRedis.existingSecret is set but the key name is missing",
                    'set externalRedis.existingSecretPasswordKey: "password"', DOC_REDIS_SECRETS, "redis-credentials",
                    blame=["externalRedis.existingSecret"])
    elif not _nonempty(ctx.get("externalRedis.password")):
        ctx.add(ERROR, "externalRedis.password",
                "no credentials for the external Redis (neither password nor existingSecret)",
                "set externalRedis.existingSecret and existingSecretPasswordKey (recommended), or "
                "externalRedis.password from Ansible Vault", DOC_REDIS_SECRETS, "redis-credentials",
                blame=["externalRedis"] + blame)


def _check_ports(ctx):
    for path, doc in (("externalPostgresql.port", DOC_PG_SECRETS), ("externalRedis.port", DOC_REDIS_SECRETS),
                      ("externalProxy.port", DOC_ADVANCED)):
        if not ctx.is_set(path):
            continue
        value = ctx.get(path)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            ctx.add(ERROR, path, "ports must be quoted strings, got %s %s" % (_type_name(value), value),
                    'write %s: "%s"' % (path.rsplit(".", 1)[-1], value), DOC_TIPS, "port-quoted")
        elif not value.strip().isdigit() or not 0 < int(value.strip()) < 65536:
            ctx.add(ERROR, path, "'%s' is not a TCP port number" % value, 'write e.g. port: "5432"', doc, "port-range")


def _tls_in_front(ctx, external_tls_termination):
    """Why TLS terminates in front of the router, or None."""
    if external_tls_termination:
        return "declared by the caller (external_tls_termination)"
    if ctx.get("router.ingress.enabled") is True and _gke_ingress(ctx):
        return "GKE Ingress"
    annotations = ctx.get("router.service.annotations") or {}
    if ctx.get("router.service.type") == "LoadBalancer" and isinstance(annotations, dict):
        for name in _TLS_OFFLOAD_ANNOTATIONS:
            if _nonempty(annotations.get(name)):
                return "LoadBalancer TLS offloading (%s)" % name
    if ctx.get("gateway.enabled") is True and (ctx.get("gateway.tls.mode") or "Terminate") == "Terminate":
        return "Gateway API listener terminating TLS"
    return None


def _gke_ingress(ctx):
    annotations = ctx.get("router.ingress.annotations") or {}
    klass = annotations.get("kubernetes.io/ingress.class") if isinstance(annotations, dict) else None
    return klass in _GKE_INGRESS_CLASSES or ctx.get("router.ingress.ingressClassName") in _GKE_INGRESS_CLASSES


def _check_tls(ctx, external_tls_termination):
    https = ctx.get("tlsCerts.httpsEnabled")
    auto = ctx.get("tlsCerts.autoGenerate")
    name = ctx.get("tlsCerts.existingSecret.name")
    if auto is False and not _nonempty(name):
        ctx.add(ERROR, "tlsCerts.existingSecret.name",
                "tlsCerts.autoGenerate is false but no existing TLS Secret is named",
                'create the Secret (kubectl create secret tls <name> --cert=... --key=...) and set '
                'tlsCerts.existingSecret.name: "<name>"', DOC_OWN_TLS, "tls-existing-secret",
                blame=["tlsCerts.autoGenerate"])
    elif auto is not False and _nonempty(name) and https is not False and ctx.is_set("tlsCerts.existingSecret.name"):
        ctx.add(WARNING, "tlsCerts.autoGenerate",
                "tlsCerts.existingSecret.name is set but tlsCerts.autoGenerate is true: a self-signed certificate "
                "is generated and the Secret '%s' is not used" % name, "set tlsCerts.autoGenerate: false",
                DOC_OWN_TLS, "tls-existing-secret", blame=["tlsCerts.existingSecret.name"])
    for part in ("certKey", "keyKey"):
        if auto is False and _nonempty(name) and not _nonempty(ctx.get("tlsCerts.existingSecret." + part)):
            ctx.add(ERROR, "tlsCerts.existingSecret." + part, "the key name inside the TLS Secret is empty",
                    'set tlsCerts.existingSecret.%s: "%s"' % (part, "tls.crt" if part == "certKey" else "tls.key"),
                    DOC_OWN_TLS, "tls-existing-secret")
    if https is False:
        front = _tls_in_front(ctx, external_tls_termination)
        if front is None:
            ctx.add(ERROR, "tlsCerts.httpsEnabled",
                    "HTTPS is disabled in the router but nothing in front terminates TLS; CARTO only works "
                    "over HTTPS", "keep tlsCerts.httpsEnabled: true, or expose CARTO with a GKE Ingress or a "
                    "LoadBalancer with TLS offloading (e.g. service.beta.kubernetes.io/aws-load-balancer-ssl-cert)",
                    DOC_DISABLE_HTTPS, "https-disabled")
    ingress_enabled = ctx.get("router.ingress.enabled") is True
    if ingress_enabled:
        if not _gke_ingress(ctx):
            ctx.add(ERROR, "router.ingress.enabled", "the Ingress exposure is supported only on GKE, but neither the "
                    "kubernetes.io/ingress.class annotation nor router.ingress.ingressClassName is 'gce'",
                    'add router.ingress.annotations."kubernetes.io/ingress.class": "gce" (GKE), or use '
                    "router.service.type: LoadBalancer on other clouds", DOC_ACCESS, "ingress-gke-only")
        if https is not False:
            ctx.add(WARNING, "tlsCerts.httpsEnabled", "router TLS termination is configured while exposing CARTO "
                    "with an Ingress (the Ingress terminates TLS)", "set tlsCerts.httpsEnabled: false as in the GKE "
                    "Ingress examples", DOC_TLS, "ingress-router-tls", blame=["router.ingress.enabled"])
        if ctx.get("router.ingress.tls") is True and not _nonempty(name):
            ctx.add(ERROR, "tlsCerts.existingSecret.name", "router.ingress.tls is true but no TLS Secret is named",
                    "create the TLS Secret (with the full chain) and set tlsCerts.existingSecret.name, or use "
                    "GCP managed certificates without router.ingress.tls", DOC_INGRESS, "ingress-tls-secret",
                    blame=["router.ingress.tls"])


def _check_lb_timeouts(ctx):
    annotations = ctx.get("router.service.annotations") or {}
    if not isinstance(annotations, dict):
        return
    service_type = ctx.get("router.service.type")
    for name, (unit, factor, minimum, cloud) in sorted(_LB_TIMEOUT_ANNOTATIONS.items()):
        if name not in annotations or annotations[name] is None:
            continue
        path = ("router", "service", "annotations", name)
        value = annotations[name]
        source, line = _setter(ctx.provenance, path)
        try:
            number = int(str(value).strip())
        except ValueError:
            ctx.problems.append(make_problem(
                ERROR, source, path, "'%s' is not a number of %s" % (value, unit),
                'set it to "%d" (%s %s)' % (minimum, cloud, unit), DOC_LB, "lb-timeout", line=line))
            continue
        if number < minimum:
            ctx.problems.append(make_problem(
                ERROR, source, path, "the %s load balancer idle timeout is %d %s (%d s); CARTO needs incoming "
                "connections to last at least 605 s" % (cloud, number, unit, number * factor),
                'set it to "%d" (%s)' % (minimum, unit), DOC_ACCESS, "lb-timeout", line=line))
        if service_type != "LoadBalancer":
            ctx.problems.append(make_problem(
                WARNING, source, path, "load balancer annotation set but router.service.type is '%s'" % service_type,
                "set router.service.type: LoadBalancer (or remove the annotation)", DOC_LB, "lb-timeout", line=line))


def _components(schema):
    props = (schema or {}).get("properties") or {}
    return sorted(k for k, v in props.items() if isinstance(v, dict)
                  and "replicaCount" in (v.get("properties") or {}) and "autoscaling" in (v.get("properties") or {}))


def _check_scaling(ctx, schema):
    for component in _components(schema):
        auto = ctx.get(component + ".autoscaling") or {}
        if not isinstance(auto, dict):
            continue
        if auto.get("enabled") is True and ctx.is_set(component + ".replicaCount"):
            ctx.add(WARNING, component + ".replicaCount",
                    "%s has both static scaling (replicaCount %s) and autoscaling enabled: autoscaling wins and "
                    "replicaCount is ignored" % (component, ctx.get(component + ".replicaCount")),
                    "remove %s.replicaCount or set %s.autoscaling.enabled: false" % (component, component),
                    DOC_SCALING, "scaling-both")
        low, high = auto.get("minReplicas"), auto.get("maxReplicas")
        if auto.get("enabled") is True and isinstance(low, int) and isinstance(high, int) and low > high:
            ctx.add(ERROR, component + ".autoscaling.minReplicas",
                    "minReplicas (%d) is greater than maxReplicas (%d)" % (low, high),
                    "set %s.autoscaling.maxReplicas >= minReplicas" % component, DOC_AUTOSCALING,
                    "autoscaling-range", blame=[component + ".autoscaling.minReplicas",
                                                component + ".autoscaling.maxReplicas"])


def _check_inline_secrets(ctx):
    for path, _value in _iter_secret_leaves(ctx.user):
        records = ctx.provenance.get(tuple(path)) or [_setter(ctx.provenance, path)]
        source, line = records[-1]
        base = format_path(path[:-1]) if path[-1] == "value" else format_path(path)
        ctx.problems.append(make_problem(
            WARNING, source, path, "secret value written inline (it ends up in the Helm release and in logs)",
            "%s: %s" % (base, _INLINE_SECRET_FIX), DOC_APPLY, "inline-secret", line=line))


# The CA certificates the chart hands to CARTO's services (carto-customizations.md "Configure Postgres SSL with
# custom CA", "Configure Redis TLS"): whichever source sets them, the merged value must be PEM CA certificates.
CA_CERTIFICATE_KEYS = (
    ("externalPostgresql.sslCA", "externalPostgresql.sslEnabled", DOC_PG_SSL_CA),
    ("externalRedis.tlsCA", "externalRedis.tlsEnabled", DOC_REDIS_TLS),
)


def _check_ca_certificates(ctx):
    for path, enabled, doc in CA_CERTIFICATE_KEYS:
        value = _get(ctx.user, path)
        if not isinstance(value, str) or not value.strip():
            continue  # unset, null or empty: nothing to check (a wrong type is a schema problem)
        key = path.rsplit(".", 1)[-1]
        found = _tls_chain.ca_certificate_problems(value) if _tls_chain is not None else None
        if found is None:
            ctx.add(WARNING, path, "the CA certificate could not be checked: the Python library cryptography "
                    "(>= 42) is not installed on the controller", "install the collection's requirements.txt",
                    doc, "ca-certificate")
            continue
        failures, warnings = found
        if failures:
            ctx.add(ERROR, path, "is not a usable CA certificate (PEM X.509): %s" % "; ".join(failures),
                    "set %s to the PEM text of the CA that issued the server certificate, every certificate "
                    "between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines (YAML block scalar "
                    "%s: |)" % (path, key), doc, "ca-certificate")
        for warning in warnings:
            ctx.add(WARNING, path, warning, "check the CA certificate in %s" % path, doc, "ca-certificate")
        if ctx.get(enabled) is not True:
            ctx.add(WARNING, path, "is set but %s is not true: the chart does not use it" % enabled,
                    "set %s: true or remove %s" % (enabled, path), doc, "ca-certificate")


def check_rules(user_values, effective_values, provenance, schema=None, domain_required=True,
                external_tls_termination=False, warn_inline_secrets=True):
    """Cross-field rules of CARTO's guides on merged values; returns problems."""
    ctx = _Ctx(user_values, effective_values, provenance)
    _check_domain(ctx, domain_required)
    _check_secret_items(ctx)
    _check_storage(ctx)
    _check_postgres(ctx)
    _check_redis(ctx)
    _check_ports(ctx)
    _check_tls(ctx, external_tls_termination)
    _check_lb_timeouts(ctx)
    _check_scaling(ctx, schema)
    _check_ca_certificates(ctx)
    if warn_inline_secrets:
        _check_inline_secrets(ctx)
    return ctx.problems


# ---------------------------------------------------------------------------
# all together
# ---------------------------------------------------------------------------

def load_sources(specs):
    """Turn ``[{"name", "path"|"content"}]`` into ``(sources, problems)``.

    ``content`` may be a dict (e.g. an inventory variable) or YAML text; each
    source is ``(name, data, lines)``.
    """
    sources = []
    problems = []
    for index, spec in enumerate(specs or []):
        if not isinstance(spec, dict):
            raise CartoValuesError("source %d must be a dict with name and path or content" % index)
        path = spec.get("path")
        content = spec.get("content")
        name = spec.get("name") or path or "source %d" % index
        if path and content is not None:
            raise CartoValuesError("source %s: set only one of path and content" % name)
        if path:
            data, found, lines = load_yaml_file(path, name)
        elif isinstance(content, str):
            data, found, lines = load_yaml_text(content, name)
        elif isinstance(content, dict):
            data, found, lines = content, [], {}
        elif content is None:
            data, found, lines = {}, [], {}
        else:
            data, found, lines = None, [make_problem(
                ERROR, name, "", "values must be a map, got %s" % _type_name(content),
                "pass a dict or a YAML mapping", DOC_APPLY, "yaml-not-a-map")], {}
        problems.extend(found)
        if data is not None:
            sources.append((name, data, lines))
    return sources, problems


# What each input file variable holds, for the fix of a missing or unreadable file (matched on the end of the
# variable expression: carto_tls.certificate_file, carto_customization_files[0], ...).
_INPUT_FILE_WHAT = (
    ("carto_package_values_file", "carto-values.yaml of your CARTO installation package", _INSTALL),
    ("carto_package_secrets_file", "carto-secrets.yaml of your CARTO installation package", _INSTALL),
    ("]", "a customization YAML file (or remove the item from the list)", DOC_APPLY),
    ("certificate_file", "the PEM file of the TLS certificate (leaf first, then the intermediates)", DOC_OWN_TLS),
    ("private_key_file", "the PEM file of the certificate's private key (without passphrase)", DOC_OWN_TLS),
    ("extra_certificates_file", "a PEM file of intermediate certificates to complete the chain", DOC_OWN_TLS),
    ("ca_bundle_file", "a PEM bundle of the CA certificates to trust", DOC_OWN_TLS),
    ("service_account_key_file", "the JSON key file of the GCP service account", DOC_GCS),
)


def input_file_problem(variable, path):
    """The problem of one input file (``variable`` names it, e.g. ``carto_tls.certificate_file``), or None.

    The file must exist on the controller, be a regular file and be readable (one byte is read; the content is
    never returned). The problem's ``source`` is the path and its key path the variable, so it reads
    ``<path>: <variable>: <what is wrong>. Fix: ...``; it ``covers`` the read error of the same values source.
    """
    what, doc = "the file it names", DOC_APPLY
    for suffix, text, section in _INPUT_FILE_WHAT:
        if variable.endswith(suffix):
            what, doc = text, section
            break
    shown = path if os.path.isabs(path) else "%s (relative to %s)" % (path, os.getcwd())
    reason = None
    if not os.path.exists(path):
        reason = "the file %s does not exist on the controller" % shown
    elif os.path.isdir(path):
        reason = "%s is a directory, not a file" % shown
    else:
        try:
            with open(path, "rb") as handle:
                handle.read(1)
        except (IOError, OSError) as exc:
            reason = "the file %s cannot be read: %s" % (shown, exc.strerror or exc)
        else:
            if not variable.endswith(("_values_file", "_secrets_file", "]")) and os.path.getsize(path) == 0:
                reason = "the file %s is empty" % shown
    if reason is None:
        return None
    problem = make_problem(ERROR, path, variable, reason,
                           "set %s to the path (on the controller that runs ansible-playbook) of %s"
                           % (variable, what), doc, "input-file")
    problem.update({"covers": [""], "covers_source": path})
    return problem


def check_input_files(files):
    """Problems of the input files ``[{"variable", "path"}]`` (see :func:`input_file_problem`), all at once."""
    problems = []
    for entry in files or []:
        path = entry.get("path")
        if not path:
            continue
        problem = input_file_problem(entry.get("variable") or str(path), str(path))
        if problem is not None:
            problems.append(problem)
    return problems


def input_files(variables):
    """``[{"variable", "path"}]`` of the file paths in ``variables`` ({inventory variable: value}).

    A string is one path, a list one path per item (``var[i]``), a dict contributes its keys ending in
    ``_file`` (``var.key``), nested dicts included. Empty values are skipped.
    """
    out = []

    def walk(name, value, top):
        if isinstance(value, str):
            if value and (top or name.endswith("_file")):
                out.append({"variable": name, "path": value})
        elif isinstance(value, (list, tuple)) and top:
            for index, item in enumerate(value):
                if isinstance(item, str) and item:
                    out.append({"variable": "%s[%d]" % (name, index), "path": item})
        elif isinstance(value, dict):
            for key in sorted(value, key=str):
                walk("%s.%s" % (name, key), value[key], False)

    for name in variables or {}:
        walk(name, variables[name], True)
    return out


_SEVERITY_ORDER = {ERROR: 0, WARNING: 1}
# A package file that cannot be read stops Helm too: its problem stays an error.
_NOT_DEMOTED = ("file-unreadable", "yaml-not-a-map", "input-file")


def _sort_problems(problems, names):
    order = dict((name, index) for index, name in enumerate(names))
    unique = []
    for problem in problems:
        if problem not in unique:
            unique.append(problem)
    return sorted(unique, key=lambda p: (_SEVERITY_ORDER.get(p["severity"], 9), order.get(p["source"], len(order)),
                                         p.get("path") or "", p.get("line") or 0, p.get("message")))


def _covered(problem, extra):
    """True when a problem found by the caller already explains ``problem`` (same source, covered key path)."""
    for found in extra:
        if found.get("covers_source") != problem.get("source"):
            continue
        for path in found.get("covers") or []:
            if problem.get("path") == path or (problem.get("path") or "").startswith(path + "."):
                return True
    return False


def validate_sources(specs, schema=None, strict=False, existing_secrets=None, domain_required=True,
                     external_tls_termination=False, warn_inline_secrets=True, extra_problems=None):
    """Load, merge and validate values sources; never raises on bad values.

    A spec with ``package: true`` is a file of CARTO's installation package: its problems are
    reported as warnings and its inline secrets are not reported.

    ``extra_problems`` are problems the caller found in its own inputs (for example the structured
    inventory variables that produced one of the sources); they are reported together with the
    others, and each may carry ``covers`` (key paths) and ``covers_source`` (source name): problems
    of that source at those paths are then not reported twice.

    Returns a dict: ``problems`` (all, errors first), ``errors``, ``warnings``
    (with ``strict`` warnings are promoted to errors), ``referenced_secrets``,
    ``missing_secrets`` (problems), ``merged_values`` (user sources merged
    Helm-style, nulls kept), ``merged_values_redacted``, ``effective_values``
    (chart defaults + merged), ``chart`` and ``ok``.
    """
    if schema is None or isinstance(schema, str):
        schema = load_schema(schema)
    sources, problems = load_sources(specs)
    merged, provenance = merge_with_provenance(sources, keep_nulls=True)
    problems.extend(validate_schema(merged, schema, provenance))
    effective = merge_with_provenance([("<user>", merged)], base=schema_defaults(schema))[0]
    problems.extend(check_rules(merged, effective, provenance, schema, domain_required=domain_required,
                                external_tls_termination=external_tls_termination,
                                warn_inline_secrets=warn_inline_secrets))
    references = secret_references(effective, provenance)
    missing = []
    if existing_secrets is not None:
        missing = check_secret_references(references, existing_secrets)
        problems.extend(missing)
    extra = []
    for found in extra_problems or []:
        extra.append(found)
    if extra:
        problems = [p for p in problems if not _covered(p, extra)]
        for found in extra:
            problems.append(make_problem(found.get("severity") or ERROR, found.get("source"), found.get("path") or "",
                                         found.get("message") or "", found.get("fix") or "", found.get("doc"),
                                         found.get("rule") or "caller", line=found.get("line")))
    if strict:
        for problem in problems:
            if problem["severity"] == WARNING:
                problem["severity"] = ERROR
                problem["message"] += " (warning promoted to error by strict mode)"
    # CARTO's installation package files are not the operator's to edit: their findings are warnings and
    # their inline secrets are by design (carto-kubernetes-install.md).
    package = set(spec.get("name") or spec.get("path") for spec in specs or [] if spec.get("package"))
    if package:
        kept = []
        for problem in problems:
            if problem["source"] in package:
                if problem["rule"] == "inline-secret":
                    continue
                if problem["severity"] == ERROR and problem["rule"] not in _NOT_DEMOTED:
                    problem["severity"] = WARNING
                    problem["message"] += " (in the CARTO installation package: reported as a warning)"
            kept.append(problem)
        problems = kept
    problems = _sort_problems(problems, [found.get("source") for found in extra] + [s[0] for s in sources])
    errors = [p for p in problems if p["severity"] == ERROR]
    warnings = [p for p in problems if p["severity"] == WARNING]
    return {
        "ok": not errors,
        "chart": chart_label(schema),
        "problems": problems,
        "errors": errors,
        "warnings": warnings,
        "referenced_secrets": references,
        "missing_secrets": missing,
        "merged_values": merged,
        "merged_values_redacted": redact_values(merged),
        "effective_values": effective,
        "sources": [s[0] for s in sources],
    }
