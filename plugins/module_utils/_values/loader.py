# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: YAML loading of values files that reports duplicate keys (both line numbers) and keeps the line
of every key (PyYAML's ``SafeLoader``: the node marks are needed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without PyYAML
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = exc

from ansible_collections.carto.selfhosted.plugins.module_utils._values.problems import (
    CartoValuesError, DOC_APPLY, DOC_TIPS, ERROR, _type_name, make_problem,
)


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
