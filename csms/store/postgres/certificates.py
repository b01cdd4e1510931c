"""The certificates the CSMS's CA issued (csms.store.certificate_repositories)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import asyncpg

from csms.domain.certificates import IssuedCertificate
from csms.domain.errors import Conflict, NotFound
from csms.domain.paging import Page, Paged, paged
from csms.store.postgres.database import PostgresDatabase

__all__ = ["PostgresCertificates"]

_COLUMNS = "serial, charge_point_id, issued_at, not_after, revoked_at"


def _certificate(row: asyncpg.Record) -> IssuedCertificate:
    return IssuedCertificate(
        serial=row["serial"],
        charge_point_id=row["charge_point_id"],
        issued_at=row["issued_at"],
        not_after=row["not_after"],
        revoked_at=row["revoked_at"],
    )


class PostgresCertificates:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            try:
                await conn.execute(
                    f"INSERT INTO issued_certificates ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5)",
                    certificate.serial,
                    certificate.charge_point_id,
                    certificate.issued_at,
                    certificate.not_after,
                    certificate.revoked_at,
                )
            except asyncpg.UniqueViolationError as exc:
                raise Conflict(f"certificate serial {certificate.serial} exists") from exc

        await self._db.write(op)

    async def get_certificate(self, serial: str) -> IssuedCertificate | None:
        async def read(conn: asyncpg.Connection) -> IssuedCertificate | None:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM issued_certificates WHERE serial = $1", serial
            )
            return None if row is None else _certificate(row)

        return await self._db.read(read)

    async def list_certificates(
        self, page: Page[str], *, cp_id: str | None = None
    ) -> Paged[IssuedCertificate]:
        async def read(conn: asyncpg.Connection) -> Paged[IssuedCertificate]:
            # COLLATE "C": serials compare byte by byte, as SQLite does, so both page alike.
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM issued_certificates"
                " WHERE ($1::text IS NULL OR charge_point_id = $1::citext)"
                ' AND ($2::text IS NULL OR serial COLLATE "C" > $2)'
                ' ORDER BY serial COLLATE "C" LIMIT $3',
                cp_id,
                page.starting_after,
                page.fetch,
            )
            return paged([_certificate(row) for row in rows], page)

        return await self._db.read(read)

    async def revoke_certificate(self, serial: str, at: datetime) -> IssuedCertificate:
        async def op(conn: asyncpg.Connection) -> IssuedCertificate:
            row = await conn.fetchrow(
                "UPDATE issued_certificates SET revoked_at = coalesce(revoked_at, $1)"
                f" WHERE serial = $2 RETURNING {_COLUMNS}",
                at,
                serial,
            )
            if row is None:
                raise NotFound(f"no certificate with serial {serial} was issued here")
            return _certificate(row)

        return await self._db.write(op)

    async def is_revoked(self, serial: str) -> bool:
        async def read(conn: asyncpg.Connection) -> bool:
            found = await conn.fetchval(
                "SELECT 1 FROM issued_certificates WHERE serial = $1 AND revoked_at IS NOT NULL",
                serial,
            )
            return found is not None

        return await self._db.read(read)

    async def revoked_among(self, serials: Collection[str]) -> set[str]:
        wanted = list(serials)

        async def read(conn: asyncpg.Connection) -> set[str]:
            rows = await conn.fetch(
                "SELECT serial FROM issued_certificates"
                " WHERE serial = ANY($1::text[]) AND revoked_at IS NOT NULL",
                wanted,
            )
            return {row["serial"] for row in rows}

        return await self._db.read(read) if wanted else set()
