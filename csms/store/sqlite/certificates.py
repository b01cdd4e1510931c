"""The certificates the CSMS's CA issued (csms.store.certificate_repositories)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime

from csms.domain.certificates import IssuedCertificate
from csms.domain.clock import format_timestamp
from csms.domain.errors import Conflict, NotFound
from csms.domain.paging import Page, Paged, paged
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import dt, ts

__all__ = ["SqliteCertificates"]

_COLUMNS = "serial, charge_point_id, issued_at, not_after, revoked_at"
# Serials per query: well under SQLite's limit on bound parameters (32766, 999 before 3.32).
_CHUNK = 500


def _certificate(row: sqlite3.Row) -> IssuedCertificate:
    issued_at, not_after = dt(row["issued_at"]), dt(row["not_after"])
    assert issued_at is not None and not_after is not None
    return IssuedCertificate(
        serial=row["serial"],
        charge_point_id=row["charge_point_id"],
        issued_at=issued_at,
        not_after=not_after,
        revoked_at=dt(row["revoked_at"]),
    )


class SqliteCertificates:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        row = (
            certificate.serial,
            certificate.charge_point_id,
            format_timestamp(certificate.issued_at),
            format_timestamp(certificate.not_after),
            ts(certificate.revoked_at),
        )

        def op(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO issued_certificates ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)", row
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"certificate serial {certificate.serial} exists") from exc

        await self._db.write(op)

    async def get_certificate(self, serial: str) -> IssuedCertificate | None:
        def read(conn: sqlite3.Connection) -> IssuedCertificate | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM issued_certificates WHERE serial = ?", (serial,)
            ).fetchone()
            return None if row is None else _certificate(row)

        return await self._db.read(read)

    async def list_certificates(
        self, page: Page[str], *, cp_id: str | None = None
    ) -> Paged[IssuedCertificate]:
        def read(conn: sqlite3.Connection) -> Paged[IssuedCertificate]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM issued_certificates"
                " WHERE (? IS NULL OR charge_point_id = ?) AND (? IS NULL OR serial > ?)"
                " ORDER BY serial LIMIT ?",
                (cp_id, cp_id, page.starting_after, page.starting_after, page.fetch),
            ).fetchall()
            return paged([_certificate(row) for row in rows], page)

        return await self._db.read(read)

    async def revoke_certificate(self, serial: str, at: datetime) -> IssuedCertificate:
        def op(conn: sqlite3.Connection) -> IssuedCertificate:
            row = conn.execute(
                "UPDATE issued_certificates SET revoked_at = coalesce(revoked_at, ?)"
                f" WHERE serial = ? RETURNING {_COLUMNS}",
                (format_timestamp(at), serial),
            ).fetchone()
            if row is None:
                raise NotFound(f"no certificate with serial {serial} was issued here")
            return _certificate(row)

        return await self._db.write(op)

    async def is_revoked(self, serial: str) -> bool:
        def read(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT 1 FROM issued_certificates WHERE serial = ? AND revoked_at IS NOT NULL",
                (serial,),
            ).fetchone()
            return row is not None

        return await self._db.read(read)

    async def revoked_among(self, serials: Collection[str]) -> set[str]:
        wanted = list(serials)

        def read(conn: sqlite3.Connection) -> set[str]:
            revoked: set[str] = set()
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                revoked.update(
                    row[0]
                    for row in conn.execute(
                        "SELECT serial FROM issued_certificates"
                        f" WHERE serial IN ({marks}) AND revoked_at IS NOT NULL",
                        chunk,
                    )
                )
            return revoked

        return await self._db.read(read) if wanted else set()
