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


def test_kinds_the_cluster_does_not_serve_are_refused_before_any_change(local_cluster, base_vars, namespace):
    """GKE Ingress on a cluster without GKE's CRDs: named with the customization, before the namespace exists
    (helm would fail later with `no matches for kind "BackendConfig"`)."""
    extra = dict(base_vars, carto_ingress={"enabled": True, "certificate": "google_managed",
                                           "static_ip_name": "carto-ip"})
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc != 0, result
    out = " ".join(result.output.split())
    assert "Preflight failed 1 check(s): served_kinds" in out, result
    assert "cloud.google.com/v1 BackendConfig (carto-service-backend-config), brought by the GKE Ingress" in out
    assert "networking.gke.io/v1 ManagedCertificate" in out and "networking.gke.io/v1beta1 FrontendConfig" in out
    assert local_cluster.get_json("namespace", namespace) is None
