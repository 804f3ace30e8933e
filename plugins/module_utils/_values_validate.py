# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Private backend of carto.selfhosted.carto_values_validate (not a public API).

``run(runner)`` does the whole validation; ``runner`` is what runs it: the action plugin in the controller
process (plugins/action/carto_values_validate.py, how every task runs it) or the module's ``main()``. It gives
``params`` (validated against ARGUMENT_SPEC), ``check_mode`` and ``diff`` (bools), and the callbacks ``fail(msg,
**result)`` (does not return), ``warn(msg)`` and ``mask(values)`` (secret strings to remove from the result).
Options, return values and errors: see the module's documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client
from ansible_collections.carto.selfhosted.plugins.module_utils._values import loader as values_loader
from ansible_collections.carto.selfhosted.plugins.module_utils._values import problems as values_problems
from ansible_collections.carto.selfhosted.plugins.module_utils._values import schema as values_schema
from ansible_collections.carto.selfhosted.plugins.module_utils._values import secrets as values_secrets
from ansible_collections.carto.selfhosted.plugins.module_utils._values import validate as values_validate


ARGUMENT_SPEC = cluster_client.argument_spec(
    sources=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str"),
        path=dict(type="path"),
        content=dict(type="raw"),
        package=dict(type="bool", default=False),
    ), mutually_exclusive=[("path", "content")], required_one_of=[("path", "content")]),
    schema=dict(type="path"),
    strict=dict(type="bool", default=False),
    existing_secrets=dict(type="dict", no_log=False),
    domain_required=dict(type="bool", default=True),
    external_tls_termination=dict(type="bool", default=False),
    warn_inline_secrets=dict(type="bool", default=True),
    secrets_namespace=dict(type="str", no_log=False),
    write=dict(type="dict", options=dict(
        path=dict(type="path", required=True),
        content=dict(type="str", required=True),
    )),
    # A list of dicts without a suboptions spec: a problem has a ``message`` key, a name Ansible reserves for
    # module options. Each problem is checked against PROBLEM_SPEC by _caller_problems().
    problems=dict(type="list", elements="dict", default=[]),
    input_files=dict(type="list", elements="dict", default=[], options=dict(
        variable=dict(type="str", required=True),
        path=dict(type="str"),
    )),
)

# The keys of a caller's problem (the problem format of carto_values, as RV(problems)).
PROBLEM_SPEC = dict(
    severity=dict(type="str", default="error", choices=["error", "warning"]),
    source=dict(type="str", required=True),
    line=dict(type="int"),
    path=dict(type="str", default=""),
    message=dict(type="str", required=True),
    fix=dict(type="str", default=""),
    doc=dict(type="str"),
    rule=dict(type="str", default="caller"),
    covers=dict(type="list", elements="str", default=[]),
    covers_source=dict(type="str"),
)


def _caller_problems(runner, problems):
    """The ``problems`` option checked and completed (types, defaults) against PROBLEM_SPEC; fails on a bad one."""
    validator = ArgumentSpecValidator(PROBLEM_SPEC)
    checked = []
    errors = []
    for index, problem in enumerate(problems or []):
        result = validator.validate(problem)
        if result.error_messages:
            for error in result.errors:
                prefix = "unsupported key(s) " if isinstance(error, UnsupportedError) else ""
                errors.append("problems[%d]: %s%s" % (index, prefix, error.msg))
        else:
            checked.append(result.validated_parameters)
    if errors:
        runner.fail(msg="Invalid value of option problems: %s" % "; ".join(errors))
    return checked


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


def run(runner):
    """Validate ``runner.params``; returns the result dict of a valid run, calls ``runner.fail`` otherwise."""
    if not values_loader.HAS_YAML:
        runner.fail(msg=missing_required_lib("PyYAML"), exception=str(values_loader.YAML_IMPORT_ERROR))
    if not values_schema.HAS_JSONSCHEMA:
        runner.fail(msg=missing_required_lib("jsonschema"), exception=str(values_schema.JSONSCHEMA_IMPORT_ERROR))

    params = runner.params
    caller_problems = _caller_problems(runner, params["problems"])
    # Missing or unreadable input files join the problem list (they cover the read error of the same source).
    caller_problems.extend(values_validate.check_input_files(params["input_files"]))
    specs = []
    for spec in params["sources"]:
        content = spec.get("content")
        specs.append({"name": spec.get("name") or spec.get("path"), "path": spec.get("path"), "content": content,
                      "package": spec.get("package")})
        # Mask inline secrets everywhere in the output, including the invocation.
        if isinstance(content, str) and values_loader.HAS_YAML:
            content = values_loader.load_yaml_text(content, "content")[0]
        if isinstance(content, dict):
            _mask(runner, values_secrets.secret_values(content))

    written = _write(runner, params["write"])

    existing = _normalize(params["existing_secrets"])
    if params["secrets_namespace"]:
        existing = existing or {}

    def validate(existing_secrets):
        try:
            return values_validate.validate_sources(
                specs,
                schema=params["schema"],
                strict=params["strict"],
                existing_secrets=existing_secrets,
                domain_required=params["domain_required"],
                external_tls_termination=params["external_tls_termination"],
                warn_inline_secrets=params["warn_inline_secrets"],
                extra_problems=caller_problems,
            )
        except values_problems.CartoValuesError as exc:
            runner.fail(msg=str(exc), exception=traceback.format_exc())

    result = validate(existing)
    if params["secrets_namespace"] and result["missing_secrets"]:
        # Only when the values reference a Secret (or key) the play does not create is the cluster read.
        for name, keys in _cluster_secrets(runner, params).items():
            existing[name] = list(existing.get(name) or []) + [k for k in keys if k not in (existing.get(name) or [])]
        result = validate(existing)

    _mask(runner, values_secrets.secret_values(result["merged_values"]))
    for warning in result["warnings"]:
        runner.warn(values_problems.format_problem(warning))

    output = dict(
        changed=bool(written),
        written=written["path"] if written else None,
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
    output["msg"] = "Helm values are valid for chart %s (%d warning(s))" % (result["chart"], len(result["warnings"]))
    return output
