"""Integration fixtures: a real control plane per test session and a playbook runner.

Each session starts its own control plane (tools/localcluster) in a private state
directory, so sessions never share a cluster; tests isolate themselves further with
their own namespace. Everything listens on 127.0.0.1 only.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import time
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "localcluster"))
sys.path.insert(0, str(REPO / "tests" / "tools"))

import cluster as localcluster  # noqa: E402
import make_package  # noqa: E402

RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)"
                   r"\s+ignored=(?P<ignored>\d+)", re.M)


# A task failure as the default callback prints it with ANSIBLE_CALLBACK_RESULT_FORMAT=json (one line per host).
FATAL = re.compile(r"^fatal: \[(?P<host>[^\]]+)\]: FAILED! => (?P<json>\{.*\})$", re.M)


class PlaybookResult(object):
    """One ansible-playbook run: ``rc``, ``stdout``, ``stderr``; ``recaps`` {host: PLAY RECAP counts}, ``recap`` the
    last host's (the only one of a one-host inventory)."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.recaps, self.recap = {}, {}
        for match in RECAP.finditer(proc.stdout):
            self.recap = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
            self.recaps[match.group("host")] = self.recap

    def failures(self):
        """{host: the message of its first failed task, whitespace collapsed}; needs the run to have printed its
        results as JSON (``ANSIBLE_CALLBACK_RESULT_FORMAT=json``)."""
        messages = {}
        for match in FATAL.finditer(self.stdout):
            messages.setdefault(match.group("host"), " ".join(json.loads(match.group("json")).get("msg", "").split()))
        return messages

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return "PlaybookResult(rc=%s, recap=%s)" % (self.rc, self.recap)

    def __str__(self):
        """What an assertion message shows: the status and the end of the output."""
        return "rc=%s recap=%s\n%s" % (self.rc, self.recap, self.output[-6000:])


class LocalCluster(object):
    """A running control plane: ``kubeconfig``, ``env`` (PATH with helm/kubectl) and helpers."""

    def __init__(self, state_dir, kubeconfig, tools):
        self.state_dir = state_dir
        self.kubeconfig = str(kubeconfig)
        self.tools = tools
        self.env = dict(os.environ)
        self.env.update({
            "PATH": os.pathsep.join([str(tools), str(pathlib.Path(sys.executable).parent), self.env.get("PATH", "")]),
            "CARTO_LOCALCLUSTER_DIR": str(state_dir),
            "CARTO_LOCAL_KUBECONFIG": self.kubeconfig,
            "CARTO_REPO_DIR": str(REPO),
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".ansible" / "collections"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "KUBECONFIG": self.kubeconfig,
        })

    def kubectl(self, *args, check=True, stdin=None):
        proc = subprocess.run([str(self.tools / "kubectl"), "--kubeconfig", self.kubeconfig] + list(args),
                              capture_output=True, text=True, input=stdin, env=self.env, check=False)
        if check and proc.returncode:
            raise AssertionError("kubectl %s failed: %s" % (" ".join(args), proc.stderr))
        return proc

    def get_json(self, *args):
        proc = self.kubectl("get", "-o", "json", *args, check=False)
        return json.loads(proc.stdout) if proc.returncode == 0 else None

    def helm(self, *args, check=True):
        proc = subprocess.run([str(self.tools / "helm"), "--kubeconfig", self.kubeconfig] + list(args),
                              capture_output=True, text=True, env=self.env, check=False)
        if check and proc.returncode:
            raise AssertionError("helm %s failed: %s" % (" ".join(args), proc.stderr))
        return proc

    def run_playbook(self, playbook, extra_vars=None, inventory="inventories/local", args=(), timeout=900, env=None):
        """Run ``ansible-playbook`` from the repository with JSON extra vars; return a PlaybookResult."""
        argv = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-i", inventory]
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        argv += list(args)
        run_env = dict(self.env)
        run_env.update(env or {})
        started = time.monotonic()
        proc = subprocess.run(argv, cwd=str(REPO), capture_output=True, text=True, timeout=timeout, env=run_env,
                              check=False)
        keep = os.environ.get("CARTO_TEST_PLAYBOOK_LOG_DIR")
        if keep:
            # For finding where a test's time goes: every run's output, with
            # ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks for per-task times.
            log = pathlib.Path(keep) / ("%s-%s-%s.log" % (time.strftime("%H%M%S"), os.getpid(),
                                                          pathlib.Path(str(playbook)).stem))
            log.parent.mkdir(parents=True, exist_ok=True)
            header = "%s\n%.1f s, rc=%d\n" % (" ".join(argv[:2]), time.monotonic() - started, proc.returncode)
            log.write_text(header + proc.stdout + proc.stderr)
        return PlaybookResult(proc)


@pytest.fixture(scope="session")
def local_cluster(tmp_path_factory):
    state = tmp_path_factory.mktemp("localcluster")
    os.environ["CARTO_LOCALCLUSTER_DIR"] = str(state)
    try:
        tools = localcluster.ensure_tools()
        kubeconfig = localcluster.start(nodes=3)
        yield LocalCluster(state, kubeconfig, tools)
    finally:
        localcluster.stop(purge=True)
        os.environ.pop("CARTO_LOCALCLUSTER_DIR", None)


@pytest.fixture(scope="session")
def carto_package(tmp_path_factory):
    """A fake CARTO installation package (carto-values.yaml, carto-secrets.yaml)."""
    dest = tmp_path_factory.mktemp("package")
    make_package.make_package(str(dest))
    return {"carto_package_values_file": str(dest / "carto-values.yaml"),
            "carto_package_secrets_file": str(dest / "carto-secrets.yaml")}


@pytest.fixture
def namespace(request):
    """A fresh namespace name for one test; the namespace (and every release in it) is deleted afterwards, so the
    session cluster's 48 CPUs are not used up by the releases of earlier tests (their pods keep their requests)."""
    name = "t-" + uuid.uuid4().hex[:8]
    yield name
    if "local_cluster" in request.fixturenames:
        request.getfixturevalue("local_cluster").kubectl("delete", "namespace", name, "--ignore-not-found",
                                                         "--wait=false", check=False)


@pytest.fixture
def base_vars(carto_package, namespace, tmp_path):
    """Extra vars for playbooks/install.yml against the session cluster, in the test's own namespace."""
    out = dict(carto_package)
    out.update({"carto_namespace": namespace, "carto_output_dir": str(tmp_path / "output"),
                "carto_deploy_timeout": 120})
    return out


def _helm_majors():
    """The Helm majors the ``helm`` fixture runs on: $CARTO_TEST_HELM_MAJORS ("3", "4", "3,4"; default both).
    tools/dev.py test gives 4 to the whole suite on the current ansible-core and 3 to the deploy subset on 2.19,
    so each major drives those tests once."""
    majors = [m for m in re.split(r"[\s,]+", os.environ.get("CARTO_TEST_HELM_MAJORS", "3,4")) if m]
    unknown = sorted(set(majors) - {"3", "4"})
    if unknown or not majors:
        raise pytest.UsageError("CARTO_TEST_HELM_MAJORS=%r: give 3, 4 or both (e.g. 3,4)"
                                % os.environ.get("CARTO_TEST_HELM_MAJORS"))
    return sorted(set(majors))


HELM_MAJORS = _helm_majors()


@pytest.fixture(scope="session")
def newest_helm(local_cluster):
    """Path of the newest Helm major of $CARTO_TEST_HELM_MAJORS, for tests that run on one major only."""
    return str(local_cluster.tools / ("helm" + HELM_MAJORS[-1]))


@pytest.fixture(params=HELM_MAJORS, ids=["helm" + m for m in HELM_MAJORS])
def helm(request, local_cluster):
    """(major, path) of a Helm CLI for ``carto_helm_binary``: the deploy, recovery and rollout tests run on each
    major of $CARTO_TEST_HELM_MAJORS (tools/localcluster builds Helm 3.22.0 and 4.3.1 as helm3 and helm4)."""
    path = local_cluster.tools / ("helm" + request.param)
    assert path.exists(), "tools/localcluster builds helm3 and helm4"
    return request.param, str(path)
