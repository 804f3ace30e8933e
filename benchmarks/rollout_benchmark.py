#!/usr/bin/env python3
"""Benchmark: time to a verdict for each rollout failure class, playbook vs `helm upgrade --install --wait`.

On a private local control plane (tools/localcluster, loopback only), for each of the eight failure classes of
the rollout engine (issue #12) it runs, on the same input:

  play    playbooks/install.yml (first install) until it fails with its verdict: the whole run, from
          ansible-playbook's start to its exit;
  manual  what an operator runs by hand: the same final values (`helm get values` of the play's release) and the
          same Secrets in a second namespace, then `helm upgrade --install carto <chart> -f values.yaml --wait
          --timeout <T>s` until helm returns.

It prints both times, their ratio, the play's reason id and the time from the condition's first sight to the
verdict. Helm with --wait waits its whole timeout for the classes it cannot see (Unschedulable, an unbound claim,
a crashing or misconfigured container, FailedCreate); it returns early on a failed hook Job, and Helm 4's kstatus
watcher also on ProgressDeadlineExceeded.

Usage (from the repository root, after `eval "$(python3 tools/dev.py env)"`):
    python benchmarks/rollout_benchmark.py [--helm-major 3] [--helm-timeout 300] [--only crash,hook]
"""

from __future__ import absolute_import, division, print_function

import argparse
import base64
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools" / "localcluster"))
sys.path.insert(0, str(REPO / "tests" / "tools"))

VERDICT = re.compile(r"\[(?P<id>[a-z_]+)\]\. Stopped (?P<after>[0-9.]+) s after the condition was first seen")
NO_PROVISIONER = "carto-bench-no-provisioner"


def fault(component, reason, container, message=None, restarts=None):
    annotations = {"carto.selfhosted/test-fault": reason, "carto.selfhosted/test-fault-container": container}
    if message:
        annotations["carto.selfhosted/test-fault-message"] = message
    if restarts is not None:
        annotations["carto.selfhosted/test-fault-restarts"] = str(restarts)
    return {component: {"podAnnotations": annotations}}


# name: (reason id, values overrides, setup of a namespace before the run)
CASES = {
    # a required pod affinity to pods that are not there: only the scheduler can tell (a pod larger than any node
    # is refused by the preflight's node_capacity check before anything changes)
    "unschedulable": ("unschedulable", {"router": {"affinity": {"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "not-there"}},
                                                             "topologyKey": "kubernetes.io/hostname"}]}}}}, None),
    "pvc": ("pvc_not_bound", {"internalPostgresql": {"primary": {"persistence": {
        "enabled": True, "storageClass": NO_PROVISIONER}}}}, None),
    "image": ("image_pull", fault("workspaceApi", "ImagePullBackOff", "workspace-api",
                                  'Back-off pulling image "workspace-api:nope"'), None),
    "crash": ("container_crash", fault("workspaceApi", "CrashLoopBackOff", "workspace-migrations", restarts=3), None),
    "config": ("container_config", fault("importWorker", "CreateContainerConfigError", "import-worker",
                                         'secret "carto-byo-bucket-credentials" not found'), None),
    "quota": ("create_failed", {}, "quota"),
    "deadline": ("progress_deadline", {"router": {"podAnnotations": {"carto.selfhosted/test-not-ready": "true"}}},
               "deadline"),
    "hook": ("hook_failed", {"upgradeCheck": {"image": {"tag": "test-fault-exit"}}}, None),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--helm-major", default="3", choices=["3", "4"])
    parser.add_argument("--helm-timeout", type=int, default=300, help="--timeout of the manual helm --wait (s)")
    parser.add_argument("--only", help="comma-separated case names (default: all)")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c in args.only.split(",")]

    state = tempfile.mkdtemp(prefix="carto-rollout-bench-")
    os.environ["CARTO_LOCALCLUSTER_DIR"] = state
    import cluster as localcluster  # noqa: E402  (reads CARTO_LOCALCLUSTER_DIR)
    import make_package  # noqa: E402

    tools = localcluster.ensure_tools()
    kubeconfig = str(localcluster.start(nodes=3))
    helm = str(tools / ("helm" + args.helm_major))
    kubectl = str(tools / "kubectl")
    env = dict(os.environ)
    env.update({"PATH": os.pathsep.join([str(tools), str(pathlib.Path(sys.executable).parent), env["PATH"]]),
                "KUBECONFIG": kubeconfig, "CARTO_LOCAL_KUBECONFIG": kubeconfig, "CARTO_REPO_DIR": str(REPO),
                "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".ansible" / "collections")})

    def sh(argv, check=True, stdin=None):
        proc = subprocess.run(argv, env=env, cwd=str(REPO), capture_output=True, text=True, input=stdin)
        if check and proc.returncode:
            raise SystemExit("%s failed: %s" % (" ".join(argv), proc.stderr[-2000:]))
        return proc

    def setup(kind, namespace):
        if kind == "quota":
            sh([kubectl, "create", "namespace", namespace])
            sh([kubectl, "create", "quota", "pods", "--hard=pods=8", "-n", namespace])
            while not json.loads(sh([kubectl, "get", "quota", "pods", "-n", namespace, "-o", "json"]).stdout) \
                    .get("status", {}).get("hard"):
                time.sleep(0.2)
        if kind == "deadline":
            def shorten():
                for _ in range(600):
                    if sh([kubectl, "patch", "deployment", "carto-router", "-n", namespace, "--type=merge", "-p",
                           '{"spec":{"progressDeadlineSeconds":2}}'], check=False).returncode == 0:
                        return
                    time.sleep(0.2)
            threading.Thread(target=shorten, daemon=True).start()

    try:
        work = pathlib.Path(state) / "bench"
        pkg = work / "package"
        make_package.make_package(str(pkg))
        sh([kubectl, "apply", "-f", "-"], stdin=json.dumps({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": NO_PROVISIONER},
            "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"}))
        rows = []
        for name in cases:
            reason_id, overrides, kind = CASES[name]
            play_ns, manual_ns = "play-" + name, "manual-" + name
            setup(kind, play_ns)
            extra = {"carto_namespace": play_ns, "carto_package_values_file": str(pkg / "carto-values.yaml"),
                     "carto_package_secrets_file": str(pkg / "carto-secrets.yaml"),
                     "carto_output_dir": str(work / name), "carto_helm_binary": helm,
                     "carto_deploy_timeout": args.helm_timeout, "carto_values_overrides": overrides,
                     "carto_support_bundle_on_failure": False}
            start = time.monotonic()
            proc = sh([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "playbooks/install.yml",
                       "-i", "inventories/local", "-e", json.dumps(extra)], check=False)
            play = time.monotonic() - start
            match = VERDICT.search(" ".join((proc.stdout + proc.stderr).split()))
            got_id, after = (match.group("id"), float(match.group("after"))) if match else ("none", float("nan"))

            # The same input by hand: the release's final values and the play's Secrets in another namespace.
            values = work / (name + "-values.json")
            values.write_text(sh([helm, "get", "values", "carto", "-n", play_ns, "-o", "json"]).stdout)
            secrets = json.loads(sh([kubectl, "get", "secrets", "-n", play_ns, "-l",
                                     "app.kubernetes.io/managed-by=carto.selfhosted", "-o", "json"]).stdout)
            if kind != "quota":
                sh([kubectl, "create", "namespace", manual_ns])
            setup(kind, manual_ns)
            for item in secrets["items"]:
                argv = [kubectl, "create", "secret", "generic", item["metadata"]["name"], "-n", manual_ns,
                        "--type", item.get("type", "Opaque")]
                for key, value in sorted((item.get("data") or {}).items()):
                    argv.append("--from-literal=%s=%s" % (key, base64.b64decode(value).decode()))
                sh(argv)
            wait = ["--wait=watcher"] if args.helm_major == "4" else ["--wait"]
            start = time.monotonic()
            manual = sh([helm, "upgrade", "--install", "carto", str(REPO / "tests" / "charts" / "carto"),
                         "-n", manual_ns, "-f", str(values), "--timeout", "%ds" % args.helm_timeout] + wait,
                        check=False)
            helm_seconds = time.monotonic() - start
            helm_said = (manual.stderr.strip().splitlines() or ["ok"])[-1][:90]
            rows.append((name, reason_id, got_id, play, after, helm_seconds, manual.returncode, helm_said))
            print("%-14s verdict %-18s in %6.1f s (condition to verdict %4.1f s) | helm --wait: rc=%d after %6.1f s"
                  " | ratio %.2f" % (name, got_id, play, after, manual.returncode, helm_seconds, play / helm_seconds),
                  flush=True)
        print()
        print("Helm %s (%s), manual --timeout %ds" % (args.helm_major, sh([helm, "version", "--template",
                                                                         "{{.Version}}"]).stdout,
                                                     args.helm_timeout))
        print("| class | reason id | playbook to verdict (s) | condition to verdict (s) | helm --wait (s) | ratio |"
              " helm said |")
        print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
        for name, want, got, play, after, helm_seconds, rc, said in rows:
            flag = "" if got == want else " (expected %s)" % want
            print("| %s | %s%s | %.1f | %.1f | %.1f | %.2f | %s |" % (name, got, flag, play, after, helm_seconds,
                                                                   play / helm_seconds, said.replace("|", "/")))
        return 0 if all(r[1] == r[2] for r in rows) else 1
    finally:
        localcluster.stop(purge=True)


if __name__ == "__main__":
    sys.exit(main())
