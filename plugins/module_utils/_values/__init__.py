# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: validation of CARTO Self-Hosted Helm values before anything changes in the cluster (not a public API).

Everything here is pure Python (PyYAML + jsonschema, controller-side), shared by
the ``carto.selfhosted.carto_values_render`` action (module_utils/_values_render.py):

- ``problems``: the problem records, their text form and the references to CARTO's guides;
- ``loader``: :func:`load_yaml_text` / :func:`load_yaml_file` -- YAML loading that reports
  duplicate keys (both line numbers) and keeps the line of every key;
- ``merge``: :func:`merge_values` / :func:`merge_with_provenance` -- Helm-order deep merge
  (later wins, maps merge, lists/scalars replace, ``null`` deletes) keeping,
  for every key path, which source set it;
- ``schema``: :func:`load_schema`, :func:`schema_defaults`, :func:`validate_schema` -- the
  generated JSON Schema of the chart key space (all errors, closest valid key);
- ``rules`` (and ``rules_core``): :func:`check_rules` -- cross-field rules from CARTO's documentation;
- ``secrets``: :func:`secret_references`, :func:`check_secret_references`,
  :func:`redact_values`, :func:`secret_values` -- Secrets handling;
- ``validate``: :func:`validate_sources` -- everything above in one call; returns a dict with
  ``problems``, ``errors``, ``warnings``, ``referenced_secrets``,
  ``merged_values`` and ``merged_values_redacted``; and the input files of the values role.

Every problem is a dict::

    {"severity": "error" | "warning", "source": "<file or variable>",
     "line": <int or None>, "path": "<dotted.key.path>", "message": "...",
     "fix": "...", "doc": "<doc URL>#<section>", "rule": "<rule id>"}

and :func:`problems.format_problem` renders ``<source>: <key.path>: <message>. Fix: <fix>``.
"""
