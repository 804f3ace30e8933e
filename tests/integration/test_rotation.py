"""Credential rotation (issue 14): a changed Secret rolls exactly the workloads that read it, through the
``checksum/secrets`` pod annotation (carto.selfhosted.helm_release_upgrade ``secret_checksums``).

docs.carto.com, Self-hosted, "Customizations": "Setup Postgres creating secrets" (the passwords live in the
``existingSecret``); the chart does not checksum a Secret it does not render, so without this a rotated password
reaches the Secret but no pod.
"""

import datetime
import json
import pathlib

PG = {"host": "postgres.example.internal", "user": "carto", "admin_user": "postgres", "database": "carto",
      "password": "first-Pw-1111", "admin_password": "first-Admin-1111"}


def _time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def _reads(template_spec, secret):
    for container in (template_spec.get("containers") or []) + (template_spec.get("initContainers") or []):
        for env in container.get("env") or []:
            if ((env.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name") == secret:
                return True
        for source in container.get("envFrom") or []:
            if (source.get("secretRef") or {}).get("name") == secret:
                return True
    return any((v.get("secret") or {}).get("secretName") == secret for v in template_spec.get("volumes") or [])


def _pods_by_deployment(cluster, namespace):
    """{deployment: {pod name: creationTimestamp}} of the live (not terminating) pods."""
    deployments = cluster.get_json("deployments", "-n", namespace)["items"]
    pods = [p for p in cluster.get_json("pods", "-n", namespace)["items"]
            if not p["metadata"].get("deletionTimestamp")]
    out = {}
    for dep in deployments:
        selector = dep["spec"]["selector"]["matchLabels"]
        out[dep["metadata"]["name"]] = dict(
            (p["metadata"]["name"], _time(p["metadata"]["creationTimestamp"])) for p in pods
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items()))
    return out, dict((d["metadata"]["name"], d) for d in deployments)


def _secret_changed_at(cluster, namespace, name):
    secret = cluster.get_json("secret", name, "-n", namespace, "--show-managed-fields")
    return max(_time(entry["time"]) for entry in secret["metadata"]["managedFields"])


def test_rotated_postgres_password_rolls_exactly_its_consumers(local_cluster, base_vars, namespace, tmp_path):
    extra = dict(base_vars, carto_external_postgresql=PG)
    first = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert first.rc == 0, str(first)
    before, deployments = _pods_by_deployment(local_cluster, namespace)
    consumers = sorted(name for name, dep in deployments.items()
                       if _reads(dep["spec"]["template"]["spec"], "carto-postgresql"))
    others = sorted(set(deployments) - set(consumers))
    assert consumers and others, (consumers, others)
    annotations = deployments[consumers[0]]["spec"]["template"]["metadata"]["annotations"]
    assert len(annotations["checksum/secrets"]) == 64
    assert annotations["carto.selfhosted/secret-checksums"].startswith("carto-postgresql=")

    rotated = dict(extra, carto_external_postgresql=dict(PG, password="second-Pw-2222"))
    second = local_cluster.run_playbook("playbooks/install.yml", rotated)
    assert second.rc == 0, str(second)
    changed_at = _secret_changed_at(local_cluster, namespace, "carto-postgresql")
    after, _unused = _pods_by_deployment(local_cluster, namespace)
    for name in consumers:  # every consuming pod is newer than the Secret change
        assert after[name] and all(created >= changed_at for created in after[name].values()), (name, after[name])
    for name in others:  # the pods that do not read it are the same pods
        assert after[name] == before[name], name

    report = json.loads((pathlib.Path(base_vars["carto_output_dir"]) / "verify-report.json").read_text())
    rotation = report["secret_rotation"]
    assert rotation["secrets_changed"] == ["carto-postgresql"], rotation
    assert rotation["workloads_rolled"] == ["Deployment/" + name for name in consumers], rotation
    check = [c for c in report["checks"] if c["name"] == "secret_rotation"]
    assert check and check[0]["status"] == "passed", check
    out = " ".join(second.output.split())
    assert "Secret data changed: carto-postgresql" in out, str(second)
    for secret in ("first-Pw-1111", "second-Pw-2222", "first-Admin-1111"):
        assert secret not in first.output + second.output

    again = local_cluster.run_playbook("playbooks/install.yml", rotated)
    assert again.rc == 0 and again.recap["changed"] == 0, str(again)
    assert _pods_by_deployment(local_cluster, namespace)[0] == after
