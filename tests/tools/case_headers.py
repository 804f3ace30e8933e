"""The ``# key: value`` header lines of a bad-input fixture (``# expect:``, ``# rule:``, ``# key:``), read up to the
first line that is not a comment."""

import re

_HEADER = re.compile(r"^#\s*([a-z_]+):\s*(.*?)\s*$")


def read_headers(path):
    """``{name: value}`` of the leading ``# name: value`` lines of the file at ``path`` (str or pathlib.Path)."""
    headers = {}
    with open(str(path)) as handle:
        for line in handle:
            match = _HEADER.match(line)
            if match:
                headers[match.group(1)] = match.group(2)
            elif not line.startswith("#"):
                break
    return headers
