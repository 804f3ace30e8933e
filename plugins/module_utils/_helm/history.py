# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Private: the pure functions on a Helm release (no I/O): times, the history and the recovery plan of a
release left ``pending-*``, chart versions, values comparison and diff.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import difflib
import json
import re
from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import redact_values

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML is a requirement of ansible-core
    yaml = None


PENDING_STATES = ("pending-install", "pending-upgrade", "pending-rollback")
GOOD_STATES = ("deployed", "superseded")


PENDING_TIMEOUT = 900  # seconds, default of helm_release_upgrade's pending_timeout


DOC_STUCK = ('https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md "Helm upgrade fails: another operation '
             '(install/upgrade/rollback) is in progress"')


# --------------------------------------------------------------------------- time


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(value):
    """Parse Helm / Kubernetes timestamps into an aware UTC datetime (None when empty).

    Accepts ``2026-11-21T05:30:08.890507773Z`` (helm history -o json, RFC 3339 with
    nanoseconds), ``2026-11-21 05:30:14.2697 +0000 UTC`` (helm list) and Kubernetes
    MicroTime/Time (``...Z``). datetime objects are returned as UTC.
    """
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).strip()
    text = re.sub(r" UTC$", "", text)
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$", text)
    if not match:
        raise ValueError("unrecognised timestamp %r" % (value,))
    day, clock, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    stamp = datetime.datetime.strptime(day + "T" + clock, "%Y-%m-%dT%H:%M:%S").replace(microsecond=micro)
    offset = datetime.timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (stamp - offset).replace(tzinfo=datetime.timezone.utc)


def format_time(value):
    """RFC 3339 MicroTime as Kubernetes Leases use it (``2026-01-02T03:04:05.000006Z``)."""
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- history


def normalise_history(history):
    """``helm history -o json`` entries sorted by revision, with ``revision`` as int."""
    out = []
    for entry in history or []:
        item = dict(entry)
        item["revision"] = int(item.get("revision", 0))
        out.append(item)
    return sorted(out, key=lambda item: item["revision"])


def last_good_revision(history, before=None):
    """The revision to go back to: the newest ``deployed`` one, else the newest ``superseded`` one.

    Only revisions lower than ``before`` count when it is given. Returns the history entry or None.
    """
    candidates = [h for h in normalise_history(history) if before is None or h["revision"] < before]
    for wanted in ("deployed", "superseded"):
        matching = [h for h in candidates if h.get("status") == wanted]
        if matching:
            return matching[-1]
    return None


def plan_recovery(history, now, pending_timeout, orphaned_since=None):
    """Decide what to do with a release before an upgrade.

    Returns a dict: ``state`` (absent, deployed, failed, uninstalled, pending-*, ...), ``revision``
    (last revision or None), ``age`` (seconds since the last revision was written, or None),
    ``action`` (``none``, ``wait``, ``rollback`` or ``reinstall``), ``target`` (revision to roll
    back to), ``stale_reason`` and ``reason`` (a sentence for the report).

    A pending-* last revision is stale (its operation is no longer in progress) when it is older than
    ``pending_timeout`` seconds, or when ``orphaned_since`` is given (the acquire time of a release
    lock whose holder stopped renewing it: that run died) and the revision was written at or after it.
    Stale: roll back to the last deployed, else last superseded revision; when there is none (a first
    install that never succeeded) uninstall it keeping the history and install again. Not stale: wait.
    ``pending_timeout`` None (an explicit null option) means the default, ``PENDING_TIMEOUT``.
    """
    if pending_timeout is None:
        pending_timeout = PENDING_TIMEOUT
    hist = normalise_history(history)
    if not hist:
        return {"state": "absent", "revision": None, "age": None, "action": "none", "target": None,
                "stale_reason": None, "reason": "the release does not exist yet"}
    last = hist[-1]
    updated = parse_time(last.get("updated"))
    age = max(0.0, (now - updated).total_seconds()) if updated else None
    plan = {"state": last.get("status"), "revision": last["revision"], "age": age, "action": "none",
            "target": None, "stale_reason": None, "chart": last.get("chart"), "updated": last.get("updated"),
            "reason": "revision %s is %s" % (last["revision"], last.get("status"))}
    if last.get("status") not in PENDING_STATES:
        return plan
    orphaned = parse_time(orphaned_since) if orphaned_since else None
    if orphaned is not None and updated is not None and updated >= orphaned:
        plan["stale_reason"] = ("it was started by a carto.selfhosted run whose release lock expired without "
                                "being released (that run was killed)")
    elif age is not None:
        # the age is unknown (no updated time) -> only an orphaned lock makes the revision stale
        if age >= pending_timeout:
            plan["stale_reason"] = "it is %d s old, more than the %d s pending timeout" % (age, pending_timeout)
    if not plan["stale_reason"]:
        plan["action"] = "wait"
        plan["reason"] = ("revision %s has been %s for %s s: another operation (install/upgrade/rollback) may still "
                          "be in progress" % (last["revision"], last.get("status"), "?" if age is None else int(age)))
        return plan
    target = last_good_revision(hist, before=last["revision"])
    if target is not None:
        plan.update(action="rollback", target=target["revision"],
                    reason="revision %s was left %s (%s); rolling back to revision %s (%s, chart %s)" % (
                        last["revision"], last.get("status"), plan["stale_reason"], target["revision"],
                        target.get("status"), target.get("chart")))
    else:
        plan.update(action="reinstall",
                    reason="revision %s was left %s (%s) and no revision was ever deployed; uninstalling it "
                           "(history kept) so that it is installed again" % (
                               last["revision"], last.get("status"), plan["stale_reason"]))
    return plan


# --------------------------------------------------------------------------- charts


def split_chart(chart):
    """``carto-1.287.1-test`` -> (``carto``, ``1.287.1-test``) as Helm prints NAME-VERSION."""
    match = re.match(r"^(.*?)-(v?\d+(?:\.\d+)*(?:[-+].*)?)$", chart or "")
    if not match:
        return chart or "", ""
    return match.group(1), match.group(2)


def _version_key(version):
    text = str(version or "").lstrip("vV").split("+", 1)[0]
    core, _sep, pre = text.partition("-")
    nums = []
    for part in core.split("."):
        digits = re.match(r"\d+", part)
        nums.append(int(digits.group(0)) if digits else 0)
    while len(nums) < 3:
        nums.append(0)
    pre_key = []
    for part in pre.split(".") if pre else []:
        pre_key.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    # A release sorts after its pre-releases (SemVer 2.0.0 section 11).
    return tuple(nums), (1,) if not pre else (0, tuple(pre_key))


def compare_versions(left, right):
    """-1, 0 or 1 as SemVer orders ``left`` and ``right`` (build metadata ignored)."""
    a, b = _version_key(left), _version_key(right)
    return (a > b) - (a < b)


# --------------------------------------------------------------------------- values


def values_equal(left, right):
    """Exact comparison after a JSON round trip (what ``helm get values -o json`` returns)."""
    return json.loads(json.dumps(left or {}, sort_keys=True, default=str)) == \
        json.loads(json.dumps(right or {}, sort_keys=True, default=str))


def _yaml(data):
    return yaml.safe_dump(json.loads(json.dumps(data or {}, default=str)), default_flow_style=False, sort_keys=True)


def values_diff(before, after, before_header="deployed values", after_header="new values"):
    """Unified diff lines of the two values dicts with every secret redacted, and the redacted texts."""
    before_text = _yaml(redact_values(before or {}))
    after_text = _yaml(redact_values(after or {}))
    lines = list(difflib.unified_diff(before_text.splitlines(), after_text.splitlines(),
                                      before_header, after_header, lineterm="", n=2))
    return lines, before_text, after_text


def secret_change_paths(before, after):
    """Dotted key paths of secret leaves whose value differs (their values are never returned)."""
    from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import _iter_secret_leaves

    old = dict(_iter_secret_leaves(before or {}))
    new = dict(_iter_secret_leaves(after or {}))
    return sorted(".".join(str(p) for p in path) for path in set(old) | set(new) if old.get(path) != new.get(path))
