"""Certificates for tests, made with ``cryptography`` in a temporary directory: CAs, server
certificates (RSA and ECDSA), charger client certificates and CSRs, and client SSL contexts.

Independent of csms's own CA code, so that what the gateway verifies is not checked against
itself. RSA keys cost tens of milliseconds to generate: the few RSA keys are made once per run.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Ca", "Issued", "client_context", "csr_pem", "fingerprint", "rsa_key"]

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@cache
def rsa_key(bits: int = 2048, which: int = 0) -> rsa.RSAPrivateKey:
    """An RSA key, the same one for the same (bits, which) within a test run."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def fingerprint(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class Ca:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_file: Path
    key_file: Path
    folder: Path

    @classmethod
    def create(cls, folder: Path, name: str = "test CA") -> Ca:
        folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        slug = name.replace(" ", "-")
        cert_file, key_file = folder / f"{slug}.crt", folder / f"{slug}.key"
        cert_file.write_bytes(_pem(certificate))
        key_file.write_bytes(_key_pem(key))
        return cls(certificate, key, cert_file, key_file, folder)

    def issue(
        self, cn: str, *, key: Key | None = None, server: bool = False, file_name: str | None = None
    ) -> Issued:
        """A client certificate (CN = ``cn``), or a server one for 127.0.0.1 with ``server``."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
        certificate = builder.sign(self.key, hashes.SHA256())
        slug = file_name or cn.replace("|", "_")
        cert_file, key_file = self.folder / f"{slug}.crt", self.folder / f"{slug}.key"
        cert_file.write_bytes(_pem(certificate))
        key_file.write_bytes(_key_pem(key))
        return Issued(certificate, cert_file, key_file)


def csr_pem(cn: str, key: Key | None = None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(_name(cn)).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def client_context(server_ca: Ca, client: Issued | None = None) -> ssl.SSLContext:
    """What a charger uses: trusts ``server_ca``, presents ``client`` when given."""
    context = ssl.create_default_context(cafile=str(server_ca.cert_file))
    if client is not None:
        context.load_cert_chain(client.cert_file, client.key_file)
    return context
