"""HTTPS endpoint check (plugins/module_utils/endpoint_check.py) against a local TLS server on 127.0.0.1.

The PKI (root, intermediate, leaf) is generated at test time; no key is committed.
"""

import socket

import pytest
from tls_server import TLSServer, make_pki  # tests/tools, on sys.path through tests/unit/plugins/conftest.py

from ansible_collections.carto.selfhosted.plugins.module_utils import _endpoint_check as endpoint_check

DOMAIN = "carto.example.test"


@pytest.fixture
def pki():
    return make_pki(DOMAIN)


def run(server, pki, domain=DOMAIN, **kwargs):
    return endpoint_check.endpoint_checks(
        lambda: endpoint_check.tcp_connect("127.0.0.1", server.port, 5), domain, trust=pki["root"],
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
    other = make_pki(DOMAIN)
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
    checks, details = endpoint_check.endpoint_checks(lambda: endpoint_check.tcp_connect("127.0.0.1", port, 2), DOMAIN)
    assert [c["status"] for c in checks] == ["failed", "skipped", "skipped", "skipped"]
    assert "error" in details


def test_resolve_target_named_port_prefers_ready_pod():
    svc = {"metadata": {"name": "carto-router"},
           "spec": {"selector": {"app": "router"}, "ports": [{"name": "https", "port": 443, "targetPort": "https"}]}}

    def pod(name, ready):
        return {"metadata": {"name": name, "labels": {"app": "router"}},
                "spec": {"containers": [{"name": "router", "ports": [{"name": "https", "containerPort": 8443}]}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready}]}}
    assert endpoint_check.resolve_target(svc, "https", [pod("a", "False"), pod("b", "True")]) == ("b", 8443)
    with pytest.raises(ValueError, match="no port http2"):
        endpoint_check.resolve_target(svc, "http2", [])
    with pytest.raises(ValueError, match="no Running pod"):
        endpoint_check.resolve_target(svc, "https", [])
