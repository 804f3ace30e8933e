#!/usr/bin/env python3
"""Benchmark: playbooks/install.yml next to the manual steps of CARTO's install guide.

On a private local control plane (tools/localcluster, loopback only) it times, in one run:

  (a) a fresh install      playbook (namespace bench-play)  vs  kubectl create namespace + kubectl create
                           secret ... + helm upgrade --install ... -f carto-values.yaml -f carto-secrets.yaml
                           -f customizations.yaml --wait (namespace bench-manual)
  (b) a no-op re-run       playbook again (must report changed=0 and run no Helm upgrade) vs the same helm command
  (c) a values change      playbook with one more value vs helm upgrade with one more -f file
  (d) validation only      playbook --tags validate (values and certificates, no cluster change) vs the manual
                           fresh install of (a)

Targets (issue #15), each a ratio of this same run: (a) <= 1.25x the manual steps, (b) <= 1.0x the manual fresh
install (a), (d) <= 0.5x the manual fresh install. Each row prints the run's task count (ok + skipped) beside
its time.

The manual steps use the very customizations.yaml and Secrets the playbook produced, so both deploy the same
values (https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes "External database" / "Install CARTO").

Usage (from the repository root, after `eval "$(python3 tools/dev.py env)"`):
    python benchmarks/deploy_benchmark.py [--results benchmarks/RESULTS.md]
"""

from __future__ import absolute_import, division, print_function

import argparse
import base64
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools" / "localcluster"))
sys.path.insert(0, str(REPO / "tests" / "tools"))

RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")
# ansible.posix.profile_tasks summary lines: "<role> : <task name> ----- 1.23s"
PROFILE = re.compile(r"^(\S.*?) -{3,} (\d+\.\d+)s$", re.M)
TOP = 6
FLOOR_RUNS = 5
# The module runs a fresh install cannot do without, each for a behaviour an issue requires: the values
# validation (a local module), then four that talk to the cluster with the Kubernetes client: the preflight read
# (version, nodes, StorageClasses, namespace), the Secrets, the release lock (a Lease around helm) and the
# verification read. helm upgrade --install --wait itself is the manual steps' own time.
FLOOR_LOCAL_RUNS = 1
FLOOR_KUBERNETES_RUNS = 4
COMMAND = "python benchmarks/deploy_benchmark.py --results benchmarks/RESULTS.md"


def run(argv, env, **kwargs):
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=str(REPO), capture_output=True, text=True, **kwargs)
    elapsed = time.monotonic() - start
    if proc.returncode:
        raise SystemExit("command failed (%s): %s\n%s%s" % (proc.returncode, " ".join(argv), proc.stdout[-3000:],
                                                           proc.stderr[-3000:]))
    return proc, elapsed


def manual_namespace_and_secrets(kubectl, env, source_ns, target_ns):
    """The guide's first manual steps: ``kubectl create namespace target_ns``, then ``kubectl create secret generic``
    of each Secret the playbook made in ``source_ns`` (the same data, so both sides deploy the same values)."""
    secrets = json.loads(run(kubectl + ["get", "secrets", "-n", source_ns, "-l",
                                        "app.kubernetes.io/managed-by=carto.selfhosted", "-o", "json"], env)[0].stdout)
    run(kubectl + ["create", "namespace", target_ns], env)
    for item in secrets["items"]:
        argv = kubectl + ["create", "secret", "generic", item["metadata"]["name"], "-n", target_ns,
                          "--type", item.get("type", "Opaque")]
        for key, value in sorted((item.get("data") or {}).items()):
            argv.append("--from-literal=%s=%s" % (key, base64.b64decode(value).decode()))
        run(argv, env)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", help="write the Markdown results to this file")
    args = parser.parse_args()

    state = tempfile.mkdtemp(prefix="carto-bench-")
    os.environ["CARTO_LOCALCLUSTER_DIR"] = state
    import cluster as localcluster  # noqa: E402  (reads CARTO_LOCALCLUSTER_DIR)
    import make_package  # noqa: E402

    tools = localcluster.ensure_tools()
    kubeconfig = str(localcluster.start(nodes=3))
    try:
        env = dict(os.environ)
        env.update({"PATH": os.pathsep.join([str(tools), str(pathlib.Path(sys.executable).parent), env["PATH"]]),
                    "KUBECONFIG": kubeconfig, "CARTO_LOCAL_KUBECONFIG": kubeconfig, "CARTO_REPO_DIR": str(REPO),
                    "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                    "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".ansible" / "collections"), "ANSIBLE_NOCOLOR": "1",
                    # Where the time goes: per-task times of every playbook run (a callback, no extra task).
                    "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                    "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"})
        work = pathlib.Path(state) / "bench"
        pkg = work / "package"
        make_package.make_package(str(pkg))
        helm = [str(tools / "helm")]
        kubectl = [str(tools / "kubectl")]
        chart = str(REPO / "tests" / "charts" / "carto")
        play_ns, manual_ns = "bench-play", "bench-manual"
        base = {"carto_namespace": play_ns, "carto_package_values_file": str(pkg / "carto-values.yaml"),
                "carto_package_secrets_file": str(pkg / "carto-secrets.yaml"), "carto_output_dir": str(work / "out"),
                "carto_external_redis": {"host": "redis.example.internal", "password": "bench-redis-password"}}
        change = {"mapsApi": {"podAnnotations": {"example.com/bench": "changed"}}}

        profiles = {}

        def playbook(extra, step, args=()):
            proc, elapsed = run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"),
                                 "playbooks/install.yml", "-i", "inventories/local", "-e", json.dumps(extra)]
                                + list(args), env)
            recap = RECAP.findall(proc.stdout)[-1]
            tasks = [(name, float(seconds)) for name, seconds in PROFILE.findall(proc.stdout)]
            profiles[step] = {"ok": int(recap[0]), "skipped": int(recap[4]), "tasks": tasks,
                              "task_sum": sum(t for _, t in tasks), "elapsed": elapsed}
            return elapsed, int(recap[1])

        def revisions(namespace):
            proc, _ = run(helm + ["history", "carto", "-n", namespace, "-o", "json"], env)
            return len(json.loads(proc.stdout))

        results = {}
        # (a) fresh install
        results["a_play"], _ = playbook(base, "a")
        customizations = work / "out" / "customizations.yaml"
        manual_upgrade = helm + ["upgrade", "--install", "carto", chart, "-n", manual_ns,
                                 "-f", str(pkg / "carto-values.yaml"), "-f", str(pkg / "carto-secrets.yaml"),
                                 "-f", str(customizations), "--wait", "--timeout", "600s"]
        start = time.monotonic()
        manual_namespace_and_secrets(kubectl, env, play_ns, manual_ns)
        results["a_helm"] = run(manual_upgrade, env)[1]
        results["a_manual"] = time.monotonic() - start

        # (b) no-op re-run
        before = revisions(play_ns)
        results["b_play"], results["b_changed"] = playbook(base, "b")
        results["b_upgrades"] = revisions(play_ns) - before
        results["b_manual"] = run(manual_upgrade, env)[1]

        # (c) values change
        results["c_play"], _ = playbook(dict(base, carto_values_overrides=change), "c")
        override = work / "change.yaml"
        override.write_text(json.dumps(change))
        results["c_manual"] = run(manual_upgrade + ["-f", str(override)], env)[1]

        # (d) validation only: the values role and the certificate checks, nothing in the cluster changes
        results["d_play"], results["d_changed"] = playbook(dict(base, carto_namespace="bench-validate",
                                                                carto_output_dir=str(work / "out-validate")),
                                                           "d", ["--tags", "validate"])
        proc = run(kubectl + ["get", "namespace", "bench-validate", "--ignore-not-found", "-o", "name"], env)[0]
        results["d_namespace_created"] = bool(proc.stdout.strip())

        # Ansible's own cost on this machine: ansible-playbook start-up (a play of one debug task), one module
        # run (ansible.builtin.ping) and one kubernetes.core module run (k8s_info of a Namespace).
        floor_tasks = {"start": [], "module": [], "kubernetes": []}
        for kind, task in (("start", {"ansible.builtin.debug": {"msg": "start"}}),
                           ("module", {"ansible.builtin.ping": {}}),
                           ("kubernetes", {"kubernetes.core.k8s_info": {"kind": "Namespace", "name": play_ns}})):
            book = work / ("floor-%s.yml" % kind)
            count = 1 if kind == "start" else FLOOR_RUNS
            book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                         "tasks": [dict(task, name="%s %d" % (kind, i)) for i in range(count)]}]))
            proc, elapsed = run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(book),
                                 "-i", "localhost,", "-c", "local",
                                 "-e", "ansible_python_interpreter=" + sys.executable], env)
            times = [float(sec) for name, sec in PROFILE.findall(proc.stdout) if name.startswith(kind + " ")]
            floor_tasks[kind] = times
            if kind == "start":
                results["floor_start"] = elapsed - sum(times)
        results["floor_module"] = sorted(floor_tasks["module"])[len(floor_tasks["module"]) // 2]
        results["floor_kubernetes"] = sorted(floor_tasks["kubernetes"])[len(floor_tasks["kubernetes"]) // 2]
    finally:
        localcluster.stop(purge=True)

    manual = results["a_manual"]
    rows = [("(a) fresh install", "a", results["a_play"], results["a_manual"], 1.25, "the manual steps"),
            ("(b) no-op re-run", "b", results["b_play"], manual, 1.0, "the manual fresh install"),
            ("(c) values-change upgrade", "c", results["c_play"], results["c_manual"], None, "the manual upgrade"),
            ("(d) --tags validate", "d", results["d_play"], manual, 0.5, "the manual fresh install")]
    lines = ["| step | tasks (ok + skipped) | playbook (s) | against | manual (s) | ratio | target | verdict |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |"]
    for name, step, play, against, target, what in rows:
        prof = profiles[step]
        ratio = play / against
        lines.append("| %s | %d + %d | %.1f | %s | %.1f | %.2fx | %s | %s |" % (
            name, prof["ok"], prof["skipped"], play, what, against, ratio,
            "<= %.2fx" % target if target else "-",
            ("met" if ratio <= target else "NOT met") if target else "-"))
    verdict = [
        "no-op re-run: changed=%d, Helm upgrades run: %d (both must be 0): %s" % (
            results["b_changed"], results["b_upgrades"],
            "met" if results["b_upgrades"] == 0 and results["b_changed"] == 0 else "NOT met"),
        "--tags validate: changed=%d, namespace created: %s (must be no): %s" % (
            results["d_changed"], "yes" if results["d_namespace_created"] else "no",
            "NOT met" if results["d_namespace_created"] else "met"),
    ]
    verdict.append("floor: the manual install's own `helm upgrade --install --wait` took %.1f s of its %.1f s, so "
                   "<= 1.25x leaves %.1f s for everything the playbook adds" % (
                       results["a_helm"], results["a_manual"], 1.25 * results["a_manual"] - results["a_helm"]))
    floor = (results["a_helm"] + results["floor_start"] + FLOOR_LOCAL_RUNS * results["floor_module"]
             + FLOOR_KUBERNETES_RUNS * results["floor_kubernetes"])
    verdict.append("Ansible's own cost here: ansible-playbook start-up %.2f s, one module run (ansible.builtin.ping) "
                   "%.2f s, one kubernetes.core module run (k8s_info) %.2f s (medians of %d). A fresh install with "
                   "only the module runs the issues require (%d local + %d Kubernetes-client runs, no other task) "
                   "plus the manual helm time cannot take less than %.1f s = %.2fx the manual steps" % (
                       results["floor_start"], results["floor_module"], results["floor_kubernetes"], FLOOR_RUNS,
                       FLOOR_LOCAL_RUNS, FLOOR_KUBERNETES_RUNS, floor, floor / results["a_manual"]))
    where = ["", "Where the time goes (`ansible.posix.profile_tasks`, the %d slowest tasks of each run):" % TOP, ""]
    for step, title in (("a", "(a) fresh install"), ("b", "(b) no-op re-run"), ("c", "(c) values-change upgrade"),
                        ("d", "(d) --tags validate")):
        prof = profiles[step]
        slow = sorted(prof["tasks"], key=lambda item: -item[1])[:TOP]
        where.append("- %s: %d tasks run, %d skipped; tasks %.1f s of %.1f s (the rest is ansible-playbook start-up "
                     "and the play); slowest: %s" % (
                         title, prof["ok"], prof["skipped"], prof["task_sum"], prof["elapsed"],
                         "; ".join("%s %.2f s" % (name.split(" : ", 1)[-1], sec) for name, sec in slow)))
    text = "\n".join(lines + [""] + ["- " + v for v in verdict] + where)
    print(text)
    if args.results:
        header = [
            "# Deploy benchmark",
            "",
            "Produced by `%s` on %s (%s, %d CPUs, load average %s at the end), local control plane "
            "(tools/localcluster, kwok nodes) and the offline test chart. The playbook times cover the whole "
            "`playbooks/install.yml` (values, prerequisites, Secrets, deploy, verify); the manual steps are "
            "CARTO's guide: `kubectl create namespace`, `kubectl create secret generic ...` and `helm upgrade "
            "--install ... -f carto-values.yaml -f carto-secrets.yaml -f customizations.yaml --wait`." % (
                COMMAND, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), platform.platform(),
                os.cpu_count() or 0, " ".join("%.2f" % v for v in os.getloadavg())),
            "",
        ]
        pathlib.Path(args.results).write_text("\n".join(header) + "\n" + text + "\n")


if __name__ == "__main__":
    main()
