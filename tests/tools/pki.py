"""Test PKI generated at test time with cryptography (nothing is committed).

:class:`Pki` is a small CA toolkit plus a standard hierarchy ``root -> inter -> leaf``
(RSA) for ``carto.example.com``; :class:`KeyPool` caches private keys by name (RSA
generation is the slow part). Used by the unit tests (tests/unit/plugins/conftest.py)
and the integration tests (tests/integration/conftest.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DOMAIN = "carto.example.com"


class KeyPool(object):
    """Session cache of private keys by name."""

    def __init__(self):
        self._keys = {}

    def get(self, name, kind="rsa"):
        ident = (name, kind)
        if ident not in self._keys:
            if kind == "rsa":
                self._keys[ident] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            else:
                self._keys[ident] = ec.generate_private_key(ec.SECP256R1())
        return self._keys[ident]


class Pki(object):
    def __init__(self, keys, tmp_path):
        self.keys = keys
        self.tmp_path = tmp_path
        self.now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self._std = None

    # -- building blocks -------------------------------------------------
    def key(self, name, kind="rsa"):
        return self.keys.get(name, kind)

    def name(self, cn, org="Test PKI"):
        return x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ])

    def cert(self, cn, key, issuer=None, issuer_key=None, ca=False, sans=None, eku=None,
             not_before=None, not_after=None, days=365, basic_constraints=True, subject=None, serial=None):
        """Make a certificate; self-signed when ``issuer`` is None."""
        subject_name = subject if subject is not None else self.name(cn)
        issuer_name = issuer.subject if issuer is not None else subject_name
        signing_key = issuer_key if issuer_key is not None else key
        not_before = not_before or (self.now - datetime.timedelta(days=1))
        not_after = not_after or (self.now + datetime.timedelta(days=days))
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject_name)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if basic_constraints:
            builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]),
                                            critical=False)
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    def ca(self, cn, key, issuer=None, issuer_key=None, **kwargs):
        return self.cert(cn, key, issuer=issuer, issuer_key=issuer_key, ca=True, days=3650, **kwargs)

    def server(self, key, issuer, issuer_key, sans=(DOMAIN,), cn=DOMAIN, eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
               **kwargs):
        return self.cert(cn, key, issuer=issuer, issuer_key=issuer_key, sans=list(sans) if sans else None,
                         eku=list(eku) if eku is not None else None, **kwargs)

    # -- standard hierarchy ------------------------------------------------
    @property
    def std(self):
        """root -> inter -> leaf (RSA) with keys: a dict."""
        if self._std is None:
            root_key = self.key("root")
            inter_key = self.key("inter")
            leaf_key = self.key("leaf")
            root = self.ca("Test Root CA", root_key)
            inter = self.ca("Test Intermediate CA", inter_key, issuer=root, issuer_key=root_key)
            leaf = self.server(leaf_key, inter, inter_key)
            self._std = dict(root=root, inter=inter, leaf=leaf, root_key=root_key, inter_key=inter_key,
                             leaf_key=leaf_key)
        return self._std

    # -- serialization -----------------------------------------------------
    @staticmethod
    def pem(*certs):
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)

    @staticmethod
    def der(cert):
        return cert.public_bytes(serialization.Encoding.DER)

    @staticmethod
    def key_pem(key, passphrase=None, traditional=False):
        fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
        enc = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
               else serialization.NoEncryption())
        return key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode("ascii")

    def write(self, name, content):
        path = self.tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("ascii"))
        return str(path)
