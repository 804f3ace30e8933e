"""Make ``ansible_collections.carto.selfhosted`` importable for the unit tests.

The repository root is the collection root. Like ansible-lint, we expose it as
``.ansible/collections/ansible_collections/carto/selfhosted`` (a relative
symlink, git-ignored) and put ``.ansible/collections`` on ``sys.path``; the
``ansible`` package's own ``ansible_collections`` (kubernetes.core,
community.crypto) stays importable because ``ansible_collections`` is a
namespace package.
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _collections_dir():
    if ROOT.parent.name == "carto" and ROOT.parent.parent.name == "ansible_collections":
        return ROOT.parent.parent.parent
    base = ROOT / ".ansible" / "collections"
    link = base / "ansible_collections" / "carto" / "selfhosted"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(ROOT, link.parent), link)
    return base


sys.path.insert(0, str(_collections_dir()))
