"""The certificates the CSMS's CA issued, and which of them are revoked. Part of the store
interface (csms.store.repositories re-exports it and holds the ``Store``).

Rows are never deleted, not even with their charger: a revoked serial must stay refused.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from csms.domain.certificates import IssuedCertificate
from csms.domain.paging import Page, Paged

__all__ = ["CertificateStore"]


class CertificateStore(Protocol):
    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        """Conflict when the serial is known already."""
        ...

    async def get_certificate(self, serial: str) -> IssuedCertificate | None: ...
    async def list_certificates(
        self, page: Page[str], *, cp_id: str | None = None
    ) -> Paged[IssuedCertificate]:
        """In serial order (as text); ``cp_id`` matches ignoring case. Cursor: the serial."""
        ...

    async def revoke_certificate(self, serial: str, at: datetime) -> IssuedCertificate:
        """Mark it revoked at ``at`` (a second revocation keeps the first time); NotFound."""
        ...

    async def is_revoked(self, serial: str) -> bool:
        """False for a serial never issued here (another CA's certificate)."""
        ...

    async def revoked_among(self, serials: Collection[str]) -> set[str]:
        """Those of ``serials`` that are revoked (the live connections' certificates, checked
        in one go rather than one query each)."""
        ...
