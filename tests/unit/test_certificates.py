"""The certificate rules, without sockets: which CSRs are signed, who a client certificate names,
serial numbers as operators type them, and the CA the CSMS creates for itself."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from csms.domain.alerts import is_critical_security_event
from csms.domain.certificates import (
    CERTIFICATE_CONTRADICTED,
    CSR_REJECTED,
    PeerCertificate,
    boot_serial_problem,
    csr_problem,
    load_csr,
    parse_serial,
    peer_certificate,
)
from csms.services.certificate_authority import CaError, CaFiles, CertificateAuthority
from tests.pki import csr_pem, rsa_key

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _csr(names: list[str], key: ec.EllipticCurvePrivateKey | None = None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, n) for n in names])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(
    ("csr", "problem"),
    [
        (lambda: csr_pem("CP-1"), None),
        (lambda: csr_pem("cp-1"), None),  # identities ignore case
        (lambda: csr_pem("CP-1", rsa_key(2048)), None),
        (lambda: csr_pem("CP-1", ec.generate_private_key(ec.SECP384R1())), None),
        (lambda: csr_pem("CP-2"), "is not the charge point identity"),
        (lambda: csr_pem("CP-1", rsa_key(1024)), "RSA key of 1024 bits"),
        (lambda: csr_pem("CP-1", ec.generate_private_key(ec.SECP224R1())), "EC key of 224 bits"),
        (lambda: _csr([]), "exactly one subject CN"),
        (lambda: _csr(["CP-1", "CP-2"]), "exactly one subject CN"),
    ],
)
def test_which_csrs_are_signed(csr: object, problem: str | None) -> None:
    assert callable(csr)
    found = csr_problem(load_csr(csr()), "CP-1")
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_an_ed25519_csr_is_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CP-1")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, None)
    problem = csr_problem(csr, "CP-1")
    assert problem is not None and "RSA or EC" in problem


def test_what_is_not_a_csr_is_a_value_error() -> None:
    for text in (
        "",
        "hello",
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
    ):
        with pytest.raises(ValueError):
            load_csr(text)


def test_a_csr_refusal_raises_an_alert() -> None:
    assert is_critical_security_event(CSR_REJECTED)


@pytest.mark.parametrize(
    ("certificate", "serial_number", "contradicted"),
    [
        (PeerCertificate("CP-1", "a1"), "CP-1", False),
        (PeerCertificate("CP-1", "a1"), "cp-1", False),  # ignoring case, as the CN and identity
        (PeerCertificate("CP-1", "a1"), None, False),  # no serialNumber: nothing to compare
        (None, "SN-ANY", False),  # no certificate (profiles 0-2): not checked
        (PeerCertificate("CP-1", "a1"), "CP-10", True),
        (PeerCertificate("CP-1", "a1"), "a1", True),  # the X.509 serial is not the station's
        (PeerCertificate(None, "a1"), "CP-1", True),
    ],
)
def test_a_boot_serial_number_must_be_the_certificates_cn(
    certificate: PeerCertificate | None, serial_number: str | None, contradicted: bool
) -> None:
    """B01.FR.11: the serialNumber of a profile-3 station's BootNotification is its CN."""
    problem = boot_serial_problem(certificate, serial_number)
    assert (problem is not None) == contradicted
    if problem is not None:
        assert repr(serial_number) in problem


def test_a_contradicted_certificate_raises_an_alert() -> None:
    assert is_critical_security_event(CERTIFICATE_CONTRADICTED)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("0A1B", "a1b"), ("0a:1b", "a1b"), ("0x00FF", "ff"), ("  7f ", "7f")],
)
def test_serials_as_operators_type_them(typed: str, stored: str) -> None:
    assert parse_serial(typed) == stored


@pytest.mark.parametrize("typed", ["", "xyz", "0x"])
def test_a_serial_that_is_not_hex_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_serial(typed)


def test_a_peer_certificate_names_its_charger_ignoring_case() -> None:
    assert PeerCertificate("CP-1", "1").names("cp-1")
    assert not PeerCertificate("CP-10", "1").names("CP-1")
    assert not PeerCertificate(None, "1").names("CP-1")


def test_the_own_ca_is_created_once_with_a_private_key(tmp_path: Path) -> None:
    files = CaFiles.resolve(None, None, tmp_path / "pki")
    assert files is not None and files.own
    ca, created = CertificateAuthority.ensure(files, NOW)
    assert created
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    same, created_again = CertificateAuthority.ensure(files, NOW)
    assert not created_again
    assert same.certificate == ca.certificate

    # What it signs: a client certificate for the CSR's subject, chained to it.
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = ca.sign(load_csr(csr_pem("CP-1", key)), NOW, days=30)
    leaf.verify_directly_issued_by(ca.certificate)
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert peer_certificate(leaf.public_bytes(serialization.Encoding.DER)).names("cp-1")
    assert ca.chain_pem(leaf).count("BEGIN CERTIFICATE") == 1  # a root is not sent along


def test_a_configured_ca_is_read_never_created(tmp_path: Path) -> None:
    files = CaFiles.resolve(tmp_path / "ca.crt", tmp_path / "ca.key", tmp_path)
    assert files is not None and not files.own
    with pytest.raises(CaError, match=r"ca\.crt"):
        CertificateAuthority.ensure(files, NOW)
    assert not (tmp_path / "ca.key").exists()
    assert CaFiles.resolve(None, None, None) is None
