#!/usr/bin/env python3
"""Developer entry point: one command for the main job, one for the tests.

    python3 tools/dev.py install   # venv + tools + local cluster, then playbooks/install.yml -i inventories/local
    python3 tools/dev.py test      # both stacks: ansible-lint, sanity, molecule, pytest (current); pytest -m deploy (2.19)
    python3 tools/dev.py env [--stack 2.19]   # print the environment (eval "$(python3 tools/dev.py env)")
    python3 tools/dev.py cluster start|stop|status

Two stacks, each a pinned requirements file and the Python it runs on (STACKS below):
- current: requirements.txt (ansible 14 = ansible-core 2.21) on the newest of python3.13 / python3.12 found
  (the distribution's /usr/bin one first, then on PATH, then under pyenv's versions/ when its shim has no version
  selected); CARTO_PYTHON_CURRENT=/path overrides;
- 2.19: requirements-2.19.txt (ansible 12 = ansible-core 2.19) on python3.11, found the same way (CARTO_PYTHON_2_19
  overrides).
`install`, `env` and `cluster` use the current stack (`env --stack 2.19` the other one); `test` runs ansible-lint,
sanity, molecule and the whole pytest suite on the current stack, then the deploy subset (pytest -m deploy) on
2.19, each Helm major once (CARTO_TEST_HELM_MAJORS: 4 on the current stack, 3 on 2.19).

Everything it installs is taken from the project's own files and cached outside the
repository ($CARTO_SELFHOSTED_CACHE, default ~/.cache/carto-selfhosted):
- one virtualenv per stack, keyed by its requirements file's hash and its Python's version;
- helm v3/v4 and the control-plane binaries (tools/localcluster/cluster.py).
Only the standard library is used here, so it runs with any python3 >= 3.9.
"""

import collections
import contextlib
import fcntl
import glob
import hashlib
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
CLUSTER = REPO / "tools" / "localcluster" / "cluster.py"

Stack = collections.namedtuple("Stack", "name requirements pythons override")
# Pythons newest first; the first one that runs (and has venv + ensurepip) is taken.
CURRENT = Stack("current", "requirements.txt", ("3.13", "3.12"), "CARTO_PYTHON_CURRENT")
OLDEST = Stack("2.19", "requirements-2.19.txt", ("3.11", "3.12", "3.13"), "CARTO_PYTHON_2_19")
STACKS = {stack.name: stack for stack in (CURRENT, OLDEST)}


def log(msg):
    print("[dev] %s" % msg, file=sys.stderr, flush=True)


def cache_dir():
    base = os.environ.get("CARTO_SELFHOSTED_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "carto-selfhosted")
    path = pathlib.Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def cache_lock(name):
    """Serialize builds into the shared cache between concurrent runs (CI, several shells)."""
    with open(cache_dir() / (".%s.lock" % name), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _probe(python):
    """("X.Y", sys.version) of an interpreter that runs and can make a virtualenv with pip, else None. A pyenv shim
    for a version that is installed but not selected exits non-zero: it does not count."""
    try:
        proc = subprocess.run([python, "-c", "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2]); "
                               "print(sys.version)"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = proc.stdout.splitlines()
    return (lines[0], lines[1]) if proc.returncode == 0 and len(lines) == 2 else None


def _candidates(version):
    # The distribution's interpreter first: Debian and Ubuntu build theirs with PGO and LTO, pyenv without (its
    # --enable-optimizations is off by default). Measured here (2 cores): `import kubernetes` takes 0.39 s of CPU on
    # Debian 12's python3.11 and 0.75 s on pyenv's 3.11.7; a no-op playbooks/install.yml run 8.7 s of CPU (ansible
    # and its modules) against 10.3 s.
    yield "/usr/bin/python" + version
    yield sys.executable
    found = shutil.which("python" + version)
    if found:
        yield found
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    pattern = os.path.join(pyenv_root, "versions", version + ".*", "bin", "python" + version)

    def patch_level(path):
        tail = pathlib.Path(path).parent.parent.name[len(version) + 1:]
        return int(tail) if tail.isdigit() else -1
    for path in sorted(glob.glob(pattern), key=patch_level, reverse=True):
        yield path
    yield "/usr/local/bin/python" + version


def find_python(stack):
    """(path, "X.Y", sys.version) of the Python ``stack`` runs on; SystemExit saying what was looked for if none."""
    override = os.environ.get(stack.override)
    if override:
        info = _probe(override)
        if not info:
            raise SystemExit("[dev] %s=%s does not run (or has no venv/ensurepip)" % (stack.override, override))
        return (override,) + info
    seen = set()
    for version in stack.pythons:
        for path in _candidates(version):
            if path in seen:
                continue
            seen.add(path)
            info = _probe(path)
            if info and info[0] == version:
                return (path,) + info
    raise SystemExit(
        "[dev] no Python for the %s stack (%s): none of %s runs here (looked on PATH, in pyenv's versions/ and in "
        "/usr/bin, /usr/local/bin). ansible-core of that stack needs one of them on the controller; install one "
        "(e.g. pyenv install %s) or point %s at it." % (
            stack.name, stack.requirements, ", ".join("python" + v for v in stack.pythons), stack.pythons[0],
            stack.override))


def ensure_venv(stack=CURRENT):
    """A virtualenv with the stack's requirements, reused while the file and the Python version are unchanged."""
    python, _version, full_version = find_python(stack)
    requirements = (REPO / stack.requirements).read_bytes()
    key = hashlib.sha256(requirements + full_version.encode()).hexdigest()[:12]
    venv = cache_dir() / ("venv-" + key)
    marker = venv / ".complete"
    if marker.is_file():
        return venv
    with cache_lock("venv-" + key):
        if marker.is_file():  # built by a concurrent run while we waited
            return venv
        return _build_venv(stack, python, venv, marker)


def _build_venv(stack, python, venv, marker):
    log("creating virtualenv %s from %s with %s" % (venv, stack.requirements, python))
    started = time.monotonic()
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(pip + ["install", "--upgrade", "pip"], check=True)
    subprocess.run(pip + ["install", "-r", str(REPO / stack.requirements)], check=True)
    marker.write_text("ok\n")
    log("virtualenv ready in %.0f s" % (time.monotonic() - started))
    return venv


def link_collection():
    """Expose the repository as ansible_collections/carto/selfhosted (as ansible-lint does)."""
    base = REPO / ".ansible" / "collections"
    link = base / "ansible_collections" / "carto" / "selfhosted"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        if link.is_symlink():
            link.unlink()
        link.symlink_to(os.path.relpath(REPO, link.parent))
    return base


def environment(stack=CURRENT):
    venv = ensure_venv(stack)
    collections = link_collection()
    tools = subprocess.run([str(venv / "bin" / "python"), str(CLUSTER), "tools"], check=True,
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    env = dict(os.environ)
    env.update({
        "PATH": os.pathsep.join([tools, str(venv / "bin"), env.get("PATH", "")]),
        "VIRTUAL_ENV": str(venv),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        # ansible-lint and molecule (through ansible-compat) "install" the collection under
        # $ANSIBLE_HOME/collections unless they find it there as a link to this checkout. Left at ~/.ansible,
        # both copied the repository there with `ansible-galaxy collection install --force` at the same time
        # (they run side by side) and one's rmtree failed under the other. Pointing ANSIBLE_HOME at this
        # checkout's .ansible makes both find the link and install nothing; ~/.ansible stays untouched.
        "ANSIBLE_HOME": str(REPO / ".ansible"),
        "CARTO_HELM": os.path.join(tools, "helm"),
        "CARTO_TOOLS_DIR": tools,
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def run(argv, env, **kwargs):
    log("$ %s" % " ".join(shlex.quote(str(a)) for a in argv))
    return subprocess.run([str(a) for a in argv], env=env, cwd=str(REPO), **kwargs).returncode


def ensure_package(env):
    """A fake CARTO installation package for the local cluster (no real license or key)."""
    dest = REPO / ".cache" / "package"
    if not (dest / "carto-values.yaml").is_file() or not (dest / "carto-secrets.yaml").is_file():
        rc = run(["python", REPO / "tests" / "tools" / "make_package.py", "--dest", dest], env)
        if rc:
            raise SystemExit(rc)
    return dest


def cluster(env, *args):
    return run(["python", CLUSTER] + list(args), env)


def cmd_install(args):
    env = environment()
    ensure_package(env)
    started = time.monotonic()
    if cluster(env, "start", "--keep-data"):
        return 1
    rc = run(["ansible-playbook", "playbooks/install.yml", "-i", "inventories/local"] + args, env)
    log("install playbook finished with rc=%d in %.0f s; the local cluster keeps running "
        "(stop it with: python3 tools/dev.py cluster stop)" % (rc, time.monotonic() - started))
    return rc


def run_parallel(steps, env, logs):
    """Run ``steps`` [(name, argv)] at the same time, each with its output in ``logs/<name>.log``; print
    each log in order once every step has finished. Returns [(name, rc, seconds)]."""
    logs.mkdir(parents=True, exist_ok=True)
    running = []
    for name, argv in steps:
        log("$ %s  (output: %s)" % (" ".join(shlex.quote(str(a)) for a in argv), logs / (name + ".log")))
        handle = open(str(logs / (name + ".log")), "w")
        proc = subprocess.Popen([str(a) for a in argv], env=env, cwd=str(REPO), stdout=handle,
                                stderr=subprocess.STDOUT)
        running.append((name, proc, handle, time.monotonic()))
    results = []
    for name, proc, handle, started in running:
        rc = proc.wait()
        handle.close()
        results.append((name, rc, time.monotonic() - started))
    for name, rc, seconds in results:
        sys.stdout.write((logs / (name + ".log")).read_text())
        log("%s: %s in %.0f s" % (name, "ok" if rc == 0 else "FAILED (rc=%d)" % rc, seconds))
    sys.stdout.flush()
    return results


def _pytest(name, argv, env, majors, results):
    """Run one pytest stage with CARTO_TEST_HELM_MAJORS=``majors`` unless the caller set it; record its result."""
    env = dict(env)
    env.setdefault("CARTO_TEST_HELM_MAJORS", majors)
    log("%s: Helm major(s) %s" % (name, env["CARTO_TEST_HELM_MAJORS"]))
    started = time.monotonic()
    rc = run(argv, env)
    if rc == 5 and name != "pytest":
        log("%s: no test selected (extra arguments?), not a failure" % name)
        rc = 0
    results.append((name, rc, time.monotonic() - started))
    log("%s: %s in %.0f s" % (name, "ok" if rc == 0 else "FAILED (rc=%d)" % rc, results[-1][2]))


def cmd_test(args):
    # Both stacks' virtualenvs first: a missing Python or a failed build stops the run before any test.
    env = environment(CURRENT)
    oldest = environment(OLDEST)
    ensure_package(env)
    # The checks that are one process each (ansible-lint, ansible-test sanity, molecule's converge) run side by
    # side: one alone leaves the second core idle. CARTO_TEST_SERIAL=1 runs them one after the other. They run on
    # the current stack only (ansible-lint and molecule releases follow ansible-core; sanity's ignore file is per
    # ansible-core version).
    checks = [
        ("ansible-lint", ["ansible-lint", "--profile", "production"]),
        ("sanity", ["python", "tests/sanity/run.py"]),
        ("molecule", ["molecule", "test", "-s", "default"]),
    ]
    if os.environ.get("CARTO_TEST_SERIAL") == "1":
        results = []
        for name, argv in checks:
            started = time.monotonic()
            rc = run(argv, env)
            results.append((name, rc, time.monotonic() - started))
            log("%s: %s in %.0f s" % (name, "ok" if rc == 0 else "FAILED (rc=%d)" % rc, results[-1][2]))
    else:
        started = time.monotonic()
        results = run_parallel(checks, env, REPO / ".cache" / "test-logs")
        log("checks side by side: %.0f s" % (time.monotonic() - started))
    # pytest last: two workers, each with its own local cluster; tests are handed out one by one in collection
    # order (the long integration tests first, the short unit tests fill the end), except the files marked with an
    # xdist_group (module-scoped fixtures), which stay on one worker. The whole suite on the current stack with
    # Helm 4, then the deploy subset (install/uninstall, recovery, rollout: pytest -m deploy) on ansible-core 2.19
    # with Helm 3, so each Helm major drives those tests once. The last closing line is the subset's.
    # --durations: the slowest tests of each stage in the log, where the time budget is read from.
    xdist = ["-n", "2", "--dist", "loadgroup", "--durations=40", "--durations-min=5"]
    _pytest("pytest", ["python", "-m", "pytest", "-q"] + xdist + ["tests"] + args, env, "4", results)
    _pytest("pytest-2.19", [oldest["VIRTUAL_ENV"] + "/bin/python", "-m", "pytest", "-q"] + xdist
            + ["-m", "deploy", "tests/integration"] + args, oldest, "3", results)
    failed = [name for name, rc, _ in results if rc]
    log("summary: " + ", ".join("%s %s %.0fs" % (n, "ok" if rc == 0 else "FAILED", t) for n, rc, t in results))
    return 1 if failed else 0


def cmd_env(args):
    name = "current"
    if args[:1] == ["--stack"] and len(args) == 2:
        name = args[1]
    elif args:
        name = None
    if name not in STACKS:
        print("usage: dev.py env [--stack %s]" % "|".join(STACKS), file=sys.stderr)
        return 2
    env = environment(STACKS[name])
    for key in ("PATH", "VIRTUAL_ENV", "ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_HOME", "CARTO_HELM",
                "CARTO_TOOLS_DIR"):
        print("export %s=%s" % (key, shlex.quote(env[key])))
    return 0


def cmd_cluster(args):
    env = environment()
    return cluster(env, *(args or ["status"]))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"install": cmd_install, "test": cmd_test, "env": cmd_env, "cluster": cmd_cluster}
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
