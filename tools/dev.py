#!/usr/bin/env python3
"""Developer entry point: one command for the main job, one for the tests.

    python3 tools/dev.py install   # venv + tools + local cluster, then playbooks/install.yml -i inventories/local
    python3 tools/dev.py test      # venv + tools, then ansible-lint, molecule (local cluster) and pytest
    python3 tools/dev.py env       # print the environment (eval "$(python3 tools/dev.py env)")
    python3 tools/dev.py cluster start|stop|status

Everything it installs is taken from the project's own files and cached outside the
repository ($CARTO_SELFHOSTED_CACHE, default ~/.cache/carto-selfhosted):
- a virtualenv built from requirements.txt, keyed by the file's hash;
- helm v3 and the control-plane binaries (tools/localcluster/cluster.py).
Only the standard library is used here, so it runs with any python3 >= 3.9.
"""

import contextlib
import fcntl
import hashlib
import os
import pathlib
import shlex
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
CLUSTER = REPO / "tools" / "localcluster" / "cluster.py"


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


def ensure_venv():
    """A virtualenv with requirements.txt, reused while the file and the Python version are unchanged."""
    requirements = (REPO / "requirements.txt").read_bytes()
    key = hashlib.sha256(requirements + sys.version.encode()).hexdigest()[:12]
    venv = cache_dir() / ("venv-" + key)
    marker = venv / ".complete"
    if marker.is_file():
        return venv
    with cache_lock("venv-" + key):
        if marker.is_file():  # built by a concurrent run while we waited
            return venv
        return _build_venv(venv, marker)


def _build_venv(venv, marker):
    log("creating virtualenv %s from requirements.txt" % venv)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(pip + ["install", "--upgrade", "pip"], check=True)
    subprocess.run(pip + ["install", "-r", str(REPO / "requirements.txt")], check=True)
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


def environment():
    venv = ensure_venv()
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


def cmd_test(args):
    env = environment()
    ensure_package(env)
    # The checks that are one process each (ansible-lint, ansible-test sanity, molecule's converge) run side by
    # side: one alone leaves the second core idle. CARTO_TEST_SERIAL=1 runs them one after the other.
    checks = [
        ("ansible-lint", ["ansible-lint", "--profile", "production"]),
        ("sanity", ["python", "tests/sanity/run.py"]),
        ("molecule", ["molecule", "test", "-s", "default"]),
    ]
    # pytest last, alone: its closing line is the run's verdict. Two workers, each with its own local cluster;
    # tests are handed out one by one in collection order (the long integration tests first, the short unit
    # tests fill the end), except the files marked with an xdist_group (module-scoped fixtures), which stay
    # on one worker.
    pytest = ("pytest", ["python", "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "tests"] + args)
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
    started = time.monotonic()
    rc = run(pytest[1], env)
    results.append(("pytest", rc, time.monotonic() - started))
    log("pytest: %s in %.0f s" % ("ok" if rc == 0 else "FAILED (rc=%d)" % rc, results[-1][2]))
    failed = [name for name, rc, _ in results if rc]
    log("summary: " + ", ".join("%s %s %.0fs" % (n, "ok" if rc == 0 else "FAILED", t) for n, rc, t in results))
    return 1 if failed else 0


def cmd_env(_args):
    env = environment()
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
