"""Charger certificates: SignCertificate decisions, certificates issued by hand, revocation.

Version-neutral: the OCPP handlers pass a CSR in and send the chain back out. A CSR that must not
be signed is refused, and the refusal published as a ``charger.security_event`` (the alerts raise
SECURITY_EVENT from it), as is a station whose report contradicts its client certificate; neither
is stored among the charger's own security events, which are what the charger reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from csms.domain.certificates import (
    CERTIFICATE_CONTRADICTED,
    CSR_REJECTED,
    IssuedCertificate,
    csr_problem,
    load_csr,
    parse_serial,
    serial_text,
)
from csms.domain.clock import Clock, format_timestamp
from csms.domain.errors import Invalid
from csms.domain.events import CausedEvent
from csms.domain.paging import Page, Paged
from csms.log import get_logger
from csms.services.certificate_authority import (
    CaFiles,
    CertificateAuthority,
    private_key_pem,
)
from csms.services.events import EventBus
from csms.store.repositories import CertificateStore

__all__ = ["CertificateService", "IssuedKeyPair", "SigningOutcome"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SigningOutcome:
    """Signed: ``chain`` (PEM, the certificateChain to send) and ``serial``; else ``reason``."""

    chain: str | None = None
    serial: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedKeyPair:
    record: IssuedCertificate
    certificate_pem: str  # the certificate, then any sub-CA certificates
    key_pem: str
    ca_pem: str


class CertificateService:
    def __init__(
        self,
        store: CertificateStore,
        events: EventBus,
        clock: Clock,
        *,
        files: CaFiles | None,
        validity_days: int,
    ) -> None:
        self._store = store
        self._events = events
        self._clock = clock
        self._files = files
        self._validity_days = validity_days
        self._authority: CertificateAuthority | None = None

    # --- the CA --------------------------------------------------------------------------------

    def start(self) -> bool:
        """Load the CA (creating the CSMS's own when missing); whether it was created. Without
        a CA configured or a data directory, SignCertificate is refused."""
        if self._files is None:
            log.warning(
                "no certificate authority: set [tls] data_dir or ca_cert_file/ca_key_file "
                "to sign charger certificates"
            )
            return False
        self._authority, created = CertificateAuthority.ensure(self._files, self._clock())
        if created:
            log.info("certificate authority created", certificate=str(self._files.certificate))
        return created

    def reload(self) -> None:
        """Read the CA files again (SIGHUP); on failure the CA in use stays (CaError)."""
        if self._files is not None:
            self._authority = CertificateAuthority.load(self._files)

    @property
    def ca_certificate_file(self) -> Path | None:
        """The CA certificate: the default trust store for charger certificates."""
        return None if self._files is None else self._files.certificate

    def _ca(self) -> CertificateAuthority:
        if self._authority is None:
            raise Invalid("tls", "no certificate authority is configured")
        return self._authority

    # --- SignCertificate -----------------------------------------------------------------------

    async def sign(self, cp_id: str, csr_text: str) -> SigningOutcome:
        """Sign a charger's CSR when its CN is the charger's identity and its key is strong
        enough; otherwise refuse it and raise the alarm."""
        if self._authority is None:
            log.warning("CSR refused: no certificate authority", charge_point_id=cp_id)
            return SigningOutcome(reason="no certificate authority")
        try:
            csr = load_csr(csr_text)
            problem = csr_problem(csr, cp_id)
        except ValueError as exc:
            problem = str(exc)
        if problem is not None:
            log.warning("CSR refused", charge_point_id=cp_id, reason=problem)
            await self._security_event(cp_id, CSR_REJECTED, problem)
            return SigningOutcome(reason=problem)
        authority, now = self._authority, self._clock()
        # Signing is CPU work (an RSA CA key: milliseconds); off the loop, beside the frames.
        leaf = await asyncio.to_thread(authority.sign, csr, now, self._validity_days)
        record = IssuedCertificate(
            serial=serial_text(leaf.serial_number),
            charge_point_id=cp_id,
            issued_at=now,
            not_after=leaf.not_valid_after_utc,
        )
        # Kept before the charger hears of it: a certificate in use is always revocable.
        await self._store.add_certificate(record)
        log.info("charger certificate signed", charge_point_id=cp_id, serial=record.serial)
        return SigningOutcome(chain=authority.chain_pem(leaf), serial=record.serial)

    async def contradicted(self, cp_id: str, problem: str) -> None:
        """The station's own report contradicts the client certificate it logged in with (its
        connection is being closed): raise the alarm."""
        log.warning("client certificate contradicted", charge_point_id=cp_id, reason=problem)
        await self._security_event(cp_id, CERTIFICATE_CONTRADICTED, problem)

    async def _security_event(self, cp_id: str, event_type: str, problem: str) -> None:
        data = {
            "type": event_type,
            "timestamp": format_timestamp(self._clock()),
            "techInfo": problem[:255],
        }
        await self._events.emit(CausedEvent("charger.security_event", cp_id, data))

    @staticmethod
    def delivered(cp_id: str, serial: str | None, status: str | None) -> None:
        """What the charger answered to the CertificateSigned that carried it."""
        if status == "Accepted":
            log.info("charger installed its certificate", charge_point_id=cp_id, serial=serial)
        else:
            log.warning(
                "charger refused its signed certificate",
                charge_point_id=cp_id,
                serial=serial,
                status=status,
            )

    # --- by hand (csms cert issue / revoke / list) ---------------------------------------------

    async def issue(self, cp_id: str, kind: str = "ecdsa") -> IssuedKeyPair:
        """A key and client certificate (CN = ``cp_id``) for a charger provisioned by hand."""
        authority, now = self._ca(), self._clock()
        leaf, key = await asyncio.to_thread(authority.issue, cp_id, now, self._validity_days, kind)
        record = IssuedCertificate(
            serial=serial_text(leaf.serial_number),
            charge_point_id=cp_id,
            issued_at=now,
            not_after=leaf.not_valid_after_utc,
        )
        await self._store.add_certificate(record)
        return IssuedKeyPair(
            record=record,
            certificate_pem=authority.chain_pem(leaf),
            key_pem=private_key_pem(key).decode("ascii"),
            ca_pem=authority.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        )

    async def revoke(self, serial: str) -> IssuedCertificate:
        """Invalid for a serial that is not hex; NotFound for one not issued here."""
        try:
            normalised = parse_serial(serial)
        except ValueError as exc:
            raise Invalid("serial", str(exc)) from None
        return await self._store.revoke_certificate(normalised, self._clock())

    async def list_certificates(
        self, page: Page[str], *, cp_id: str | None = None
    ) -> Paged[IssuedCertificate]:
        return await self._store.list_certificates(page, cp_id=cp_id)

    async def is_revoked(self, serial: str) -> bool:
        return await self._store.is_revoked(serial)

    async def revoked_among(self, serials: Collection[str]) -> set[str]:
        return await self._store.revoked_among(serials)
