"""The rollout engine of carto.selfhosted.deploy on the local control plane, on Helm 3 and Helm 4 (issue #12).

One test per terminal failure class. Scheduling (1), volume binding (2) and pod creation under a ResourceQuota (6)
are the real kube-scheduler, PV controller and quota admission; ProgressDeadlineExceeded (7) is the real Deployment
controller. Container states (3, 4, 5) and the failing hook Job (8) come from kwok stages driven by pod annotations
or the image tag (tools/localcluster/kwok-stages.yaml). Each test asserts the reason id, the culprit, Kubernetes'
own message, the revision's status, and that the verdict came within seconds of the condition, not at the
300 s timeout.
"""

import json
import re
import tarfile
import threading
import time

import pytest

# The deploy subset (@pytest.mark.deploy), also run on the oldest tested ansible-core with Helm 3 (tools/dev.py
# test: pytest -m deploy): the tests whose path depends on the Helm major or the ansible-core version (Helm's
# reaction to SIGTERM, its release storage, rollback, recovery, install/uninstall). The classification of
# Kubernetes' reasons is the same on both and runs once, on the current stack.

TIMEOUT = 300  # carto_deploy_timeout: what helm --wait alone would wait
VERDICT = re.compile(r"\[(?P<id>[a-z_]+)\]\. Stopped (?P<after>[0-9.]+) s after the condition was first seen")
NO_PROVISIONER = "carto-test-no-provisioner"


def _flat(text):
    return " ".join(text.split())


def _fault(component, fault, container=None, message=None, restarts=None):
    annotations = {"carto.selfhosted/test-fault": fault}
    if container:
        annotations["carto.selfhosted/test-fault-container"] = container
    if message:
        annotations["carto.selfhosted/test-fault-message"] = message
    if restarts is not None:
        annotations["carto.selfhosted/test-fault-restarts"] = str(restarts)
    return {component: {"podAnnotations": annotations}}


def _history(cluster, namespace):
    proc = cluster.helm("history", "carto", "-n", namespace, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else []


def _logs(cluster, namespace, tmp_path, current, previous=None):
    cur = tmp_path / "current.log"
    cur.write_text("".join("2026-01-01T00:00:00.000000000Z stdout F %s\n" % line for line in current))
    spec = {"logsFile": str(cur)}
    if previous:
        prev = tmp_path / "previous.log"
        prev.write_text("".join("2026-01-01T00:00:00.000000000Z stdout F %s\n" % line for line in previous))
        spec["previousLogsFile"] = str(prev)
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs", "metadata": {"name": "logs-" + namespace},
        "spec": {"selector": {"matchNamespaces": [namespace]}, "logs": [spec]}}))


def _run(cluster, base_vars, helm, overrides, **extra):
    # deploy_rollout_grace 2 s (default 5 s) and no support bundle (test_crashing_migrations checks it): the suite's
    # time; test_image_pull keeps the default grace and checks it.
    variables = dict(base_vars, carto_helm_binary=helm[1], carto_deploy_timeout=TIMEOUT,
                     carto_values_overrides=overrides, deploy_rollout_grace=2, carto_support_bundle_on_failure=False)
    variables.update(extra)
    started = time.monotonic()
    result = cluster.run_playbook("playbooks/install.yml", variables)
    return result, time.monotonic() - started


def _assert_verdict(result, seconds, reason_id, culprit, message):
    # str(result): the status and the end of the output (pytest shows only the repr of a non-string message).
    assert result.rc != 0, str(result)
    text = _flat(result.output)
    match = VERDICT.search(text)
    assert match, str(result)
    assert match.group("id") == reason_id, str(result)
    assert float(match.group("after")) <= 10.0, str(result)
    assert re.search(culprit, text), str(result)
    assert re.search(message, text), str(result)
    # Had helm --wait run to its own timeout, the run would last at least TIMEOUT; the playbook's other steps
    # (preflight, verify) take longer on a loaded machine, so that is the bound, not a fixed 90 s.
    assert seconds < TIMEOUT, "the whole run took %.0f s: the verdict did not stop helm --wait" % seconds
    return text


def _assert_failed_first_install(cluster, namespace, reason_id):
    history = _history(cluster, namespace)
    assert [h["status"] for h in history] == ["failed"], history
    assert ("[%s]" % reason_id) in history[-1]["description"], history


@pytest.mark.deploy
def test_unschedulable(local_cluster, base_vars, namespace, helm):
    # A required pod affinity to pods that do not exist: only the scheduler tells (the preflight's node_capacity
    # fit covers requests, taints, node selectors and the workload's own anti-affinity, not affinity to other pods;
    # a pod larger than any node is refused there, see test_preflight_corpus.py).
    affinity = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "a-cache-that-is-not-there"}},
         "topologyKey": "kubernetes.io/hostname"}]}}
    overrides = {"router": {"affinity": affinity}}
    result, seconds = _run(local_cluster, base_vars, helm, overrides)
    _assert_verdict(result, seconds, "unschedulable", r"Pod/carto-router-\S+ \(Deployment/carto-router\)",
                    r"Unschedulable: 0/3 nodes are available: 3 node\(s\) didn't match pod affinity rules")
    _assert_failed_first_install(local_cluster, namespace, "unschedulable")


def test_pvc_not_bound(local_cluster, base_vars, namespace, helm):
    local_cluster.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": NO_PROVISIONER},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"}))
    overrides = {"internalPostgresql": {"primary": {"persistence": {"enabled": True, "storageClass": NO_PROVISIONER}}}}
    result, seconds = _run(local_cluster, base_vars, helm, overrides)
    _assert_verdict(result, seconds, "pvc_not_bound", r"PersistentVolumeClaim/data-carto-postgresql-0",
                    r"didn't find available persistent volumes to bind")
    _assert_failed_first_install(local_cluster, namespace, "pvc_not_bound")


def test_image_pull(local_cluster, base_vars, namespace, helm):
    message = ('Back-off pulling image "us-docker.pkg.dev/carto-onprem-artifacts/gcr.io/workspace-api:nope": '
               'ErrImagePull: manifest unknown')
    result, seconds = _run(local_cluster, base_vars, helm,
                           _fault("workspaceApi", "ImagePullBackOff", "workspace-api", message), deploy_rollout_grace=5)
    text = _assert_verdict(result, seconds, "image_pull",
                           r"container workspace-api of Pod/carto-workspace-api-\S+ \(Deployment/carto-workspace-api\)",
                           r"ImagePullBackOff: Back-off pulling image \S+workspace-api:nope")
    # Not terminal at first sight: an image pull failure gets deploy_rollout_grace (5 s) to clear.
    assert float(VERDICT.search(text).group("after")) >= 4.5, text
    _assert_failed_first_install(local_cluster, namespace, "image_pull")


def test_crashing_migrations(local_cluster, base_vars, namespace, helm, tmp_path):
    _logs(local_cluster, namespace, tmp_path, ["FATAL: password authentication failed for user \"workspace_admin\""],
          ["connect ECONNREFUSED 10.0.0.5:5432"])
    try:
        result, seconds = _run(local_cluster, base_vars, helm,
                               _fault("workspaceApi", "CrashLoopBackOff", "workspace-migrations", restarts=3),
                               carto_support_bundle_dir=str(tmp_path / "bundles"), carto_support_bundle_on_failure=True)
        text = _assert_verdict(result, seconds, "container_crash",
                               r"init container workspace-migrations of Pod/carto-workspace-api-\S+",
                               r"CrashLoopBackOff: .*last exit code 1")
        assert "CARTO's database migrations" in text
        assert 'password authentication failed for user "workspace_admin"' in text  # current logs
        assert "connect ECONNREFUSED 10.0.0.5:5432" in text  # previous logs
        _assert_failed_first_install(local_cluster, namespace, "container_crash")
        archives = list((tmp_path / "bundles").glob("carto-support-*.tar.gz"))
        assert len(archives) == 1, archives
        with tarfile.open(str(archives[0])) as tar:
            member = [m for m in tar.getmembers() if m.name.endswith("/rollout.json")]
            assert member, [m.name for m in tar.getmembers()]
            rollout = json.loads(tar.extractfile(member[0]).read())
        assert rollout["verdict"]["id"] == "container_crash"
        assert rollout["verdict"]["container"] == "workspace-migrations"
        assert any("ECONNREFUSED" in line for entry in rollout["verdict"]["logs"].values()
                   for line in entry.get("previous", []))
    finally:
        local_cluster.kubectl("delete", "clusterlogs", "logs-" + namespace, "--ignore-not-found")


def test_missing_secret(local_cluster, base_vars, namespace, helm):
    message = 'secret "carto-byo-bucket-credentials" not found'
    result, seconds = _run(local_cluster, base_vars, helm,
                           _fault("importWorker", "CreateContainerConfigError", "import-worker", message))
    text = _assert_verdict(result, seconds, "container_config", r"container import-worker of Pod/carto-import-worker-",
                           r'CreateContainerConfigError: secret "carto-byo-bucket-credentials" not found')
    assert "Secret carto-byo-bucket-credentials is not created by this collection" in text
    _assert_failed_first_install(local_cluster, namespace, "container_config")


def test_failed_create_quota(local_cluster, base_vars, namespace, helm):
    local_cluster.kubectl("create", "namespace", namespace)
    local_cluster.kubectl("create", "quota", "pods", "--hard=pods=8", "-n", namespace)
    deadline = time.monotonic() + 30
    while not (local_cluster.get_json("resourcequota", "pods", "-n", namespace) or {}).get("status", {}).get("hard"):
        assert time.monotonic() < deadline, "the quota controller did not publish the quota"
        time.sleep(0.2)
    result, seconds = _run(local_cluster, base_vars, helm, {})
    _assert_verdict(result, seconds, "create_failed", r"(ReplicaSet|StatefulSet)/carto-",
                    r'pods "carto-\S+" is forbidden: exceeded quota: pods')
    _assert_failed_first_install(local_cluster, namespace, "create_failed")


def test_progress_deadline(local_cluster, base_vars, namespace, helm):
    """The router never gets Ready; its Deployment's progressDeadlineSeconds (set to 2 s as soon as Helm created
    it) runs out, and the Deployment controller publishes ProgressDeadlineExceeded."""
    stop = threading.Event()

    def shorten():
        while not stop.is_set():
            proc = local_cluster.kubectl("patch", "deployment", "carto-router", "-n", namespace, "--type=merge",
                                         "-p", '{"spec":{"progressDeadlineSeconds":2}}', check=False)
            if proc.returncode == 0:
                return
            time.sleep(0.2)

    thread = threading.Thread(target=shorten, daemon=True)
    thread.start()
    try:
        result, seconds = _run(local_cluster, base_vars, helm,
                               {"router": {"podAnnotations": {"carto.selfhosted/test-not-ready": "true"}}})
    finally:
        stop.set()
    _assert_verdict(result, seconds, "progress_deadline", r"Deployment/carto-router",
                    r'ProgressDeadlineExceeded: ReplicaSet "carto-router-\S+" has timed out progressing')
    _assert_failed_first_install(local_cluster, namespace, "progress_deadline")


@pytest.mark.deploy
def test_failing_hook_job(local_cluster, base_vars, namespace, helm, tmp_path):
    """CARTO's pre-install version gate fails: the logs of its pod are in the report, although the Job failed."""
    _logs(local_cluster, namespace, tmp_path, ["Release version is outdated. Please follow the upgrade guide."])
    try:
        result, seconds = _run(local_cluster, base_vars, helm, {"upgradeCheck": {"image": {"tag": "test-fault-exit"}}})
        text = _assert_verdict(result, seconds, "hook_failed", r"Helm pre-install,pre-upgrade hook Job/carto-pre-install",
                               r"BackoffLimitExceeded: Job has reached the specified backoff limit")
        assert "pod carto-pre-install-" in text and "exit code 1" in text
        assert "Release version is outdated. Please follow the upgrade guide." in text
        _assert_failed_first_install(local_cluster, namespace, "hook_failed")
    finally:
        local_cluster.kubectl("delete", "clusterlogs", "logs-" + namespace, "--ignore-not-found")


@pytest.mark.deploy
def test_failed_upgrade_is_rolled_back(local_cluster, base_vars, namespace, helm):
    first = _run(local_cluster, base_vars, helm, {})[0]
    assert first.rc == 0, first
    result, seconds = _run(local_cluster, base_vars, helm,
                           _fault("workspaceApi", "CrashLoopBackOff", "workspace-migrations", restarts=2))
    text = _assert_verdict(result, seconds, "container_crash", r"init container workspace-migrations",
                           r"CrashLoopBackOff")
    assert "Rolled back to revision 1" in text, text
    history = _history(local_cluster, namespace)
    assert [h["status"] for h in history] == ["superseded", "failed", "deployed"], history
    assert "[container_crash]" in history[1]["description"], history
    assert "Upgrade failed" in history[1]["description"], history


def test_slow_healthy_rollout_is_not_cut_short(local_cluster, base_vars, namespace, helm):
    result, seconds = _run(local_cluster, base_vars, helm,
                           {"router": {"podAnnotations": {"carto.selfhosted/test-ready-after": "20s"}}})
    assert result.rc == 0, result
    assert seconds >= 20, "the router became Ready after 20 s; the run cannot have verified it sooner"
    assert [h["status"] for h in _history(local_cluster, namespace)] == ["deployed"]
