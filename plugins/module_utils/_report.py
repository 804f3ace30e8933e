# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Backend of carto.selfhosted.carto_report_write: a JSON document written atomically, mode 0600, only when its
content changed.

``write_json(dest, content, mode=0o600, check_mode=False)`` returns ``{"changed": bool, "dest": str,
"bytes": int, "diff": {"before": str, "after": str}}`` (``bytes``: size of the new file in bytes). ``content`` is any
JSON-serialisable value; it is written as ``json.dumps(content, indent=4, sort_keys=True)`` plus a newline (the
layout of Ansible's ``to_nice_json``). The file's directory must exist. Raises ``OSError`` (the path and the
reason) when the file cannot be read, written or renamed, ``TypeError``/``ValueError`` when ``content`` is not
JSON-serialisable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile


# The options of carto.selfhosted.carto_report_write (module and action plugin).
ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "content": {"type": "raw", "required": True},
    "mode": {"type": "str", "default": "0600"},
}


def render(content):
    """The file's text for ``content``: indented, sorted keys, a final newline."""
    return json.dumps(content, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(dest, content, mode=0o600, check_mode=False):
    text = render(content)
    before = ""
    if os.path.exists(dest):
        with open(dest, "r", encoding="utf-8", errors="replace") as handle:
            before = handle.read()
    same_mode = os.path.exists(dest) and (os.stat(dest).st_mode & 0o7777) == mode
    changed = before != text or not same_mode
    if changed and not check_mode:
        directory = os.path.dirname(os.path.abspath(dest))
        fd, tmp = tempfile.mkstemp(prefix=".report-", dir=directory)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return {"changed": changed, "dest": dest, "bytes": len(text.encode("utf-8")),
            "diff": {"before": before, "after": text, "before_header": dest, "after_header": dest}}
