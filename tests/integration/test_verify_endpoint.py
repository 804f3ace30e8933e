"""Verification on the local control plane: report, LoadBalancer exposure and a real HTTPS endpoint check.

kwok forwards the router pod's port (ClusterPortForward, kwok.x-k8s.io/v1alpha1) to a TLS server this
test runs on 127.0.0.1 with a chain generated here, so carto.selfhosted.carto_endpoint_check goes through
the API server's port-forward for real. One install (router Service LoadBalancer, fake LB controller of
tools/localcluster) serves the good-chain, incomplete-chain and wrong-domain cases.
"""

import datetime
import json
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DOMAIN = "carto.verify.example.test"


def _cert(subject, issuer_name, key, issuer_key, ca, sans=()):
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=200))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(domain):
    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    root_key, int_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _index in range(3))
    root = _cert(name("Test Root"), name("Test Root"), root_key, root_key, True)
    inter = _cert(name("Test Intermediate"), root.subject, int_key, root_key, True)
    leaf = _cert(name(domain), inter.subject, leaf_key, int_key, False, sans=(domain,))

    def pem(cert):
        return cert.public_bytes(serialization.Encoding.PEM)

    key_pem = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    return {"root": pem(root), "intermediate": pem(inter), "leaf": pem(leaf), "key": key_pem}


class TLSServer(object):
    """Answers every connection with HTTP 200 over TLS with the given chain, on 127.0.0.1."""

    def __init__(self, tmp_path, chain_pem, key_pem, status=200):
        cert_file = tmp_path / "chain.pem"
        key_file = tmp_path / "key.pem"
        cert_file.write_bytes(chain_pem)
        key_file.write_bytes(key_pem)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert_file), str(key_file))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.status = status
        self.hosts = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    data = tls.recv(4096).decode()
                    self.hosts.extend(l.split(":", 1)[1].strip() for l in data.splitlines() if l.lower().startswith("host:"))
                    tls.sendall(("HTTP/1.1 %d OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" % self.status).encode())
            except (OSError, ssl.SSLError):
                pass

    def close(self):
        self.sock.close()


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
    report = json.loads((tmp_path / "out" / "verify-report.json").read_text())
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
