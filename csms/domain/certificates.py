"""Charger certificates: what a client certificate must show to log a charger in (security
profile 3), what a certificate signing request must hold to be signed, and the record of each
certificate the CSMS's CA issued.

Pure: parsing and checking with the ``cryptography`` package, no files, no sockets, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "CERTIFICATE_CONTRADICTED",
    "CSR_REJECTED",
    "MIN_EC_BITS",
    "MIN_RSA_BITS",
    "IssuedCertificate",
    "PeerCertificate",
    "boot_serial_problem",
    "common_name",
    "csr_problem",
    "load_csr",
    "parse_serial",
    "peer_certificate",
    "serial_text",
]

# OCPP 2.0.1 part 2 A00.FR.416/502 and the 1.6 security whitepaper: RSA keys of at least 2048
# bits; elliptic curves of at least 256 bits (secp256r1 and up).
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256

CSR_REJECTED = "InvalidCertificateSigningRequest"
"""The security event type the CSMS publishes when it refuses a charger's CSR (a critical one:
csms.domain.alerts raises SECURITY_EVENT for it)."""

CERTIFICATE_CONTRADICTED = "InvalidChargingStationCertificate"
"""The security event type the CSMS publishes when a station's own report contradicts the client
certificate it logged in with (OCPP 2.0.1's name for an invalid station certificate; critical)."""


@dataclass(frozen=True, slots=True)
class PeerCertificate:
    """The client certificate a charger presented in its TLS handshake, already verified
    against the trust store by TLS: only who it names is left to check."""

    common_name: str | None
    serial: str  # serial_text()

    def names(self, identity: str) -> bool:
        """Whether its subject CN is ``identity`` (case-insensitive, as identities are)."""
        return self.common_name is not None and self.common_name.lower() == identity.lower()


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A certificate the CSMS's CA signed for a charger (a SignCertificate CSR, or
    ``csms cert issue``); kept so that it can be listed and revoked."""

    serial: str  # serial_text()
    charge_point_id: str
    issued_at: datetime
    not_after: datetime
    revoked_at: datetime | None = None


def boot_serial_problem(
    certificate: PeerCertificate | None, serial_number: str | None
) -> str | None:
    """Why a BootNotification's serialNumber contradicts the client certificate the station
    logged in with; None when it does not.

    OCPP 2.0.1 B01.FR.11/B01.FR.12: at security profile 3 the CSMS checks the serialNumber a
    station reports against its certificate, and closes the connection when they differ. The
    certificate field is the subject's CN, where A00.FR.405 puts the station's serial number (not
    the subject's serialNumber attribute, which OCPP never mentions). Compared ignoring case, as
    the CN is compared with the identity. Nothing to compare, nothing contradicted: no
    certificate (profiles 0-2), or no serialNumber (optional in BootNotification).
    """
    if certificate is None or serial_number is None:
        return None
    cn = certificate.common_name
    if cn is not None and cn.lower() == serial_number.lower():
        return None
    return f"BootNotification serialNumber {serial_number!r} is not the certificate's CN {cn!r}"


def serial_text(serial: int) -> str:
    """A serial number as stored and shown: lower-case hex without leading zeros."""
    return format(serial, "x")


def parse_serial(text: str) -> str:
    """An operator's serial (hex as ``openssl x509 -serial`` prints it, colons and a 0x prefix
    allowed, any case) → serial_text(); ValueError when it is not hex."""
    cleaned = text.strip().replace(":", "").lower().removeprefix("0x")
    if not cleaned:
        raise ValueError("empty serial number")
    try:
        return serial_text(int(cleaned, 16))
    except ValueError:
        raise ValueError(f"not a hexadecimal serial number: {text!r}") from None


def common_name(name: x509.Name) -> str | None:
    """The single CN of a subject; None when it has none or several."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(values) != 1:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def peer_certificate(der: bytes) -> PeerCertificate:
    certificate = x509.load_der_x509_certificate(der)
    return PeerCertificate(common_name(certificate.subject), serial_text(certificate.serial_number))


def load_csr(text: str) -> x509.CertificateSigningRequest:
    """A CSR as chargers send it: PEM (OCPP 2.0.1 and 1.6 say so); ValueError otherwise."""
    try:
        return x509.load_pem_x509_csr(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"not a PEM certificate signing request ({exc})") from None


def csr_problem(csr: x509.CertificateSigningRequest, identity: str) -> str | None:
    """Why this CSR must not be signed for the charger ``identity``; None when it may be."""
    if not csr.is_signature_valid:
        return "the CSR's signature does not verify"
    cn = common_name(csr.subject)
    if cn is None:
        return "the CSR must have exactly one subject CN"
    if cn.lower() != identity.lower():
        # A00.FR.405 / A02.FR.06: the certificate names this charger and no other.
        return f"the CSR's CN {cn!r} is not the charge point identity {identity!r}"
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return f"an RSA key of {key.key_size} bits (at least {MIN_RSA_BITS} required)"
        return None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            return f"an EC key of {key.curve.key_size} bits (at least {MIN_EC_BITS} required)"
        return None
    return f"a {type(key).__name__} key (RSA or EC keys only)"
