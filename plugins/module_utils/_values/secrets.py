# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: secret values in Helm values (by key name and section), their redaction, and the Secrets the
values reference (``existingSecret``s, TLS) checked against the namespace.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.carto.selfhosted.plugins.module_utils._values.merge import _setter
from ansible_collections.carto.selfhosted.plugins.module_utils._values.problems import (
    DOC_APPLY, DOC_OWN_TLS, DOC_PG_SECRETS, DOC_REDIS_SECRETS, ERROR, MERGED_SOURCE, REDACTED, make_problem,
)


_SECRET_NAME_RE = re.compile(
    r"(password|passwd|secret|token|apikey|api_key|privatekey|private_key|saltkey|masterkey|sdkkey"
    r"|accesskey|connectionstring|credentials)", re.I)
_SECRET_SECTIONS = ("appSecrets", "cartoSecrets")


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
