# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Private backend of carto.selfhosted.carto_values_render (not a public API).

``run(runner)`` renders, validates and merges the CARTO Helm values in one pass; ``runner`` is what runs it: the
action plugin in the controller process (plugins/action/carto_values_render.py, how every task runs it) or the
module's ``main()``. It gives ``params`` (validated against ARGUMENT_SPEC), ``check_mode`` and ``diff`` (bools), and
the callbacks ``fail(msg, **result)`` (does not return), ``warn(msg)`` and ``mask(values)`` (secret strings to remove
from the result). Options, return values and errors: see the module's documentation.

The steps, each once: build customizations.yaml from the structured variables (module_utils/_customizations), write
it (0600), check the input files, load and merge every source in Helm order with the provenance of each key
(module_utils/_values), validate the merge (schema, CARTO's rules, the Secrets it references) and return the merged
values themselves (RV(merged_values)), which the deploy hands to Helm.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.carto.selfhosted.plugins.module_utils._customizations import build as customizations_build
from ansible_collections.carto.selfhosted.plugins.module_utils._customizations import common as customizations_common
from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client
from ansible_collections.carto.selfhosted.plugins.module_utils._values import loader as values_loader
from ansible_collections.carto.selfhosted.plugins.module_utils._values import problems as values_problems
from ansible_collections.carto.selfhosted.plugins.module_utils._values import schema as values_schema
from ansible_collections.carto.selfhosted.plugins.module_utils._values import secrets as values_secrets
from ansible_collections.carto.selfhosted.plugins.module_utils._values import validate as values_validate


ARGUMENT_SPEC = cluster_client.argument_spec(
    # str, not path: an empty value is a reported problem of the run, not an option error.
    package_values_file=dict(type="str", default=""),
    package_secrets_file=dict(type="str", default=""),
    customizations=dict(type="dict", default={}),
    variable_prefix=dict(type="str", default="carto_"),
    customizations_path=dict(type="path", required=True),
    customization_files=dict(type="list", elements="str", default=[]),
    overrides=dict(type="dict", default={}),
    existing_secrets=dict(type="dict", no_log=False),
    secrets_namespace=dict(type="str", no_log=False),
    schema=dict(type="path"),
    strict=dict(type="bool", default=False),
    warn_inline_secrets=dict(type="bool", default=True),
)

# The keys of ``customizations`` (the structured variables, named without their prefix).
CUSTOMIZATION_KEYS = ("domain", "router_service", "ingress", "tls", "external_postgresql", "external_redis",
                      "buckets", "google_maps", "bigquery_oauth", "redshift_imports", "service_account", "scaling")
# The structured variables that name files the run reads (certificates, keys, CA bundles, service account keys).
_FILE_KEYS = ("tls", "buckets", "external_postgresql")
_PACKAGE_DOC = "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes"
_PACKAGE_FILES = (
    ("package_values_file", "carto-values.yaml"),
    ("package_secrets_file", "carto-secrets.yaml"),
)


def _package_problems(params, prefix):
    """An error for each package file option left empty (Helm needs both files of the installation package)."""
    problems = []
    for option, name in _PACKAGE_FILES:
        if not params[option]:
            problems.append(dict(
                severity="error", source="inventory variable %s%s" % (prefix, option), line=None, path="",
                message="is empty; Helm needs the file of the CARTO installation package",
                fix="set %s%s to the path of %s from your installation package" % (prefix, option, name),
                doc=_PACKAGE_DOC, rule="package-file", covers=[]))
    return problems


def _input_files(params, prefix):
    """``[{variable, path}]`` of every file the run reads, named by the inventory variable that sets it."""
    variables = dict(("%s%s" % (prefix, option), params[option]) for option, _name in _PACKAGE_FILES)
    variables["%scustomization_files" % prefix] = params["customization_files"]
    for key in _FILE_KEYS:
        variables["%s%s" % (prefix, key)] = params["customizations"].get(key) or {}
    return values_validate.input_files(variables)


def _normalize(existing):
    """``existing_secrets`` as {name: [key, ...]} (a dict of keys or one key name is accepted)."""
    if existing is None:
        return None
    normalized = {}
    for name, keys in existing.items():
        if isinstance(keys, dict):
            keys = list(keys)
        elif isinstance(keys, str):
            keys = [keys]
        normalized[name] = [str(key) for key in (keys or [])]
    return normalized


def _cluster_secrets(runner, params):
    """{name: [data keys]} of the Secrets in ``secrets_namespace`` (one list call; values are dropped)."""
    namespace = params["secrets_namespace"]
    try:
        client = cluster_client.api_client(params)
        response = client.call_api("/api/v1/namespaces/%s/secrets" % namespace, "GET",
                                   header_params={"Accept": "application/json"}, auth_settings=["BearerToken"],
                                   _preload_content=False, _return_http_data_only=True, _request_timeout=60)
        items = (json.loads(response.data or b"{}") or {}).get("items") or []
    except ImportError as exc:
        runner.fail(msg=missing_required_lib("kubernetes") + " (for secrets_namespace)", exception=str(exc))
    except Exception as exc:  # pylint: disable=broad-except
        reason = "%s %s" % (getattr(exc, "status", ""), getattr(exc, "reason", "")) \
            if getattr(exc, "status", None) else str(exc)
        runner.fail(msg="Could not list the Secrets of namespace %s: %s. Fix: check carto_kubeconfig / "
                        "carto_kube_context (or K8S_AUTH_KUBECONFIG / K8S_AUTH_CONTEXT) and that the API server is "
                        "reachable, or set values_check_secrets=false to skip the Secret checks."
                        % (namespace, reason.strip()))
    return {(item.get("metadata") or {}).get("name"): sorted((item.get("data") or {}).keys()) for item in items}


def _write(runner, spec):
    """Write ``spec['content']`` to ``spec['path']`` (0600, directory 0700) when it differs.

    Returns None when nothing changed, else {'path', 'diff'}. Check mode only reports.
    """
    if not spec:
        return None
    path, content = spec["path"], spec["content"]
    directory = os.path.dirname(path) or "."
    before = None
    if os.path.exists(path):
        with open(path) as handle:
            before = handle.read()
        if before == content and (os.stat(path).st_mode & 0o777) == 0o600:
            return None
    out = {"path": path, "diff": None}
    if runner.diff:
        out["diff"] = {"before": _redacted_text(before or ""), "after": _redacted_text(content),
                       "before_header": path, "after_header": path}
    if runner.check_mode:
        return out
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
            os.chmod(directory, 0o700)
        fd, tmp = tempfile.mkstemp(prefix=".carto-", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)  # same directory: atomic, and the file is never readable by others
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except (IOError, OSError) as exc:
        runner.fail(msg="Could not write %s: %s. Fix: make its directory writable or set carto_output_dir "
                        "(values_output_dir) to a writable directory." % (path, exc))
    return out


def _redacted_text(text):
    try:
        data = values_loader.load_yaml_text(text, "content")[0] if text.strip() else {}
    except Exception:  # pylint: disable=broad-except
        return "<not YAML: not shown>\n"
    if not isinstance(data, dict):
        return "<not a mapping: not shown>\n"
    return values_loader.yaml.safe_dump(values_secrets.redact_values(data), default_flow_style=False, sort_keys=True)


def _mask(runner, values):
    # Very short values would mask unrelated text everywhere in the output.
    runner.mask(value for value in values if len(value) >= 4)


def _structured_secrets(value):
    """The secret values of the structured variables: the strings under the keys of SECRET_KEYS (and their lines)."""
    out = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in customizations_common.SECRET_KEYS and isinstance(item, str) and item:
                out.add(item)
                out.update(line.strip() for line in item.splitlines() if len(line.strip()) >= 8)
            else:
                out.update(_structured_secrets(item))
    elif isinstance(value, list):
        for item in value:
            out.update(_structured_secrets(item))
    return out


def _add_secrets(existing, more):
    """Add ``more`` ({Secret name: [data keys]}) to ``existing`` in place, each key once."""
    for name, keys in more.items():
        known = list(existing.get(name) or [])
        existing[name] = known + [key for key in keys if key not in known]


def _dump(values):
    """customizations.yaml's text: block style, keys sorted, two-space indent (as Ansible's to_nice_yaml)."""
    if not values:
        return "{}\n"
    # Plain types first: in the action plugin the strings are ansible-core's tagged str subclasses (2.19+), which
    # PyYAML's SafeDumper does not represent.
    values = json.loads(json.dumps(values))
    return values_loader.yaml.safe_dump(values, indent=2, allow_unicode=True, default_flow_style=False,
                                        sort_keys=True)


def _sources(params, prefix, customizations_text):
    """The values sources in Helm order: package files, customizations.yaml, customization files, overrides."""
    specs = [{"name": params[option], "path": params[option], "content": None, "package": True}
             for option, _name in _PACKAGE_FILES if params[option]]
    specs.append({"name": params["customizations_path"], "path": None, "content": customizations_text,
                  "package": False})
    specs.extend({"name": path, "path": path, "content": None, "package": False}
                 for path in params["customization_files"] if path)
    specs.append({"name": "inventory variable %svalues_overrides" % prefix, "path": None,
                  "content": params["overrides"], "package": False})
    return specs


def run(runner):
    """Render, validate and merge ``runner.params``; returns the result of a valid run, calls ``runner.fail``."""
    if not values_loader.HAS_YAML:
        runner.fail(msg=missing_required_lib("PyYAML"), exception=str(values_loader.YAML_IMPORT_ERROR))
    if not values_schema.HAS_JSONSCHEMA:
        runner.fail(msg=missing_required_lib("jsonschema"), exception=str(values_schema.JSONSCHEMA_IMPORT_ERROR))

    params = runner.params
    prefix = params["variable_prefix"]
    unknown = sorted(set(params["customizations"]) - set(CUSTOMIZATION_KEYS))
    if unknown:
        runner.fail(msg="Invalid value of option customizations: unknown key(s) %s; the keys are %s"
                        % (", ".join(map(str, unknown)), ", ".join(CUSTOMIZATION_KEYS)))
    # The structured variables hold passwords and keys (only their presence is read): masked everywhere.
    _mask(runner, _structured_secrets(params["customizations"]))
    _mask(runner, values_secrets.secret_values(params["overrides"]))

    built = customizations_build.build(params["customizations"], variable_prefix=prefix)
    customizations_text = _dump(built["values"])
    caller_problems = _package_problems(params, prefix)
    caller_problems.extend(dict(problem, covers_source=params["customizations_path"]) for problem in built["problems"])
    # Missing or unreadable input files join the problem list (they cover the read error of the same source).
    caller_problems.extend(values_validate.check_input_files(_input_files(params, prefix)))

    # customizations.yaml is written before the checks name it, so every problem names a file that exists.
    written = _write(runner, {"path": params["customizations_path"], "content": customizations_text})

    existing = None
    if params["existing_secrets"] is not None or params["secrets_namespace"]:
        # The Secrets the carto.selfhosted.secrets role creates for these values count as existing.
        existing = _normalize(built["secrets"])
        _add_secrets(existing, _normalize(params["existing_secrets"]) or {})
    specs = _sources(params, prefix, customizations_text)

    def validate(existing_secrets):
        try:
            return values_validate.validate_sources(
                specs,
                schema=params["schema"],
                strict=params["strict"],
                existing_secrets=existing_secrets,
                domain_required=True,
                external_tls_termination=built["external_tls_termination"],
                warn_inline_secrets=params["warn_inline_secrets"],
                extra_problems=caller_problems,
            )
        except values_problems.CartoValuesError as exc:
            runner.fail(msg=str(exc), exception=traceback.format_exc())

    result = validate(existing)
    if params["secrets_namespace"] and result["missing_secrets"]:
        # Only when the values reference a Secret (or key) the play does not create is the cluster read.
        _add_secrets(existing, _cluster_secrets(runner, params))
        result = validate(existing)

    _mask(runner, values_secrets.secret_values(result["merged_values"]))
    for warning in result["warnings"]:
        runner.warn(values_problems.format_problem(warning))

    output = dict(
        changed=bool(written),
        written=written["path"] if written else None,
        files=[params[option] for option, _name in _PACKAGE_FILES if params[option]]
        + [params["customizations_path"]] + [path for path in params["customization_files"] if path],
        managed_secrets=sorted(built["secrets"]),
        problems=result["problems"],
        errors=result["errors"],
        validation_warnings=result["warnings"],
        referenced_secrets=result["referenced_secrets"],
        missing_secrets=result["missing_secrets"],
        merged_values_redacted=result["merged_values_redacted"],
        chart=result["chart"],
        sources=result["sources"],
    )
    if written and written.get("diff"):
        output["diff"] = written["diff"]
    if result["errors"]:
        lines = [values_problems.format_problem(problem) for problem in result["errors"]]
        runner.fail(msg="Helm values validation failed with %d error(s) (chart %s):\n%s"
                    % (len(lines), result["chart"], "\n".join(lines)), **output)
    # The merged values themselves: secret. The runner marks a result that carries them no_log.
    output["merged_values"] = result["merged_values"]
    output["msg"] = "Helm values are valid for chart %s (%d warning(s))" % (result["chart"], len(result["warnings"]))
    return output
