"""A TLS server on 127.0.0.1 and the chain it serves, generated at test time (no key is committed).

Used by the endpoint-check unit tests and by the verification integration tests, where kwok
port-forwards the router pod to this server.
"""

import datetime
import socket
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


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
