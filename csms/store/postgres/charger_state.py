"""State a charger holds because an operator command told it to: charging profiles,
reservations, the local list version, 1.6 configuration keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from csms.domain.models import ConfigurationKey, Reservation, StoredChargingProfile
from csms.store.postgres.database import PostgresDatabase, rows_affected

__all__ = ["PostgresChargerState"]


class PostgresChargerState:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def put_charging_profile(self, profile: StoredChargingProfile) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            # The same id replaces (1.6 §5.16.3); so does the same purpose+stack level on the
            # same EVSE (1.6 §3.13.2), which the charger has just overwritten.
            await conn.execute(
                "DELETE FROM charging_profiles WHERE charge_point_id = $1 AND evse_id = $2"
                " AND purpose = $3 AND stack_level = $4 AND profile_id != $5",
                profile.charge_point_id,
                profile.evse_id,
                profile.purpose,
                profile.stack_level,
                profile.profile_id,
            )
            await conn.execute(
                "INSERT INTO charging_profiles (charge_point_id, profile_id, evse_id, purpose,"
                " stack_level, transaction_id, profile, set_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (charge_point_id, profile_id) DO UPDATE SET"
                " evse_id = excluded.evse_id, purpose = excluded.purpose,"
                " stack_level = excluded.stack_level, transaction_id = excluded.transaction_id,"
                " profile = excluded.profile, set_at = excluded.set_at",
                profile.charge_point_id,
                profile.profile_id,
                profile.evse_id,
                profile.purpose,
                profile.stack_level,
                profile.transaction_id,
                profile.profile,
                profile.set_at,
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
        async def op(conn: asyncpg.Connection) -> int:
            if profile_id is not None:  # the id wins over the other criteria
                status = await conn.execute(
                    "DELETE FROM charging_profiles WHERE charge_point_id = $1 AND profile_id = $2",
                    cp_id,
                    profile_id,
                )
            else:
                status = await conn.execute(
                    "DELETE FROM charging_profiles WHERE charge_point_id = $1"
                    " AND ($2::integer IS NULL OR evse_id = $2)"
                    " AND ($3::text IS NULL OR purpose = $3)"
                    " AND ($4::integer IS NULL OR stack_level = $4)",
                    cp_id,
                    evse_id,
                    purpose,
                    stack_level,
                )
            return rows_affected(status)

        return await self._db.write(op)

    async def list_charging_profiles(self, cp_id: str) -> list[StoredChargingProfile]:
        async def read(conn: asyncpg.Connection) -> list[StoredChargingProfile]:
            return [
                StoredChargingProfile(
                    charge_point_id=r["charge_point_id"],
                    profile_id=r["profile_id"],
                    evse_id=r["evse_id"],
                    purpose=r["purpose"],
                    stack_level=r["stack_level"],
                    transaction_id=r["transaction_id"],
                    profile=r["profile"],
                    set_at=r["set_at"],
                )
                for r in await conn.fetch(
                    "SELECT charge_point_id, profile_id, evse_id, purpose, stack_level,"
                    " transaction_id, profile, set_at FROM charging_profiles"
                    " WHERE charge_point_id = $1 ORDER BY evse_id, purpose, stack_level,"
                    " profile_id",
                    cp_id,
                )
            ]

        return await self._db.read(read)

    async def put_reservation(self, reservation: Reservation) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            # The same reservationId replaces the earlier reservation (1.6 §5.13).
            await conn.execute(
                "INSERT INTO reservations (charge_point_id, reservation_id, evse_id,"
                " connector_id, id_tag, expires_at, status, created_at, ended_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)"
                " ON CONFLICT (charge_point_id, reservation_id) DO UPDATE SET"
                " evse_id = excluded.evse_id, connector_id = excluded.connector_id,"
                " id_tag = excluded.id_tag, expires_at = excluded.expires_at,"
                " status = excluded.status, created_at = excluded.created_at, ended_at = NULL",
                reservation.charge_point_id,
                reservation.reservation_id,
                reservation.evse_id,
                reservation.connector_id,
                reservation.id_tag,
                reservation.expires_at,
                reservation.status,
                reservation.created_at,
            )

        await self._db.write(op)

    async def end_reservation(
        self, cp_id: str, reservation_id: int, status: str, at: datetime
    ) -> bool:
        async def op(conn: asyncpg.Connection) -> bool:
            result = await conn.execute(
                "UPDATE reservations SET status = $3, ended_at = $4 WHERE charge_point_id = $1"
                " AND reservation_id = $2 AND status = 'active'",
                cp_id,
                reservation_id,
                status,
                at,
            )
            return rows_affected(result) > 0

        return await self._db.write(op)

    async def expire_reservations(self, now: datetime) -> int:
        async def op(conn: asyncpg.Connection) -> int:
            return rows_affected(
                await conn.execute(
                    "UPDATE reservations SET status = 'expired', ended_at = expires_at"
                    " WHERE status = 'active' AND expires_at <= $1",
                    now,
                )
            )

        return await self._db.write(op)

    async def list_reservations(self, cp_id: str) -> list[Reservation]:
        async def read(conn: asyncpg.Connection) -> list[Reservation]:
            return [
                Reservation(*r)
                for r in await conn.fetch(
                    "SELECT charge_point_id, reservation_id, evse_id, connector_id, id_tag,"
                    " expires_at, status, created_at, ended_at FROM reservations"
                    " WHERE charge_point_id = $1 ORDER BY created_at DESC, reservation_id",
                    cp_id,
                )
            ]

        return await self._db.read(read)

    async def set_local_list_version(self, cp_id: str, version: int | None) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "UPDATE charge_points SET local_list_version = $2 WHERE id = $1", cp_id, version
            )

        await self._db.write(op)

    async def get_local_list_version(self, cp_id: str) -> int | None:
        async def read(conn: asyncpg.Connection) -> int | None:
            version: int | None = await conn.fetchval(
                "SELECT local_list_version FROM charge_points WHERE id = $1", cp_id
            )
            return version

        return await self._db.read(read)

    async def put_configuration_keys(
        self, cp_id: str, keys: Sequence[tuple[str, str | None, bool | None]], at: datetime
    ) -> None:
        rows = [(cp_id, key, value, readonly, at) for key, value, readonly in keys]

        async def op(conn: asyncpg.Connection) -> None:
            await conn.executemany(
                "INSERT INTO configuration_keys AS k (charge_point_id, key, value, readonly,"
                " updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (charge_point_id, key)"
                " DO UPDATE SET value = excluded.value,"
                " readonly = COALESCE(excluded.readonly, k.readonly),"
                " updated_at = excluded.updated_at",
                rows,
            )

        await self._db.write(op)

    async def list_configuration_keys(self, cp_id: str) -> list[ConfigurationKey]:
        async def read(conn: asyncpg.Connection) -> list[ConfigurationKey]:
            return [
                ConfigurationKey(*r)
                for r in await conn.fetch(
                    "SELECT key, value, readonly, updated_at FROM configuration_keys"
                    " WHERE charge_point_id = $1 ORDER BY key",
                    cp_id,
                )
            ]

        return await self._db.read(read)
