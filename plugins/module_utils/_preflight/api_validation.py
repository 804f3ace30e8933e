# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The API server's own validation of every rendered object, before anything changes: a server-side apply with
``dryRun=All`` (https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run).

A dry run runs every stage of a write (defaulting, validation, admission, including ValidatingAdmissionPolicies and
webhooks that declare ``sideEffects: None``) and persists nothing. That catches what an OpenAPI schema cannot:
a Service ``type: Balancer`` (``Unsupported value``) as well as a CPU request above its limit (``Invalid value:
"20": must be less than or equal to cpu limit of 1``).

On a first install the release's namespace does not exist yet, and a dry run into a missing namespace fails with
``NotFound``. The objects are then sent, their ``metadata.namespace`` rewritten, to an existing namespace (the
``fallback`` namespace, ``default`` unless told otherwise). The validation is the same; what a namespace adds
(a LimitRange, a ResourceQuota, Pod Security labels) is that of the fallback namespace.

Each error is reported with the object (kind/name), the field path and the API's message, and, where it can be
traced, the values key that produced the value (a leaf of the final values equal to the rejected value, the
closest in name to the field path and the object). Pure functions, except :func:`run` that takes the sender.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from multiprocessing.pool import ThreadPool

from ansible_collections.carto.selfhosted.plugins.module_utils.carto_checks import (
    FAILED, PASSED, SKIPPED, WARNING, check)

DOC_DRY_RUN = "Kubernetes API dry run (https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run)"
FIELD_MANAGER = "carto-selfhosted-preflight"
WORKERS = 8
_VALUE = re.compile(r'(?:Invalid|Unsupported) value: "?(?P<value>[^":]*)"?')
_TOKEN = re.compile(r"[A-Za-z][a-z0-9]*|[0-9]+")


def resource_index(resources):
    """``{(apiVersion, kind): (plural, namespaced)}`` from discovery entries ``{"apiVersion", "kind", "resource",
    "namespaced"}``."""
    return dict(((r["apiVersion"], r["kind"]), (r["resource"], bool(r["namespaced"]))) for r in resources or [])


def requests(objects, resources, namespace):
    """One server-side apply dry run per object: ``[{"kind", "name", "path", "body", "object"}]``.

    Objects whose kind the cluster does not serve are left out (the ``served_kinds`` check names them). Namespaced
    objects go to ``namespace`` whatever their manifest says (Helm installs them there too)."""
    index = resource_index(resources)
    out = []
    for obj in objects:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        name = (obj.get("metadata") or {}).get("name")
        if (api_version, kind) not in index or not name:
            continue
        plural, namespaced = index[(api_version, kind)]
        base = "/api/%s" % api_version if "/" not in api_version else "/apis/%s" % api_version
        body = json.loads(json.dumps(obj))
        meta = body.setdefault("metadata", {})
        if namespaced:
            meta["namespace"] = namespace
            path = "%s/namespaces/%s/%s/%s" % (base, namespace, plural, name)
        else:
            meta.pop("namespace", None)
            path = "%s/%s/%s" % (base, plural, name)
        out.append({"kind": kind, "name": name, "path": path, "body": body, "object": obj})
    return out


def run(send, objects, resources, namespace):
    """Dry-run every object with ``send(path, body) -> (http_status, response_dict)`` (a PATCH
    ``application/apply-patch+yaml`` with ``dryRun=All``, ``force=true``, ``fieldManager``).

    Returns ``[{"kind", "name", "status", "reason", "message", "causes": [{"field", "message", "reason"}]}]``
    for the objects the API refused (status >= 400); an empty list when everything passed."""
    refused = []
    reqs = requests(objects, resources, namespace)
    # the requests are independent: a few at a time (the API server answers each in milliseconds; the round trips
    # of 50+ objects one after the other add up)
    pool = ThreadPool(min(WORKERS, max(len(reqs), 1)))
    try:
        answers = pool.map(lambda req: send(req["path"], req["body"]), reqs)
    finally:
        pool.close()
    for req, (status, response) in zip(reqs, answers):
        if status < 400:
            continue
        response = response if isinstance(response, dict) else {}
        details = response.get("details") or {}
        refused.append({"kind": req["kind"], "name": req["name"], "status": status,
                        "reason": response.get("reason") or "", "message": response.get("message") or "",
                        "causes": [dict((k, c.get(k) or "") for k in ("field", "message", "reason"))
                                   for c in details.get("causes") or []]})
    return refused


def _leaves(values, prefix=""):
    if isinstance(values, dict):
        for key, value in values.items():
            yield from _leaves(value, "%s.%s" % (prefix, key) if prefix else str(key))
    elif isinstance(values, list):
        for pos, value in enumerate(values):
            yield from _leaves(value, "%s[%d]" % (prefix, pos))
    else:
        yield prefix, values


def _tokens(text):
    return set(t.lower() for t in _TOKEN.findall(text or ""))


def trace_key(values, kind, name, field, message):
    """The values key (dotted path) that most likely produced the rejected value, or None.

    The rejected value is read from the API's message (``Invalid value: "20"`` / ``Unsupported value:
    "Balancer"``); the candidates are the leaves of ``values`` equal to it, ranked by the words they share with
    the field path, the object's name and kind (``router.service.type`` for Service ``carto-router`` field
    ``spec.type``)."""
    match = _VALUE.search(message or "")
    if not match or match.group("value") in ("", "null"):
        return None
    bad = match.group("value")
    context = _tokens(field) | _tokens(name) | _tokens(kind)
    leaf = (field or "").split(".")[-1].split("[")[0].lower()
    best = None
    for path, value in _leaves(values or {}):
        if isinstance(value, bool) or value is None or str(value) != bad:
            continue
        words = _tokens(path)
        score = len(words & context) + (2 if path.split(".")[-1].lower() == leaf else 0)
        if best is None or score > best[0]:
            best = (score, path)
    return best[1] if best else None


def check_api_validation(refused, values, namespace=None, fallback=None, error=None):
    """The ``api_validation`` preflight check from :func:`run`'s result.

    Failed for objects the API found invalid (422 ``Invalid``, 400 ``BadRequest``), naming kind/name, field, the
    API's message and the values key; warning when a dry run was not allowed (403, or a webhook without dry-run
    support) since the server could not check those objects; skipped when nothing could be sent (``error``)."""
    if error:
        return check("api_validation", SKIPPED, "the server-side dry run did not run: %s" % error, doc=DOC_DRY_RUN)
    if refused is None:
        return check("api_validation", SKIPPED, "no rendered manifest or API discovery", doc=DOC_DRY_RUN)
    where = (" (into namespace %s, %s does not exist yet)" % (fallback, namespace)
             if fallback and fallback != namespace else "")
    if not refused:
        return check("api_validation", PASSED, "the API server accepts every rendered object (server-side dry "
                     "run%s)" % where, doc=DOC_DRY_RUN)
    grouped, order, unchecked = {}, [], []
    for item in refused:
        if item["status"] in (400, 422) and "dry run" not in item["message"].lower():
            for cause in item["causes"] or [{"field": "", "message": item["message"]}]:
                key = trace_key(values, item["kind"], item["name"], cause.get("field"), cause.get("message"))
                text = "%s%s%s" % ((cause.get("field") + ": ") if cause.get("field") else "", cause.get("message"),
                                   " (values key %s)" % key if key else "")
                if text not in grouped:
                    order.append(text)
                grouped.setdefault(text, []).append("%s %s" % (item["kind"], item["name"]))
        else:
            unchecked.append("%s %s: %s %s" % (item["kind"], item["name"], item["status"], item["message"]))
    # one line per distinct error: a common label rejected on 57 objects is one problem, not 57
    invalid = []
    for text in order:
        names = grouped[text]
        more = " and %d more" % (len(names) - 3) if len(names) > 3 else ""
        invalid.append("%s%s: %s" % (", ".join(names[:3]), more, text))
    if invalid:
        return check("api_validation", FAILED,
                     "the API server rejects %d rendered object(s)%s: %s%s"
                     % (len(set((i["kind"], i["name"]) for i in refused if i["status"] in (400, 422))), where,
                        "; ".join(invalid), ("; not checked: " + "; ".join(unchecked)) if unchecked else ""),
                     fix="correct the values key named (or the customization that sets it) to a value the API "
                         "accepts", doc=DOC_DRY_RUN)
    return check("api_validation", WARNING, "the server could not dry-run some objects (they were not checked): %s"
                 % "; ".join(unchecked),
                 fix="allow dry runs for this user (RBAC: the same verbs as the install) and set sideEffects: None "
                     "on admission webhooks", doc=DOC_DRY_RUN, required=False)
