"""A release with a NotReady component fails verification naming it, and the support bundle has no secret.

The router pods are annotated carto.selfhosted/test-not-ready (kwok keeps them Running, never Ready);
kwok serves container logs from a file (ClusterLogs) so the bundle holds real workspace-migrations logs.
"""

import base64
import json
import re
import tarfile

import yaml

LOG_LINE = "workspace-migrations: database carto_workspace ready"


def _secret_strings(cluster, namespace, carto_package):
    out = set()
    for item in cluster.get_json("secrets", "-n", namespace)["items"]:
        for value in (item.get("data") or {}).values():
            text = base64.b64decode(value).decode("utf-8", "replace")
            if len(text) >= 6:
                out.add(text)
    with open(carto_package["carto_package_secrets_file"]) as handle:
        for entry in yaml.safe_load(handle)["cartoSecrets"].values():
            if isinstance(entry, dict) and len(str(entry.get("value") or "")) >= 6:
                out.add(str(entry["value"]))
    return out


def test_not_ready_component_fails_and_bundle_is_redacted(local_cluster, base_vars, carto_package, namespace,
                                                          tmp_path):
    logs = tmp_path / "container.log"
    logs.write_text("2026-01-01T00:00:00.000000000Z stdout F %s\n" % LOG_LINE)
    local_cluster.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs", "metadata": {"name": "logs-" + namespace},
        "spec": {"selector": {"matchNamespaces": [namespace]}, "logs": [{"logsFile": str(logs)}]}}))
    bundles = tmp_path / "bundles"
    extra = dict(base_vars, deploy_wait=False, verify_timeout=15, carto_support_bundle_dir=str(bundles),
                 carto_values_overrides={"router": {"podAnnotations": {"carto.selfhosted/test-not-ready": "true"}}})
    try:
        result = local_cluster.run_playbook("playbooks/install.yml", extra)
        assert result.rc != 0, result
        assert re.search(r"pods carto-router: not Running/Ready: carto-router-\S+ \(Running, not Ready\)",
                         result.output), result
        assert "Support bundle" in result.output
        archives = sorted(bundles.glob("carto-support-%s-carto-*.tar.gz" % namespace))
        assert len(archives) == 1, list(bundles.iterdir()) if bundles.exists() else "no bundle dir"

        secrets = _secret_strings(local_cluster, namespace, carto_package)
        assert secrets, "the release has Secrets to look for"
        with tarfile.open(str(archives[0])) as tar:
            members = {m.name.split("/", 1)[1]: tar.extractfile(m).read().decode("utf-8", "replace")
                       for m in tar.getmembers() if m.isfile()}
        for name in ("versions.json", "pods.json", "pods.txt", "events.txt", "services.json", "secrets.json",
                     "helm/status.json", "helm/history.json", "helm/values.json", "report.json",
                     "describe/pods.txt"):
            assert name in members, sorted(members)
        migrations = [n for n in members if n.startswith("logs/carto-workspace-api-")
                      and n.endswith("/workspace-migrations.log")]
        assert migrations and LOG_LINE in members[migrations[0]]
        report = json.loads(members["report.json"])
        assert report["verdict"] == "failed" and "pods carto-router" in report["failed"]
        assert json.loads(members["helm/values.json"])["appConfigValues"]["selfHostedDomain"]
        assert json.loads(members["secrets.json"]) and all("keys" in s for s in json.loads(members["secrets.json"]))
        leaked = [(name, s[:4] + "...") for name, text in members.items() for s in secrets if s in text]
        assert not leaked, leaked
        assert not any(s in result.output for s in secrets)
    finally:
        local_cluster.kubectl("delete", "clusterlogs", "logs-" + namespace, "--ignore-not-found")
        local_cluster.helm("uninstall", "carto", "-n", namespace, check=False)
        local_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_support_bundle_playbook_on_missing_release(local_cluster, namespace, tmp_path):
    """The playbook runs against a namespace without a release and lists what it could not collect."""
    local_cluster.kubectl("create", "namespace", namespace)
    try:
        result = local_cluster.run_playbook("playbooks/support_bundle.yml", {
            "carto_namespace": namespace, "carto_support_bundle_dir": str(tmp_path)})
        assert result.rc == 0, result
        archives = list(tmp_path.glob("carto-support-*.tar.gz"))
        assert len(archives) == 1
        assert "helm status" in result.output  # reported under "Not collected"
    finally:
        local_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
