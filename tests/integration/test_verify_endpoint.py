"""Verification on the local control plane: report, LoadBalancer exposure and a real HTTPS endpoint check.

kwok forwards the router pod's port (ClusterPortForward, kwok.x-k8s.io/v1alpha1) to a TLS server this
test runs on 127.0.0.1 with a chain generated here, so carto.selfhosted.carto_endpoint_check goes through
the API server's port-forward for real. One install (router Service LoadBalancer, fake LB controller of
tools/localcluster) serves the good-chain, incomplete-chain and wrong-domain cases.
"""

import json

import pytest
from tls_server import TLSServer, make_pki  # tests/tools, on sys.path through tests/integration/conftest.py

# Module-scoped fixtures (one cluster setup or artifact for the whole file): keep the file on one
# xdist worker (--dist loadgroup); the other tests are spread one by one.
pytestmark = pytest.mark.xdist_group("verify_endpoint")


DOMAIN = "carto.verify.example.test"


def forward_to(cluster, namespace, port):
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward",
        "metadata": {"name": "fwd-" + namespace},
        "spec": {"selector": {"matchNamespaces": [namespace]},
                 "forwards": [{"target": {"address": "127.0.0.1", "port": port}}]}}))


def checks_of(report):
    return dict((c["name"], c) for c in report["checks"])


@pytest.fixture(scope="module")
def installed(local_cluster, carto_package, tmp_path_factory):
    namespace = "t-verify-ep"
    out = tmp_path_factory.mktemp("verify-ep")
    extra = dict(carto_package, carto_namespace=namespace, carto_output_dir=str(out), carto_deploy_timeout=180,
                 carto_domain=DOMAIN, carto_router_service={"type": "LoadBalancer"},
                 carto_verify_endpoint_mode="skip")
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc == 0, result
    yield {"namespace": namespace, "out": out, "vars": extra, "install": result}
    local_cluster.kubectl("delete", "clusterportforward", "fwd-" + namespace, "--ignore-not-found")
    local_cluster.helm("uninstall", "carto", "-n", namespace, check=False)
    local_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def verify(cluster, installed, tmp_path, pki, served, **over):
    server = TLSServer(tmp_path, served, pki["key"])
    forward_to(cluster, installed["namespace"], server.port)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki["root"])
    extra = dict(installed["vars"], carto_verify_endpoint_mode="port_forward", carto_ca_bundle=str(ca),
                 verify_endpoint_trust_required=True, carto_output_dir=str(tmp_path / "out"),
                 carto_support_bundle_on_failure=False)
    extra.update(over)
    try:
        result = cluster.run_playbook("playbooks/verify.yml", extra)
    finally:
        server.close()
    path = tmp_path / "out" / "verify-report.json"
    # verify.yml alone: the role creates the missing directory itself, private like the report.
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    report = json.loads(path.read_text())
    return result, report, server


def test_install_report_and_load_balancer(installed):
    output = installed["install"].output
    assert "DNS record to create: %s. 300 IN A 127.0.0." % DOMAIN in output
    report = json.loads((installed["out"] / "verify-report.json").read_text())
    checks = checks_of(report)
    assert report["verdict"] == "passed"
    assert checks["router_service"]["status"] == "passed"
    assert checks["load_balancer"]["status"] == "passed"
    assert report["exposure"]["dns_record"]["value"].startswith("127.0.0.")
    assert checks["workspace_migrations"]["status"] == "passed"
    assert checks["endpoint"]["status"] == "skipped" and "skip" in checks["endpoint"]["message"]
    assert "deployment carto-router" in checks and "statefulset carto-postgresql" in checks


def test_good_chain(local_cluster, installed, tmp_path):
    pki = make_pki(DOMAIN)
    result, report, server = verify(local_cluster, installed, tmp_path, pki, pki["leaf"] + pki["intermediate"])
    assert result.rc == 0, result
    checks = checks_of(report)
    for name in ("endpoint_connect", "endpoint_http", "endpoint_certificate", "endpoint_response_time"):
        assert checks[name]["status"] == "passed", checks[name]
    assert "port-forward pod/carto-router-" in checks["endpoint_connect"]["message"]
    assert report["endpoint"]["status"] == 200 and report["endpoint"]["certificate"]["served_certificates"] == 2
    assert server.hosts == [DOMAIN]


def test_incomplete_chain(local_cluster, installed, tmp_path):
    pki = make_pki(DOMAIN)
    result, report, _server = verify(local_cluster, installed, tmp_path, pki, pki["leaf"])
    assert result.rc != 0
    cert = checks_of(report)["endpoint_certificate"]
    assert cert["status"] == "failed" and "incomplete" in cert["message"]
    assert "endpoint_certificate" in result.output


def test_wrong_domain(local_cluster, installed, tmp_path):
    pki = make_pki("other.example.test")
    result, report, _server = verify(local_cluster, installed, tmp_path, pki, pki["leaf"] + pki["intermediate"])
    assert result.rc != 0
    cert = checks_of(report)["endpoint_certificate"]
    assert cert["status"] == "failed" and "hostname" in cert["message"] and DOMAIN in cert["message"]
