# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Check records shared by the preflight, the verification and the support bundle.

A check is a dict ``{name, status, message, fix, doc, required}`` with ``status`` one of
``passed``, ``failed``, ``warning``, ``skipped``. A check that could not run is ``skipped``
with the reason in ``message``: it is never reported as passed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PASSED = "passed"
FAILED = "failed"
WARNING = "warning"
SKIPPED = "skipped"
STATUSES = (PASSED, FAILED, WARNING, SKIPPED)

TABLE_COLUMNS = ("CHECK", "STATUS", "DETAIL")


def check(name, status, message, fix=None, doc=None, required=True):
    if status not in STATUSES:
        raise ValueError("status must be one of %s, not %r" % (", ".join(STATUSES), status))
    out = {"name": name, "status": status, "message": message, "required": bool(required)}
    if fix:
        out["fix"] = fix
    if doc:
        out["doc"] = doc
    return out


def summarize(checks):
    """Counts per status and the verdict: ``failed`` when a required check failed, else ``passed``."""
    counts = dict((s, 0) for s in STATUSES)
    for item in checks:
        counts[item["status"]] += 1
    failed = [c["name"] for c in checks if c["status"] == FAILED and c.get("required", True)]
    return {"verdict": FAILED if failed else PASSED, "counts": counts, "failed": failed,
            "warnings": [c["name"] for c in checks if c["status"] == WARNING],
            "skipped": [c["name"] for c in checks if c["status"] == SKIPPED]}


def table_rows(checks, width=160):
    """Rows (CHECK, STATUS, DETAIL) for ``format_table``; the fix follows the message of a failure."""
    rows = []
    for item in checks:
        detail = item.get("message") or ""
        if item["status"] in (FAILED, WARNING) and item.get("fix"):
            detail = "%s Fix: %s" % (detail, item["fix"])
        status = item["status"].upper() if item["status"] != PASSED else "passed"
        if item["status"] == FAILED and not item.get("required", True):
            status = "FAILED (optional)"
        if width and len(detail) > width:
            detail = detail[:width - 3] + "..."
        rows.append({"CHECK": item["name"], "STATUS": status, "DETAIL": detail})
    return rows


def format_checks(checks, width=160):
    """Lines of the check table, then one summary line."""
    rows = table_rows(checks, width=width)
    widths = [max([len(c)] + [len(r[c]) for r in rows]) for c in TABLE_COLUMNS]
    lines = []
    for row in [dict(zip(TABLE_COLUMNS, TABLE_COLUMNS))] + rows:
        lines.append("   ".join(row[c].ljust(w) for c, w in zip(TABLE_COLUMNS, widths)).rstrip())
    summary = summarize(checks)
    lines.append("%s: %d passed, %d failed, %d warning(s), %d skipped" % (
        summary["verdict"].upper(), summary["counts"][PASSED], summary["counts"][FAILED],
        summary["counts"][WARNING], summary["counts"][SKIPPED]))
    return lines


def failure_message(checks, what):
    """One message naming every failed required check with its fix (all problems at once)."""
    failed = [c for c in checks if c["status"] == FAILED and c.get("required", True)]
    if not failed:
        return ""
    parts = []
    for item in failed:
        text = "%s: %s" % (item["name"], item["message"])
        if item.get("fix"):
            text += " Fix: %s" % item["fix"]
        parts.append(text)
    return "%s failed %d check(s): %s" % (what, len(failed), " | ".join(parts))
