"""Preflight on the local control plane: one table of checks, all failures at once, nothing changed."""


def test_preflight_fails_before_any_change(local_cluster, base_vars, namespace):
    extra = dict(base_vars, prerequisites_min_cpu="1000", prerequisites_min_memory="10Ti",
                 carto_values_overrides={"gateway": {"enabled": True}})
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc != 0, result
    out = result.output
    assert "CHECK" in out and "kubernetes_version     passed" in out
    assert "Preflight failed 2 check(s)" in out, result
    assert "cluster_resources" in out and "CPU short by" in out
    assert "gateway_api_crds" in out and "httproutes.gateway.networking.k8s.io" in out
    assert "default_storageclass   passed" in out
    assert "Nothing in the cluster was changed" in out
    assert local_cluster.get_json("namespace", namespace) is None
    assert "Write a support bundle" not in out or "skipping" in out
