#!/usr/bin/env python3
"""Benchmark: one play installing N CARTO releases in parallel, against one installation and the manual steps.

On a private local control plane (tools/localcluster, loopback only, kwok nodes) it times, in one run:

  (1) playbooks/install.yml with an inventory of ONE installation (namespace par-00);
  (N) playbooks/install.yml with an inventory of N installations (namespaces par-01 .. par-N, one inventory
      host each, like inventories/multi), ``-f N``;
  (m) CARTO's manual steps for one installation: ``kubectl create namespace``, ``kubectl create secret`` of the
      Secrets the playbook made, ``helm upgrade --install ... -f carto-values.yaml -f carto-secrets.yaml
      -f customizations.yaml --wait`` (namespace par-manual).

It prints the ratio (N) / (1) (goal: <= 2.0 for N = 10) and (1) / (m), and checks that every installation got its
own release, output directory, customizations.yaml (its domain) and verify report (nothing shared between
installations; the release lock is a Lease in the installation's own namespace).

Usage (from the repository root, after `eval "$(python3 tools/dev.py env)"`):
    python benchmarks/parallel_benchmark.py [--count 10] [--results benchmarks/PARALLEL.md]
"""

import argparse
import json
import os
import pathlib
import platform
import re
import sys
import tempfile
import time

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools" / "localcluster"))
sys.path.insert(0, str(REPO / "tests" / "tools"))
sys.path.insert(0, str(REPO / "benchmarks"))

from deploy_benchmark import manual_namespace_and_secrets, run  # noqa: E402  (the same manual steps and runner)

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
COMMAND = "python benchmarks/parallel_benchmark.py --count 10 --results benchmarks/PARALLEL.md"


def installation(work, package, index):
    """The inventory host of installation ``index``: its own namespace, domain and output directory."""
    name = "par-%02d" % index
    return name, {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                  "carto_namespace": name, "carto_domain": "%s.bench.example.com" % name,
                  "carto_output_dir": str(work / "out" / name),
                  "carto_package_values_file": str(package / "carto-values.yaml"),
                  "carto_package_secrets_file": str(package / "carto-secrets.yaml"),
                  "carto_external_redis": {"host": "redis.example.internal", "password": "bench-redis-%02d" % index}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10, help="installations of the parallel run (default 10)")
    parser.add_argument("--results", help="write the Markdown results to this file")
    args = parser.parse_args()

    state = tempfile.mkdtemp(prefix="carto-par-")
    os.environ["CARTO_LOCALCLUSTER_DIR"] = state
    import cluster as localcluster  # noqa: E402  (reads CARTO_LOCALCLUSTER_DIR)
    import make_package  # noqa: E402

    tools = localcluster.ensure_tools()
    # 16 CPU / 64 GiB per kwok node: enough nodes that N + 2 installations of the test chart fit.
    kubeconfig = str(localcluster.start(nodes=max(3, args.count + 2)))
    results = {}
    try:
        env = dict(os.environ)
        env.update({"PATH": os.pathsep.join([str(tools), str(pathlib.Path(sys.executable).parent), env["PATH"]]),
                    "KUBECONFIG": kubeconfig, "CARTO_LOCAL_KUBECONFIG": kubeconfig, "CARTO_REPO_DIR": str(REPO),
                    "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                    "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".ansible" / "collections"), "ANSIBLE_NOCOLOR": "1"})
        work = pathlib.Path(state) / "bench"
        package = work / "package"
        make_package.make_package(str(package))
        group_vars = yaml.safe_load((REPO / "inventories/local/group_vars/all/main.yml").read_text())
        playbook = str(pathlib.Path(sys.executable).parent / "ansible-playbook")

        def install(indexes, label):
            hosts = dict(installation(work, package, i) for i in indexes)
            inventory = work / ("inventory-%s.yml" % label)
            inventory.write_text(yaml.safe_dump({"all": {"vars": group_vars, "children": {"carto": {"hosts": hosts}}}}))
            proc, elapsed = run([playbook, "playbooks/install.yml", "-i", str(inventory), "-f", str(len(hosts))], env)
            recaps = {m[0]: (int(m[2]), int(m[4])) for m in RECAP.findall(proc.stdout)}
            assert sorted(recaps) == sorted(hosts) and all(f == 0 for _, f in recaps.values()), recaps
            return hosts, elapsed

        _, results["one"] = install([0], "one")
        hosts, results["many"] = install(range(1, args.count + 1), "many")

        # Manual steps of CARTO's guide for one installation, with the playbook's own customizations.yaml/Secrets.
        kubectl, helm = [str(tools / "kubectl")], [str(tools / "helm")]
        started = time.monotonic()
        manual_namespace_and_secrets(kubectl, env, "par-00", "par-manual")
        run(helm + ["upgrade", "--install", "carto", group_vars["carto_chart_ref"].replace(
            "{{ carto_local_repo_dir }}", str(REPO)), "-n", "par-manual",
            "-f", str(package / "carto-values.yaml"), "-f", str(package / "carto-secrets.yaml"),
            "-f", str(work / "out" / "par-00" / "customizations.yaml"), "--wait", "--timeout", "600s"], env)
        results["manual"] = time.monotonic() - started

        # Nothing shared: one release, one output directory, one customizations.yaml and one verify report each.
        for name in hosts:
            status = json.loads(run(helm + ["status", "carto", "-n", name, "-o", "json"], env)[0].stdout)
            assert status["info"]["status"] == "deployed", (name, status["info"])
            report = json.loads((work / "out" / name / "verify-report.json").read_text())
            assert report["verdict"] == "passed" and report.get("namespace", name) == name, (name, report)
            customizations = (work / "out" / name / "customizations.yaml").read_text()
            assert "%s.bench.example.com" % name in customizations, (name, customizations[:300])
        results["isolated"] = len(hosts)
    finally:
        localcluster.stop(purge=True)

    ratio = results["many"] / results["one"]
    lines = [
        "# Parallel installations benchmark",
        "",
        "Produced by `%s` on %s (%s, %d CPUs, load average %s at the end), local control plane "
        "(tools/localcluster, kwok nodes) and the offline test chart." % (
            COMMAND.replace("--count 10", "--count %d" % args.count), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            platform.platform(), os.cpu_count() or 0, " ".join("%.2f" % x for x in os.getloadavg())),
        "",
        "| run | seconds | ratio |",
        "| --- | ---: | ---: |",
        "| (m) manual steps, 1 installation | %.1f | 1.00x |" % results["manual"],
        "| (1) install.yml, 1 installation | %.1f | %.2fx of (m) |" % (results["one"], results["one"] / results["manual"]),
        "| (N) install.yml, %d installations, -f %d | %.1f | %.2fx of (1) |" % (
            args.count, args.count, results["many"], ratio),
        "",
        "- %d installations in parallel take %.2fx one installation (goal <= 2.0x): %s" % (
            args.count, ratio, "met" if ratio <= 2.0 else "NOT met"),
        "- per installation: %.1f s in the parallel run against %.1f s alone" % (results["many"] / args.count,
                                                                                 results["one"]),
        "- isolation: %d releases deployed, each with its own output directory, customizations.yaml (its own "
        "domain) and verify report (verdict passed)" % results["isolated"],
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.results:
        pathlib.Path(args.results).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
