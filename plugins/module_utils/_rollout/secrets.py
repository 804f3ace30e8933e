# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Private: roll exactly the workloads whose Secrets changed, through the chart's ``<component>.podAnnotations``.

Kubernetes does not restart a pod when a Secret it reads through ``env`` / ``envFrom`` changes, and Helm only
rolls what its rendered pod templates change. The CARTO chart already checksums the Secrets it renders itself
(``checksum/secret``, ``checksum/postgresql-password``), but not the ones it is pointed at with
``existingSecret`` (docs.carto.com, Self-hosted, "Customizations": "Setup Postgres creating secrets", external
Redis, TLS, custom buckets), which this collection or an operator writes. So for every workload of the release:

1. which values path feeds its pod template's annotations: the chart is rendered once with a marker annotation in
   every ``<path>.podAnnotations`` of its default values (``marker_values``), so the mapping is read from the
   render, not from a table of component names;
2. which Secrets its pod template reads (``env[].valueFrom.secretKeyRef``, ``envFrom[].secretRef``,
   ``volumes[].secret`` and ``projected`` sources; ``pod_secret_refs``), minus the Secrets the release renders
   itself (the chart checksums those; their live data lags the values until the upgrade);
3. the live data of those Secrets, digested as HMAC-SHA256 keyed with the Secret's ``metadata.uid``
   (``secret_digest``): a pod annotation, readable by anyone who may read pods, then cannot be used to test guesses
   of a weak password offline; recreating a Secret also rolls its consumers, which is harmless;
4. per values path, ``checksum/secrets`` (one digest over its Secrets) and ``carto.selfhosted/secret-checksums``
   (``name=<16 hex>`` per Secret, to name the Secret that changed) merged into the user's ``podAnnotations``
   (``plan``).

The annotations are ordinary values: an unchanged Secret gives the same values (no upgrade, ``changed=0``); a
changed one changes the pod templates of exactly its consumers, and ``helm upgrade --wait`` with the rollout
engine rolls and verifies them like any deploy; a rollback restores the previous checksums with the values.
Only checksums ever leave this module, never Secret data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import hmac
import json

from ansible_collections.carto.selfhosted.plugins.module_utils._yaml import LOADER as _LOADER, yaml

MARKER = "carto.selfhosted/values-path-"
CHECKSUM = "checksum/secrets"
PER_SECRET = "carto.selfhosted/secret-checksums"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
ABSENT = "absent"
SHORT = 16  # hex digits of a Secret's digest in PER_SECRET (64 bits: enough to tell a change)
_MAX_DEPTH = 4


class RenderError(Exception):
    """``helm show values`` or ``helm template`` failed (the upgrade would fail the same way)."""


# --------------------------------------------------------------------------- pure functions


def annotation_paths(*trees):
    """Paths (tuples of keys) of the dicts that have a ``podAnnotations`` key (a dict or empty), in any of
    ``trees`` (the chart's default values, the user's values), sorted."""
    found = set()

    def walk(node, path):
        if not isinstance(node, dict) or len(path) > _MAX_DEPTH:
            return
        annotations = node.get("podAnnotations", False)
        if path and (annotations is None or isinstance(annotations, dict)):
            found.add(path)
        for key, value in node.items():
            if key != "podAnnotations" and isinstance(value, dict) and isinstance(key, str):
                walk(value, path + (key,))

    for tree in trees:
        walk(tree or {}, ())
    return sorted(found)


def _node(values, path, create=False):
    node = values
    for key in path:
        if not isinstance(node, dict):
            return None
        if key not in node or not isinstance(node[key], dict):
            if not create:
                return None
            node[key] = {}
        node = node[key]
    return node


def marker_values(values, paths):
    """A deep copy of ``values`` with a marker annotation (``carto.selfhosted/values-path-<n>: <path as JSON>``)
    added to every ``<path>.podAnnotations`` (user annotations kept), for one ``helm template`` that shows which
    values path feeds which pod template. Paths whose podAnnotations is not a dict (a tpl string) are left out."""
    out = copy.deepcopy(values or {})
    for index, path in enumerate(paths):
        node = _node(out, path, create=True)
        current = node.get("podAnnotations")
        if current is not None and not isinstance(current, dict):
            continue
        merged = dict(current or {})
        merged["%s%d" % (MARKER, index)] = json.dumps(list(path))
        node["podAnnotations"] = merged
    return out


def manifest_documents(manifest):
    """The objects of a rendered manifest (YAML text or a list), ``kind: List`` flattened."""
    docs = manifest if isinstance(manifest, list) else list(yaml.load_all(manifest or "", Loader=_LOADER))
    out = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List":
            out.extend(item for item in doc.get("items") or [] if isinstance(item, dict))
        else:
            out.append(doc)
    return out


def pod_secret_refs(spec):
    """Sorted names of the Secrets a pod spec reads: ``env[].valueFrom.secretKeyRef``, ``envFrom[].secretRef``
    of every container (init and ephemeral too), ``volumes[].secret`` and ``volumes[].projected.sources[].secret``.
    ``imagePullSecrets`` are not consumed by the running containers and do not count."""
    names = set()
    spec = spec or {}
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(group) or []:
            for env in container.get("env") or []:
                names.add(((env.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name"))
            for source in container.get("envFrom") or []:
                names.add((source.get("secretRef") or {}).get("name"))
    for volume in spec.get("volumes") or []:
        names.add((volume.get("secret") or {}).get("secretName"))
        for source in (volume.get("projected") or {}).get("sources") or []:
            names.add((source.get("secret") or {}).get("name"))
    return sorted(name for name in names if isinstance(name, str) and name)


def consumers(docs):
    """(workloads, rendered Secret names) of a manifest rendered with ``marker_values``.

    Each workload (Deployment, StatefulSet, DaemonSet) is a dict ``kind``, ``name``, ``id`` (``Kind/name``),
    ``path`` (the values path of its podAnnotations - the first when several feed it - or None when none does)
    and ``secrets`` (the Secrets its pod template reads that the release does not render itself)."""
    docs = manifest_documents(docs)
    rendered = sorted(set((d.get("metadata") or {}).get("name") for d in docs
                          if d.get("kind") == "Secret" and (d.get("metadata") or {}).get("name")))
    loads = []
    for doc in docs:
        if doc.get("kind") not in WORKLOAD_KINDS:
            continue
        template = (doc.get("spec") or {}).get("template") or {}
        annotations = (template.get("metadata") or {}).get("annotations") or {}
        paths = []
        for key, value in annotations.items():
            if str(key).startswith(MARKER):
                try:
                    paths.append(tuple(json.loads(value)))
                except (TypeError, ValueError):
                    continue
        name = (doc.get("metadata") or {}).get("name")
        loads.append({"kind": doc["kind"], "name": name, "id": "%s/%s" % (doc["kind"], name),
                      "path": min(paths) if paths else None,
                      "secrets": [s for s in pod_secret_refs(template.get("spec")) if s not in rendered]})
    return sorted(loads, key=lambda load: load["id"]), rendered


def secret_digest(secret):
    """HMAC-SHA256 (hex) of a Secret's ``type`` and ``data`` keyed with its ``metadata.uid``; ``absent`` for None."""
    if secret is None:
        return ABSENT
    key = str((secret.get("metadata") or {}).get("uid") or "").encode("utf-8")
    body = json.dumps({"type": secret.get("type") or "Opaque", "data": secret.get("data") or {}},
                      sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def aggregate(digests):
    """``checksum/secrets`` of a component: SHA-256 over ``name=digest`` lines of its Secrets, sorted by name."""
    text = "".join("%s=%s\n" % (name, digests[name]) for name in sorted(digests))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_per_secret(text):
    """``{name: short digest}`` of a ``carto.selfhosted/secret-checksums`` annotation (``a=1f..,b=2e..``)."""
    out = {}
    for item in str(text or "").split(","):
        name, sep, digest = item.strip().partition("=")
        if sep and name:
            out[name] = digest
    return out


def _short(digest):
    return digest if digest == ABSENT else digest[:SHORT]


def plan(values, loads, digests, previous=None):
    """Merge the checksum annotations into ``values``. Returns (new values, rotation report).

    ``loads`` from ``consumers``; ``digests`` ``{secret name: secret_digest}``; ``previous`` the deployed values
    (``helm get values``), None for a new install. The report (checksums only): ``components`` per values path
    (``checksum``, ``secrets`` {name: short digest}, ``workloads``, ``changed``), ``secrets`` (all consumed),
    ``secrets_changed`` (whose data differs from the deployed checksums), ``secrets_added`` (newly checksummed:
    first run with checksums, or newly referenced), ``workloads_rolled`` (``Kind/name`` whose pod template changes
    through ``checksum/secrets``; empty for a new install), ``unmanaged`` (workloads reading such Secrets whose pod
    template takes no podAnnotations: not rolled by this) and ``skipped`` (paths whose podAnnotations is not a dict).
    """
    by_path = {}
    unmanaged = []
    for load in loads:
        if not load["secrets"]:
            continue
        if load["path"] is None:
            unmanaged.append(load["id"])
            continue
        entry = by_path.setdefault(tuple(load["path"]), {"secrets": set(), "workloads": []})
        entry["secrets"].update(load["secrets"])
        entry["workloads"].append(load["id"])
    new = copy.deepcopy(values or {})
    report = {"components": {}, "secrets": [], "secrets_changed": [], "secrets_added": [], "workloads_rolled": [],
              "unmanaged": sorted(unmanaged), "skipped": []}
    consumed, changed, added, rolled = set(), set(), set(), set()
    for path, entry in sorted(by_path.items()):
        label = ".".join(path)
        node = _node(new, path, create=True)
        user = node.get("podAnnotations")
        if user is not None and not isinstance(user, dict):
            report["skipped"].append(label)
            continue
        full = dict((name, digests.get(name, ABSENT)) for name in sorted(entry["secrets"]))
        short = dict((name, _short(digest)) for name, digest in full.items())
        checksum = aggregate(full)
        merged = dict(user or {})
        merged.update({CHECKSUM: checksum, PER_SECRET: ",".join("%s=%s" % item for item in sorted(short.items()))})
        node["podAnnotations"] = merged

        before = (_node(previous, path) or {}).get("podAnnotations") if previous is not None else None
        before = before if isinstance(before, dict) else {}
        before_short = parse_per_secret(before.get(PER_SECRET))
        component_changed = previous is not None and before.get(CHECKSUM) != checksum
        for name, digest in short.items():
            if name not in before_short:
                added.add(name)
            elif before_short[name] != digest:
                changed.add(name)
        consumed.update(full)
        if component_changed:
            rolled.update(entry["workloads"])
        report["components"][label] = {"checksum": checksum, "secrets": short, "workloads": sorted(entry["workloads"]),
                                       "changed": component_changed}
    report.update(secrets=sorted(consumed), secrets_changed=sorted(changed),
                  secrets_added=sorted(added) if previous is not None else [], workloads_rolled=sorted(rolled))
    return new, report


def strip(values):
    """A deep copy of ``values`` without the checksum annotations (empty podAnnotations and components left out):
    whether anything else than the checksums differs between two values."""
    def clean(node):
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "podAnnotations" and isinstance(value, dict):
                value = dict((k, v) for k, v in value.items() if k not in (CHECKSUM, PER_SECRET))
            else:
                value = clean(value)
            if value != {} or (isinstance(node.get(key), dict) and not node.get(key)):
                out[key] = value
        return out
    return clean(copy.deepcopy(values or {}))


def summary(report):
    """One sentence for the release reasons and the logs: which Secrets changed and what they roll."""
    if not report or not (report.get("secrets_changed") or report.get("secrets_added")) \
            or not report.get("workloads_rolled"):
        return ""
    parts = []
    if report.get("secrets_changed"):
        parts.append("Secret data changed: %s" % ", ".join(report["secrets_changed"]))
    if report.get("secrets_added"):
        parts.append("Secret checksums added: %s" % ", ".join(report["secrets_added"]))
    return "%s (rolls %s)" % ("; ".join(parts), ", ".join(report["workloads_rolled"]))


# --------------------------------------------------------------------------- I/O


def read_digests(client, namespace, names):
    """``{name: secret_digest}`` of the live Secrets ``names`` (``absent`` when one does not exist). The data is
    digested as soon as it is read and never returned."""
    from kubernetes import client as k8s_client
    from kubernetes.client.rest import ApiException

    core = k8s_client.CoreV1Api(client)
    out = {}
    for name in sorted(set(names)):
        try:
            response = core.read_namespaced_secret(name, namespace, _preload_content=False)
            out[name] = secret_digest(json.loads(response.data))
        except ApiException as exc:
            if exc.status != 404:
                raise
            out[name] = ABSENT
    return out


def with_checksums(helm, client, chart_ref, repo_url, version, values, previous):
    """The values with the Secret checksums merged, and the rotation report (``plan``).

    ``helm`` is a ``_helm.cli.HelmRelease`` (``show_values`` and ``template``), ``client`` a kubernetes
    ApiClient. Raises RenderError when the chart cannot be read or rendered with the values."""
    rc, out, err = helm.show_values(chart_ref, repo_url, version)
    if rc != 0:
        raise RenderError("helm show values %s failed: %s" % (chart_ref, (err or out).strip()))
    defaults = yaml.load(out or "", Loader=_LOADER) or {}
    paths = annotation_paths(defaults, values)
    rc, out, err = helm.template(chart_ref, marker_values(values, paths), repo_url, version)
    if rc != 0:
        raise RenderError("helm template %s failed: %s" % (chart_ref, (err or out).strip()))
    loads, _rendered = consumers(out)
    names = sorted(set(name for load in loads for name in load["secrets"]))
    digests = read_digests(client, helm.namespace, names) if names else {}
    return plan(values, loads, digests, previous)
