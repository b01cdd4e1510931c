"""State a charger holds because an operator command told it to: charging profiles,
reservations, the local list version, 1.6 configuration keys."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

import orjson

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.models import ConfigurationKey, Reservation, StoredChargingProfile
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import dt

__all__ = ["SqliteChargerState", "drop_transaction_profiles", "use_reservation"]


def use_reservation(
    conn: sqlite3.Connection, cp_id: str, reservation_id: int, at: datetime
) -> None:
    """A transaction that names a reservation consumes it (1.6 §5.13, 2.0.1 E03.FR.04); run
    inside the transaction's own write."""
    conn.execute(
        "UPDATE reservations SET status = 'used', ended_at = ? WHERE charge_point_id = ?"
        " AND reservation_id = ? AND status = 'active'",
        (format_timestamp(at), cp_id, reservation_id),
    )


def drop_transaction_profiles(conn: sqlite3.Connection, cp_id: str, transaction_id: str) -> None:
    """A TxProfile lives as long as its transaction (1.6 §3.13.1); run inside the write that
    ends it."""
    conn.execute(
        "DELETE FROM charging_profiles WHERE charge_point_id = ? AND purpose = 'TxProfile'"
        " AND transaction_id = ?",
        (cp_id, transaction_id),
    )


def _reservation(row: sqlite3.Row) -> Reservation:
    return Reservation(
        charge_point_id=row["charge_point_id"],
        reservation_id=row["reservation_id"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        id_tag=row["id_tag"],
        expires_at=parse_timestamp(row["expires_at"]),
        status=row["status"],
        created_at=parse_timestamp(row["created_at"]),
        ended_at=dt(row["ended_at"]),
    )


class SqliteChargerState:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def put_charging_profile(self, profile: StoredChargingProfile) -> None:
        row = (
            profile.charge_point_id,
            profile.profile_id,
            profile.evse_id,
            profile.purpose,
            profile.stack_level,
            profile.transaction_id,
            orjson.dumps(profile.profile).decode(),
            format_timestamp(profile.set_at),
        )

        def op(conn: sqlite3.Connection) -> None:
            # The same id replaces (1.6 §5.16.3); so does the same purpose+stack level on the same
            # EVSE (1.6 §3.13.2), which the charger has just overwritten.
            conn.execute(
                "DELETE FROM charging_profiles WHERE charge_point_id = ? AND evse_id = ?"
                " AND purpose = ? AND stack_level = ? AND profile_id != ?",
                (
                    profile.charge_point_id,
                    profile.evse_id,
                    profile.purpose,
                    profile.stack_level,
                    profile.profile_id,
                ),
            )
            conn.execute(
                "INSERT OR REPLACE INTO charging_profiles (charge_point_id, profile_id, evse_id,"
                " purpose, stack_level, transaction_id, profile, set_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

        await self._db.write(op)

    async def clear_charging_profiles(
        self,
        cp_id: str,
        *,
        profile_id: int | None,
        evse_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> int:
        def op(conn: sqlite3.Connection) -> int:
            if profile_id is not None:  # the id wins over the other criteria
                return conn.execute(
                    "DELETE FROM charging_profiles WHERE charge_point_id = ? AND profile_id = ?",
                    (cp_id, profile_id),
                ).rowcount
            return conn.execute(
                "DELETE FROM charging_profiles WHERE charge_point_id = ?"
                " AND (? IS NULL OR evse_id = ?) AND (? IS NULL OR purpose = ?)"
                " AND (? IS NULL OR stack_level = ?)",
                (cp_id, evse_id, evse_id, purpose, purpose, stack_level, stack_level),
            ).rowcount

        return await self._db.write(op)

    async def list_charging_profiles(self, cp_id: str) -> list[StoredChargingProfile]:
        def read(conn: sqlite3.Connection) -> list[StoredChargingProfile]:
            return [
                StoredChargingProfile(
                    charge_point_id=r["charge_point_id"],
                    profile_id=r["profile_id"],
                    evse_id=r["evse_id"],
                    purpose=r["purpose"],
                    stack_level=r["stack_level"],
                    transaction_id=r["transaction_id"],
                    profile=orjson.loads(r["profile"]),
                    set_at=parse_timestamp(r["set_at"]),
                )
                for r in conn.execute(
                    "SELECT * FROM charging_profiles WHERE charge_point_id = ?"
                    " ORDER BY evse_id, purpose, stack_level, profile_id",
                    (cp_id,),
                )
            ]

        return await self._db.read(read)

    async def put_reservation(self, reservation: Reservation) -> None:
        row = (
            reservation.charge_point_id,
            reservation.reservation_id,
            reservation.evse_id,
            reservation.connector_id,
            reservation.id_tag,
            format_timestamp(reservation.expires_at),
            reservation.status,
            format_timestamp(reservation.created_at),
        )

        def op(conn: sqlite3.Connection) -> None:
            # The same reservationId replaces the earlier reservation (1.6 §5.13).
            conn.execute(
                "INSERT OR REPLACE INTO reservations (charge_point_id, reservation_id, evse_id,"
                " connector_id, id_tag, expires_at, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

        await self._db.write(op)

    async def end_reservation(
        self, cp_id: str, reservation_id: int, status: str, at: datetime
    ) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "UPDATE reservations SET status = ?, ended_at = ? WHERE charge_point_id = ?"
                    " AND reservation_id = ? AND status = 'active'",
                    (status, format_timestamp(at), cp_id, reservation_id),
                ).rowcount
                > 0
            )

        return await self._db.write(op)

    async def expire_reservations(self, now: datetime) -> int:
        stamp = format_timestamp(now)

        def op(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE reservations SET status = 'expired', ended_at = expires_at"
                " WHERE status = 'active' AND expires_at <= ?",
                (stamp,),
            ).rowcount

        return await self._db.write(op)

    async def list_reservations(self, cp_id: str) -> list[Reservation]:
        def read(conn: sqlite3.Connection) -> list[Reservation]:
            return [
                _reservation(r)
                for r in conn.execute(
                    "SELECT * FROM reservations WHERE charge_point_id = ? ORDER BY created_at DESC,"
                    " reservation_id",
                    (cp_id,),
                )
            ]

        return await self._db.read(read)

    async def set_local_list_version(self, cp_id: str, version: int | None) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE charge_points SET local_list_version = ? WHERE id = ?", (version, cp_id)
            )

        await self._db.write(op)

    async def get_local_list_version(self, cp_id: str) -> int | None:
        def read(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "SELECT local_list_version FROM charge_points WHERE id = ?", (cp_id,)
            ).fetchone()
            return None if row is None else row[0]

        return await self._db.read(read)

    async def put_configuration_keys(
        self, cp_id: str, keys: Sequence[tuple[str, str | None, bool | None]], at: datetime
    ) -> None:
        stamp = format_timestamp(at)
        rows = [
            (cp_id, key, value, None if readonly is None else int(readonly), stamp)
            for key, value, readonly in keys
        ]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO configuration_keys (charge_point_id, key, value, readonly,"
                " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (charge_point_id, key) DO UPDATE"
                " SET value = excluded.value,"
                " readonly = COALESCE(excluded.readonly, configuration_keys.readonly),"
                " updated_at = excluded.updated_at",
                rows,
            )

        await self._db.write(op)

    async def list_configuration_keys(self, cp_id: str) -> list[ConfigurationKey]:
        def read(conn: sqlite3.Connection) -> list[ConfigurationKey]:
            return [
                ConfigurationKey(
                    r["key"],
                    r["value"],
                    None if r["readonly"] is None else bool(r["readonly"]),
                    parse_timestamp(r["updated_at"]),
                )
                for r in conn.execute(
                    "SELECT * FROM configuration_keys WHERE charge_point_id = ? ORDER BY key",
                    (cp_id,),
                )
            ]

        return await self._db.read(read)
