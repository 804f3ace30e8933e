"""HTTPS endpoint check (plugins/module_utils/carto_endpoint.py) against a local TLS server on 127.0.0.1.

The PKI (root, intermediate, leaf) is generated at test time; no key is committed.
"""

import datetime
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.carto.selfhosted.plugins.module_utils import carto_endpoint

DOMAIN = "carto.example.test"


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


def make_pki(domain=DOMAIN):
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


@pytest.fixture
def pki():
    return make_pki()


def run(server, pki, domain=DOMAIN, **kwargs):
    return carto_endpoint.endpoint_checks(
        lambda: carto_endpoint.tcp_connect("127.0.0.1", server.port, 5), domain, trust=pki["root"],
        via="127.0.0.1:%d" % server.port, **kwargs)


def by_name(checks):
    return dict((c["name"], c) for c in checks)


def test_good_chain(tmp_path, pki):
    server = TLSServer(tmp_path, pki["leaf"] + pki["intermediate"], pki["key"])
    try:
        checks, details = run(server, pki)
    finally:
        server.close()
    assert [c["status"] for c in checks] == ["passed"] * 4, checks
    assert details["status"] == 200 and details["certificate"]["served_certificates"] == 2
    assert details["certificate"]["full_chain_read"] is True
    assert details["response_seconds"] >= 0
    assert server.hosts == [DOMAIN]


def test_incomplete_chain(tmp_path, pki):
    server = TLSServer(tmp_path, pki["leaf"], pki["key"])
    try:
        checks, _details = run(server, pki)
    finally:
        server.close()
    cert = by_name(checks)["endpoint_certificate"]
    assert cert["status"] == "failed" and "incomplete" in cert["message"] and "Test Intermediate" in cert["message"]


def test_wrong_domain(tmp_path, pki):
    server = TLSServer(tmp_path, pki["leaf"] + pki["intermediate"], pki["key"])
    try:
        checks, _details = run(server, pki, domain="other.example.test")
    finally:
        server.close()
    cert = by_name(checks)["endpoint_certificate"]
    assert cert["status"] == "failed" and "hostname" in cert["message"]


def test_untrusted_is_warning_when_trust_not_required(tmp_path, pki):
    server = TLSServer(tmp_path, pki["leaf"] + pki["intermediate"], pki["key"])
    other = make_pki()
    try:
        checks, _details = run(server, other, trust_required=False)
    finally:
        server.close()
    assert by_name(checks)["endpoint_certificate"]["status"] == "warning"


def test_http_error_status(tmp_path, pki):
    server = TLSServer(tmp_path, pki["leaf"] + pki["intermediate"], pki["key"], status=503)
    try:
        checks, _details = run(server, pki)
    finally:
        server.close()
    assert by_name(checks)["endpoint_http"]["status"] == "failed"


def test_connection_refused_skips_the_rest():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    checks, details = carto_endpoint.endpoint_checks(lambda: carto_endpoint.tcp_connect("127.0.0.1", port, 2), DOMAIN)
    assert [c["status"] for c in checks] == ["failed", "skipped", "skipped", "skipped"]
    assert "error" in details


def test_resolve_target_named_port_prefers_ready_pod():
    svc = {"metadata": {"name": "carto-router"},
           "spec": {"selector": {"app": "router"}, "ports": [{"name": "https", "port": 443, "targetPort": "https"}]}}

    def pod(name, ready):
        return {"metadata": {"name": name, "labels": {"app": "router"}},
                "spec": {"containers": [{"name": "router", "ports": [{"name": "https", "containerPort": 8443}]}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready}]}}
    assert carto_endpoint.resolve_target(svc, "https", [pod("a", "False"), pod("b", "True")]) == ("b", 8443)
    with pytest.raises(ValueError, match="no port http2"):
        carto_endpoint.resolve_target(svc, "http2", [])
    with pytest.raises(ValueError, match="no Running pod"):
        carto_endpoint.resolve_target(svc, "https", [])
