# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Support bundle: redaction and the .tar.gz writer (collection lives in the module).

What support asks for (CARTO's public docs): pods, events, ``kubectl describe`` and ``kubectl logs``
including ``-c workspace-migrations`` (https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes, "Post-installation checks"),
Services/Ingress (https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, "Troubleshooting" > "Ingress"), Helm status/history
and values, versions and the verification report (https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md, "Diagnosis tool").

No secret value may reach the archive: values are redacted by key (``values_secrets.redact_values``),
Secret objects are reduced to their key names, and every text file is scrubbed of every known
secret string (values of the namespace's Secrets, secret-looking values, extra strings) and of
their base64 forms.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import io
import json
import tarfile
import time

from ansible_collections.carto.selfhosted.plugins.module_utils._values import secrets as values_secrets

REDACTED = "[REDACTED]"
#: Shorter strings are not scrubbed (they would mangle ordinary words and numbers).
MIN_SECRET_LENGTH = 6


def secret_strings_from_secrets(secrets):
    """Decoded values (and lines of multi-line values) of Secret objects."""
    out = set()
    for secret in secrets or []:
        for key, value in ((secret.get("data") or {}).items()):
            try:
                text = base64.b64decode(value or "").decode("utf-8", "replace")
            except (ValueError, TypeError):
                continue
            out.add(text)
            out.update(line.strip() for line in text.splitlines())
        for key, value in ((secret.get("stringData") or {}).items()):
            out.add(str(value))
    return out


def expand(strings):
    """Strings to scrub: each one, its base64 form, long enough, longest first."""
    out = set()
    for text in strings or []:
        if text is None:
            continue
        text = str(text)
        if len(text.strip()) < MIN_SECRET_LENGTH:
            continue
        out.add(text)
        out.add(text.strip())
        out.add(base64.b64encode(text.encode("utf-8")).decode("ascii"))
        out.add(json.dumps(text)[1:-1])  # JSON-escaped form (newlines as \n)
    return sorted((s for s in out if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def scrub(text, strings):
    for secret in strings:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def reduce_secret(secret):
    """A Secret object without its values: metadata, type and key names."""
    meta = secret.get("metadata") or {}
    return {"name": meta.get("name"), "type": secret.get("type"),
            "keys": sorted(list((secret.get("data") or {}).keys()) + list((secret.get("stringData") or {}).keys())),
            "labels": meta.get("labels") or {}}


def redact_env(obj):
    """Deep copy of a pod/workload object with secret-named env values replaced."""
    obj = copy.deepcopy(obj)

    def walk(node):
        if isinstance(node, dict):
            for key in ("containers", "initContainers"):
                for container in node.get(key) or []:
                    for env in container.get("env") or []:
                        if "value" in env and values_secrets.is_secret_path((env.get("name") or "",)):
                            env["value"] = REDACTED
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(obj)
    return obj


def redact_manifest(objects):
    """Release manifest objects with Secret values removed."""
    out = []
    for obj in objects or []:
        if isinstance(obj, dict) and obj.get("kind") == "Secret":
            obj = dict(obj)
            obj["data"] = dict((k, REDACTED) for k in (obj.get("data") or {}))
            if "stringData" in obj:
                obj["stringData"] = dict((k, REDACTED) for k in (obj.get("stringData") or {}))
        out.append(redact_env(obj) if isinstance(obj, dict) else obj)
    return out


def to_text(value):
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def write_bundle(path, files, strings, top="carto-support"):
    """Write ``files`` ({relative name: text or JSON-able}) as a .tar.gz, scrubbed. Returns the list of names."""
    scrub_list = expand(strings)
    names = []
    now = time.time()
    with tarfile.open(path, "w:gz") as tar:
        for name in sorted(files):
            data = scrub(to_text(files[name]), scrub_list).encode("utf-8")
            info = tarfile.TarInfo("%s/%s" % (top, name))
            info.size = len(data)
            info.mtime = now
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
            names.append(name)
    return names
