"""No tracked file of the product cites ../shared (developer/CI-only material) or its document names.

../shared exists beside the repository on the developers' machines and in CI, not on a user's machine: the
product's comments, docs and messages cite CARTO's public documentation (docs.carto.com, CARTO's public
carto-selfhosted-helm repository) or the upstream project instead. tests/ may locate ../shared (and skip
without it); molecule/shared is molecule's own folder.
"""

import pathlib
import re
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# The document names of ../shared/docs and any ../shared or shared/docs path.
CITATION = re.compile(r"\.\./shared(?!/pki\.yml)|shared/docs|carto-kubernetes-install\.md|carto-customizations\.md"
                      r"|carto-access-outside-cluster\.md|pgo-helm-chart\.md")

EXCLUDED_DIRS = ("tests/", "molecule/shared/")

# Files allowed to name ../shared, each with why.
ALLOWED = {
    # A developer tool whose default input is CARTO's chart beside the repository; not a citation.
    "tools/gen_values_schema.py",
}


def _tracked_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=str(REPO), check=True, stdout=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (git ls-files failed)")
    return [name for name in out.decode().split("\0") if name]


def _citations(names):
    found = []
    for name in names:
        if name.startswith(EXCLUDED_DIRS) or name in ALLOWED:
            continue
        path = REPO / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if CITATION.search(line):
                found.append("%s:%d: %s" % (name, number, line.strip()[:160]))
    return found


def test_no_tracked_file_cites_shared():
    found = _citations(_tracked_files())
    assert not found, "cite https://docs.carto.com/... (or the upstream URL) instead of ../shared:\n" + "\n".join(found)


def test_the_pattern_catches_a_citation(tmp_path):
    """The check can fail: a file citing a shared document is reported, molecule's ../shared/pki.yml is not."""
    (tmp_path / "a.yml").write_text("# see ../shared/docs/carto-customizations.md\n")
    (tmp_path / "b.yml").write_text("- ansible.builtin.include_tasks: ../shared/pki.yml\n")
    (tmp_path / "c.py").write_text("DOC = 'carto-kubernetes-install.md, Requirements'\n")
    global REPO  # pylint: disable=global-statement
    saved, REPO = REPO, tmp_path
    try:
        found = _citations(["a.yml", "b.yml", "c.py"])
    finally:
        REPO = saved
    assert [f.split(":")[0] for f in found] == ["a.yml", "c.py"]
