# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: everything in one call (:func:`validate_sources`: load, merge, schema, rules, Secrets) and the
input files of the values role (present and readable, with the variable and the fix).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.carto.selfhosted.plugins.module_utils._values.loader import load_yaml_file, load_yaml_text
from ansible_collections.carto.selfhosted.plugins.module_utils._values.merge import merge_with_provenance
from ansible_collections.carto.selfhosted.plugins.module_utils._values.problems import (
    CartoValuesError, DOC_APPLY, DOC_GCS, DOC_OWN_TLS, ERROR, WARNING, _INSTALL, _type_name, make_problem,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._values.rules import check_rules
from ansible_collections.carto.selfhosted.plugins.module_utils._values.schema import (
    chart_label, load_schema, schema_defaults, validate_schema,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import (
    check_secret_references, redact_values, secret_references,
)


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
    # their inline secrets are by design (https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes).
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
