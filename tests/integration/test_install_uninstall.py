"""playbooks/install.yml and playbooks/uninstall.yml on the local control plane."""

import json
import re

import pytest

# The deploy subset (@pytest.mark.deploy), also run on the oldest tested ansible-core with Helm 3 (tools/dev.py
# test: pytest -m deploy): the tests whose path depends on the Helm major or the ansible-core version (Helm's
# reaction to SIGTERM, its release storage, rollback, recovery, install/uninstall). The classification of
# Kubernetes' reasons is the same on both and runs once, on the current stack.


def _secret_names(local_cluster, namespace):
    data = local_cluster.get_json("secrets", "-n", namespace)
    return {item["metadata"]["name"] for item in (data or {}).get("items", [])}


def test_bad_domain_stops_before_any_change(local_cluster, base_vars, namespace):
    extra = dict(base_vars, carto_domain="https://carto.example.com/app",
                 carto_external_postgresql={"host": "", "user": "u", "admin_user": "postgres", "database": "d",
                                            "password": "p1", "admin_password": "p2"})
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc != 0, str(result)
    # Every problem of the run at once, naming the variable, the key and the fix.
    assert "inventory variable carto_domain: appConfigValues.selfHostedDomain" in result.output, str(result)
    assert "contains a scheme" in result.output, str(result)
    assert "inventory variable carto_external_postgresql: host: is required" in result.output, str(result)
    assert "Fix:" in result.output
    # ... in one failure, before any task that changes the cluster ran
    assert "Stop on invalid values" in result.output, str(result)
    # Nothing in the cluster changed: no namespace, hence no Secret and no release.
    assert local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0
    assert namespace not in local_cluster.helm("list", "--all-namespaces", "--all", "-o", "json").stdout


def test_tags_validate_is_a_validation_only_run(local_cluster, base_vars, namespace, tmp_path):
    """--tags validate: the values and certificates are checked (customizations.yaml written on the controller), no
    task of another phase runs and nothing in the cluster is created; a bad value still fails the run."""
    extra = dict(base_vars, carto_output_dir=str(tmp_path / "out"), carto_tls={"mode": "self_signed"})
    checked = local_cluster.run_playbook("playbooks/install.yml", extra, args=["--tags", "validate"])
    assert checked.rc == 0, str(checked)
    assert checked.recap["changed"] <= 1, str(checked)  # customizations.yaml, on the controller only
    assert (tmp_path / "out" / "customizations.yaml").is_file()
    # Ansible tags each role's argument validation (meta/argument_specs.yml) always: it checks inputs only.
    ran = set(re.findall(r"^TASK \[([^:\]]+) : (?!Validating arguments against arg spec)", checked.stdout, re.M))
    assert ran and ran <= {"carto.selfhosted.values", "carto.selfhosted.secrets", "carto.selfhosted.postgres_operator"}, ran
    assert "Check the Postgres operator settings" in checked.stdout and "Install PGO and" not in checked.stdout
    assert "Render customizations.yaml, validate the values sources and merge them" in checked.stdout
    assert local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0
    assert namespace not in local_cluster.helm("list", "--all-namespaces", "--all", "-o", "json").stdout

    refused = local_cluster.run_playbook("playbooks/install.yml", dict(extra, carto_domain="https://x.example.com"),
                                         args=["--tags", "validate"])
    assert refused.rc != 0 and "inventory variable carto_domain: appConfigValues.selfHostedDomain" in refused.output
    assert local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0


def _state(local_cluster, namespace):
    """The release's revisions and every Secret's resourceVersion in the namespace."""
    history = json.loads(local_cluster.helm("history", "carto", "-n", namespace, "-o", "json").stdout)
    secrets = local_cluster.get_json("secrets", "-n", namespace)["items"]
    return ([h["revision"] for h in history],
            sorted((s["metadata"]["name"], s["metadata"]["resourceVersion"]) for s in secrets))


@pytest.mark.deploy
def test_install_then_uninstall_keeps_secrets_unless_asked(local_cluster, base_vars, namespace, tmp_path):
    extra = dict(base_vars, carto_external_redis={"host": "redis.example.internal", "password": "s3cr3t-redis"})
    installed = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert installed.rc == 0, str(installed)
    status = json.loads(local_cluster.helm("status", "carto", "-n", namespace, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    assert "carto-redis" in _secret_names(local_cluster, namespace)
    # The secret value never reaches the output.
    assert "s3cr3t-redis" not in installed.output

    # An upgrade the API server would reject is refused by the preflight's server-side dry run, in the release's
    # own namespace: no new revision, no Secret touched.
    before = _state(local_cluster, namespace)
    bad = tmp_path / "balancer.yaml"
    bad.write_text("router:\n  service:\n    type: Balancer\n")
    refused = local_cluster.run_playbook("playbooks/install.yml", dict(extra, carto_customization_files=[str(bad)]))
    assert refused.rc != 0
    out = " ".join(refused.output.split())
    assert 'Service carto-router: spec.type: Unsupported value: "Balancer"' in out, str(refused)
    assert "values key router.service.type" in out and "does not exist yet" not in out
    assert _state(local_cluster, namespace) == before

    removed = local_cluster.run_playbook("playbooks/uninstall.yml", {"carto_namespace": namespace})
    assert removed.rc == 0, str(removed)
    assert local_cluster.helm("status", "carto", "-n", namespace, check=False).returncode != 0
    assert "carto-redis" in _secret_names(local_cluster, namespace)

    purged = local_cluster.run_playbook("playbooks/uninstall.yml", {
        "carto_namespace": namespace, "carto_uninstall_delete_secrets": True, "carto_uninstall_delete_namespace": True})
    assert purged.rc == 0, str(purged)
    assert local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0
