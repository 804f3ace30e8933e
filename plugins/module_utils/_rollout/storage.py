# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Mark a release revision ``failed`` in Helm's release storage, with the reason, as Helm's own failRelease does.

Why our own code: Helm has no command that sets a revision's status or description. When the rollout engine stops
Helm (``SIGTERM``), Helm records the revision ``failed`` with the description ``... failed: context canceled``, or,
on install paths that return at once on a cancelled context (``pkg/action/install.go``), leaves it
``pending-install``, which the next ``helm upgrade`` would refuse. Either way this writes ``failed`` and the verdict
as the description, so ``helm history`` says why.

Storage format (Helm's ``secrets`` driver, the default, and ``configmaps``): object
``sh.helm.release.v1.<release>.v<revision>`` with labels ``name``, ``owner=helm``, ``status``, ``version``, and the
release as base64(gzip(JSON)) under ``release`` (https://helm.sh/docs/topics/advanced/#storage-backends).
Other drivers (``sql``, ``memory``) are not touched: ``mark_failed`` returns False and the release stays pending,
which the next run recovers (helm_release_upgrade ``recover=true``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import json
import os


def decode_release(data):
    """The release dict of a storage object's ``release`` field (the driver's base64 of gzipped JSON)."""
    raw = base64.b64decode(data)
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw.decode("utf-8"))


def encode_release(release):
    return base64.b64encode(gzip.compress(json.dumps(release, separators=(",", ":")).encode("utf-8"))).decode()


def mark_failed(api_client, namespace, name, revision, description, expect_status="pending-install"):
    """Set revision ``revision`` of release ``name`` to ``failed`` with ``description`` (the verdict).

    Returns True when it was changed; False when the driver is not secrets/configmaps, the object is missing or its
    status is no longer ``expect_status`` (Helm recorded something itself). Raises the API's errors (ApiException).
    """
    from kubernetes import client as k8s_client

    driver = (os.environ.get("HELM_DRIVER") or "secret").lower()
    core = k8s_client.CoreV1Api(api_client)
    object_name = "sh.helm.release.v1.%s.v%s" % (name, revision)
    if driver in ("secret", "secrets", ""):
        obj = core.read_namespaced_secret(object_name, namespace)
        payload = base64.b64decode(obj.data["release"]).decode("ascii")
    elif driver in ("configmap", "configmaps"):
        obj = core.read_namespaced_config_map(object_name, namespace)
        payload = obj.data["release"]
    else:
        return False
    release = decode_release(payload)
    info = release.setdefault("info", {})
    if info.get("status") != expect_status:
        return False
    info["status"] = "failed"
    info["description"] = description
    encoded = encode_release(release)
    labels = dict(obj.metadata.labels or {}, status="failed")
    if driver in ("configmap", "configmaps"):
        body = {"metadata": {"labels": labels, "resourceVersion": obj.metadata.resource_version},
                "data": {"release": encoded}}
        core.patch_namespaced_config_map(object_name, namespace, body)
    else:
        body = {"metadata": {"labels": labels, "resourceVersion": obj.metadata.resource_version},
                "data": {"release": base64.b64encode(encoded.encode("ascii")).decode("ascii")}}
        core.patch_namespaced_secret(object_name, namespace, body)
    return True
