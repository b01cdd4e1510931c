"""The CSMS's certificate authority: the CA certificate and key on disk, and the charger
certificates they sign (a charger's CSR, or a key pair made for a charger provisioned by hand).

Either the operator's CA (``[tls] ca_cert_file``/``ca_key_file``, read only) or the CSMS's own,
created in its data directory when it is missing (``csms ca init`` or the first start). The key
is written with mode 0600 and never overwritten.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CaError", "CaFiles", "CertificateAuthority", "PrivateKey", "private_key_pem"]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

OWN_CERT_NAME = "csms-ca.crt"
OWN_KEY_NAME = "csms-ca.key"
_CA_YEARS = 10
# Charger clocks drift: a certificate valid from "now" could be refused by a charger a minute
# behind. Backdated a little, as CAs commonly do.
_BACKDATE = timedelta(minutes=5)


class CaError(RuntimeError):
    """The CA cannot be read or created; the message names the file."""


@dataclass(frozen=True, slots=True)
class CaFiles:
    certificate: Path
    key: Path
    own: bool  # the CSMS's own CA in its data directory: created when missing

    @classmethod
    def resolve(
        cls, cert_file: Path | None, key_file: Path | None, data_dir: Path | None
    ) -> CaFiles | None:
        """The operator's CA when configured, else the own CA in ``data_dir``; None: no CA."""
        if cert_file is not None and key_file is not None:
            return cls(cert_file, key_file, own=False)
        if data_dir is None:
            return None
        return cls(data_dir / OWN_CERT_NAME, data_dir / OWN_KEY_NAME, own=True)


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private(path: Path, data: bytes) -> None:
    """A new key file readable by its owner only (0600); FileExistsError rather than replace."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def new_key(kind: str = "ecdsa") -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _spki(
    key: CertificatePublicKeyTypes,
) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _self_signed(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


class CertificateAuthority:
    def __init__(
        self,
        certificate: x509.Certificate,
        key: PrivateKey,
        intermediates: tuple[x509.Certificate, ...] = (),
    ) -> None:
        self.certificate = certificate
        self._key = key
        # What a charger needs between its certificate and the root (A02: certificateChain
        # "can also contain the necessary sub CA certificates"): the CA itself unless it is a
        # root, and the non-root certificates after it in its file.
        self._intermediates = intermediates

    # --- files ---------------------------------------------------------------------------------

    @classmethod
    def ensure(cls, files: CaFiles, now: datetime) -> tuple[CertificateAuthority, bool]:
        """Load the CA; the own CA is created first when missing. (CA, whether created)."""
        if files.own and not files.certificate.exists() and not files.key.exists():
            try:
                return cls.create(files, now), True
            except FileExistsError:
                pass  # created by another process meanwhile (csms ca init during a start)
        return cls.load(files), False

    @classmethod
    def load(cls, files: CaFiles) -> CertificateAuthority:
        try:
            certificates = x509.load_pem_x509_certificates(files.certificate.read_bytes())
        except (OSError, ValueError) as exc:
            raise CaError(f"CA certificate {files.certificate} cannot be read: {exc}") from exc
        try:
            key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise CaError(f"CA key {files.key} cannot be read (PEM, unencrypted): {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise CaError(f"CA key {files.key}: RSA or EC keys only")
        certificate = certificates[0]
        if _spki(certificate.public_key()) != _spki(key.public_key()):
            raise CaError(f"CA key {files.key} does not belong to {files.certificate}")
        chain = [c for c in certificates if not _self_signed(c)]
        return cls(certificate, key, tuple(chain))

    @classmethod
    def create(cls, files: CaFiles, now: datetime) -> CertificateAuthority:
        key = new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "csms"),
                x509.NameAttribute(NameOID.COMMON_NAME, "csms charger CA"),
            ]
        )
        public = key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + timedelta(days=365 * _CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
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
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        files.key.parent.mkdir(parents=True, exist_ok=True)
        # The key first, exclusively: a second process creating the CA at the same moment
        # fails here (FileExistsError) instead of pairing its certificate with our key.
        write_private(files.key, private_key_pem(key))
        try:
            temporary = files.certificate.with_name(files.certificate.name + ".tmp")
            temporary.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
            temporary.replace(files.certificate)
        except BaseException:
            with contextlib.suppress(OSError):
                files.key.unlink()
            raise
        return cls(certificate, key)

    # --- signing -------------------------------------------------------------------------------

    def sign(
        self, csr: x509.CertificateSigningRequest, now: datetime, days: int
    ) -> x509.Certificate:
        """A client certificate for the (already checked) CSR's subject and key."""
        return self._certificate(csr.subject, csr.public_key(), now, days)

    def issue(
        self, identity: str, now: datetime, days: int, kind: str = "ecdsa"
    ) -> tuple[x509.Certificate, PrivateKey]:
        """A new key and its client certificate with CN = ``identity``."""
        key = new_key(kind)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity)])
        return self._certificate(subject, key.public_key(), now, days), key

    def _certificate(
        self,
        subject: x509.Name,
        public: CertificatePublicKeyTypes,
        now: datetime,
        days: int,
    ) -> x509.Certificate:
        # Never valid beyond the CA itself: the chain would not verify after that anyway.
        not_after = min(now + timedelta(days=days), self.certificate.not_valid_after_utc)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            # A TLS client only: OpenSSL checks this purpose when the gateway verifies it.
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )

    def chain_pem(self, leaf: x509.Certificate) -> str:
        """The certificateChain of CertificateSigned: the leaf, then any sub-CA certificates."""
        return "".join(
            c.public_bytes(serialization.Encoding.PEM).decode("ascii")
            for c in (leaf, *self._intermediates)
        )

    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
