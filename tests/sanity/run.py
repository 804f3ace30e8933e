"""Run ``ansible-test sanity`` on the collection as Galaxy would ship it, offline.

    python tests/sanity/run.py                    # every sanity test (about 2 minutes)
    python tests/sanity/run.py --test validate-modules --test ansible-doc

Steps:
1. ``ansible-galaxy collection build`` (build_ignore of galaxy.yml applies) and
   ``ansible-galaxy collection install --no-deps --force`` into
   $CARTO_SELFHOSTED_CACHE/sanity-trees/<checkout>/ansible_collections/ (default ~/.cache/carto-selfhosted), so
   ansible-test runs from an ``ansible_collections/carto/selfhosted`` tree. It must be outside this
   git checkout: inside it, ansible-test takes its targets from ``git ls-files`` and finds none;
2. kubernetes.core and community.crypto from the ``ansible`` package are linked next to it (the
   modules use their doc fragments and module_utils);
3. ansible-test creates one virtualenv per sanity test under ~/.ansible/test/venv and bootstraps pip
   there with a script downloaded from ci-files.testing.ansible.com, which is not reachable here:
   tests/sanity/get_pip.py (ensurepip + PyPI) is put in its cache instead when it is missing;
4. ``ansible-test sanity --local --python <this python>`` with tests/sanity/ignore-<ansible-core X.Y>.txt
   (ansible-test picks it: ignore-2.21.txt on the current stack, requirements.txt; ignore-2.19.txt for 2.19).
Exit status: ansible-test's.
"""

import argparse
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _ansible_test_pip_version():
    import ansible_test  # pylint: disable=import-outside-toplevel
    source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text(encoding="utf-8"))
    return match.group(1) if match else None


def install_pip_bootstrap():
    version = _ansible_test_pip_version()
    if not version:
        return
    cache = pathlib.Path.home() / ".ansible" / "test" / "cache" / ("get_pip_%s.py" % version.replace(".", "_"))
    if not cache.is_file():
        cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "tests" / "sanity" / "get_pip.py", cache)
        print("[sanity] pip bootstrap for ansible-test: %s (from tests/sanity/get_pip.py)" % cache, flush=True)


def build_tree(dest):
    """The built artifact installed as dest/ansible_collections/carto/selfhosted, with its dependencies linked."""
    with tempfile.TemporaryDirectory() as dist:
        subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", dist, str(ROOT)],
                       check=True, stdout=subprocess.DEVNULL)
        artifact = next(pathlib.Path(dist).glob("carto-selfhosted-*.tar.gz"))
        if dest.exists():
            shutil.rmtree(dest)
        subprocess.run(["ansible-galaxy", "collection", "install", "--no-deps", "--force", "-p", str(dest),
                        str(artifact)], check=True, stdout=subprocess.DEVNULL)
    import ansible_collections.kubernetes.core as k8s  # pylint: disable=import-outside-toplevel
    bundled = pathlib.Path(list(k8s.__path__)[0]).parent.parent
    for namespace, name in (("kubernetes", "core"), ("community", "crypto")):
        link = dest / "ansible_collections" / namespace / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(bundled / namespace / name)
    return dest / "ansible_collections" / "carto" / "selfhosted"


def main(argv=None):
    parser = argparse.ArgumentParser(description="ansible-test sanity on the built collection, offline")
    parser.add_argument("--test", action="append", default=[], help="only this sanity test (repeatable)")
    cache = os.environ.get("CARTO_SELFHOSTED_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "carto-selfhosted")
    # One tree per checkout: two checkouts' runs at the same time (CI and a developer's worktree) each rebuild
    # their own tree instead of deleting the other's under it.
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    parser.add_argument("--dest", type=pathlib.Path, default=pathlib.Path(cache) / "sanity-trees" / checkout)
    args, rest = parser.parse_known_args(argv)
    install_pip_bootstrap()
    tree = build_tree(args.dest)
    python = "%d.%d" % sys.version_info[:2]
    cmd = ["ansible-test", "sanity", "--local", "--python", python, "--color", "no"]
    for test in args.test:
        cmd += ["--test", test]
    cmd += rest
    print("[sanity] (cd %s && %s)" % (tree, " ".join(cmd)), flush=True)
    env = dict(os.environ)
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    env.pop("ANSIBLE_CONFIG", None)
    return subprocess.run(cmd, cwd=str(tree), env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
