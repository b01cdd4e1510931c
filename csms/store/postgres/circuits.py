"""Circuits, the chargers on them and their priorities; a session's own priority.

Every write that places a circuit (or removes one) first takes ``_LOCK_CIRCUITS``: the tree is
checked over all the circuits, so two concurrent re-parentings must not each pass the check
against the other's old state and make a cycle together. As for sites (csms.store.postgres.sites),
the lock conflicts with itself and every other write to ``circuits``, not with reads nor with the
foreign-key checks of chargers being attached.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.circuits import Circuit, Member, check_circuits
from csms.domain.errors import Conflict, Invalid, NotFound
from csms.domain.paging import Page, Paged, paged
from csms.domain.transactions import Transaction
from csms.domain.updates import CircuitChanges, changed_fields
from csms.store.circuit_rows import (
    CIRCUIT_COLUMNS,
    CIRCUIT_UPDATE_COLUMNS,
    circuit_from_row,
    circuit_values,
    members_from_rows,
)
from csms.store.postgres.database import CONVERSIONS, PostgresDatabase, rows_affected
from csms.store.postgres.transaction_writes import COLUMNS as TRANSACTION_COLUMNS
from csms.store.postgres.transaction_writes import transaction

__all__ = ["PostgresCircuits"]

_C = CONVERSIONS
_LOCK_CIRCUITS = "LOCK TABLE circuits IN SHARE ROW EXCLUSIVE MODE"
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(1, len(CIRCUIT_COLUMNS.split(",")) + 1))
_UPDATE = (
    "UPDATE circuits SET "
    + ", ".join(f"{c} = ${i}" for i, c in enumerate(CIRCUIT_UPDATE_COLUMNS, 1))
    + f" WHERE id = ${len(CIRCUIT_UPDATE_COLUMNS) + 1}"
)
_MEMBER_COLUMNS = "m.circuit_id, m.charge_point_id, m.priority"
# A concurrent attach or detach of the same charger can make an attach start over; it settles
# at the second attempt (the other write has committed by then).
_ATTACH_ATTEMPTS = 3


async def _circuits(conn: asyncpg.Connection) -> dict[str, Circuit]:
    rows = await conn.fetch(f"SELECT {CIRCUIT_COLUMNS} FROM circuits ORDER BY id")
    return {row[0]: circuit_from_row(row, _C) for row in rows}


async def _check_site(conn: asyncpg.Connection, site_id: str | None) -> None:
    # FOR KEY SHARE: the site cannot be deleted before this write commits.
    if site_id is not None and (
        await conn.fetchval("SELECT 1 FROM sites WHERE id = $1 FOR KEY SHARE", site_id) is None
    ):
        raise Invalid("siteId", f"site {site_id!r} does not exist")


async def _members(conn: asyncpg.Connection, where: str, *params: Any) -> list[Member]:
    """The members ``where`` (over ``circuit_members m``) picks, with their EVSE priorities."""
    members = await conn.fetch(
        f"SELECT {_MEMBER_COLUMNS} FROM circuit_members m WHERE {where}"
        " ORDER BY m.circuit_id, m.charge_point_id",
        *params,
    )
    if not members:
        return []
    priorities = await conn.fetch(
        "SELECT e.charge_point_id, e.evse_id, e.priority FROM circuit_member_evse_priorities e"
        f" JOIN circuit_members m ON m.charge_point_id = e.charge_point_id WHERE {where}"
        " ORDER BY e.charge_point_id, e.evse_id",
        *params,
    )
    return members_from_rows(members, priorities)


async def _member_on(conn: asyncpg.Connection, circuit_id: str, cp_id: str) -> Member:
    found = await _members(conn, "m.circuit_id = $1 AND m.charge_point_id = $2", circuit_id, cp_id)
    if not found:
        raise NotFound(f"charge point {cp_id!r} is not on circuit {circuit_id!r}")
    return found[0]


class PostgresCircuits:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    # --- circuits ------------------------------------------------------------------------------

    async def add_circuit(self, circuit: Circuit) -> Circuit:
        row = circuit_values(circuit, _C)

        async def op(conn: asyncpg.Connection) -> Circuit:
            await conn.execute(_LOCK_CIRCUITS)
            circuits = await _circuits(conn)
            if circuit.id in circuits:
                raise Conflict(f"circuit {circuit.id!r} already exists", field="id")
            await _check_site(conn, circuit.site_id)
            circuits[circuit.id] = circuit
            check_circuits(circuits, circuit)
            await conn.execute(
                f"INSERT INTO circuits ({CIRCUIT_COLUMNS}) VALUES ({_PLACEHOLDERS})", *row
            )
            return circuit

        return await self._db.write(op)

    async def get_circuit(self, circuit_id: str) -> Circuit | None:
        async def read(conn: asyncpg.Connection) -> Circuit | None:
            found = await conn.fetchrow(
                f"SELECT {CIRCUIT_COLUMNS} FROM circuits WHERE id = $1", circuit_id
            )
            return None if found is None else circuit_from_row(found, _C)

        return await self._db.read(read)

    async def list_circuits(
        self,
        page: Page[str],
        *,
        site_id: str | None = None,
        parent_circuit_id: str | None = None,
    ) -> Paged[Circuit]:
        params: list[Any] = [page.starting_after]
        clauses = ["($1::text IS NULL OR id > $1)"]

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if site_id is not None:
            clauses.append(f"site_id = {param(site_id)}")
        if parent_circuit_id is not None:
            clauses.append(f"parent_circuit_id = {param(parent_circuit_id)}")
        sql = (
            f"SELECT {CIRCUIT_COLUMNS} FROM circuits WHERE {' AND '.join(clauses)}"
            f" ORDER BY id LIMIT {param(page.fetch)}"
        )

        async def read(conn: asyncpg.Connection) -> Paged[Circuit]:
            rows = await conn.fetch(sql, *params)
            return paged([circuit_from_row(row, _C) for row in rows], page)

        return await self._db.read(read)

    async def all_circuits(self) -> list[Circuit]:
        return list((await self._db.read(_circuits)).values())

    async def update_circuit(
        self, circuit_id: str, changes: CircuitChanges, at: datetime
    ) -> Circuit:
        async def op(conn: asyncpg.Connection) -> Circuit:
            await conn.execute(_LOCK_CIRCUITS)
            circuits = await _circuits(conn)
            current = circuits.get(circuit_id)
            if current is None:
                raise NotFound(f"circuit {circuit_id!r} not found")
            updated = dataclasses.replace(current, **changed_fields(changes), updated_at=at)
            if updated.site_id != current.site_id:
                await _check_site(conn, updated.site_id)
            circuits[circuit_id] = updated
            check_circuits(circuits, updated)
            await conn.execute(_UPDATE, *circuit_values(updated, _C)[1:], circuit_id)
            return updated

        return await self._db.write(op)

    async def delete_circuit(self, circuit_id: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            # No circuit may be placed under it between the count and the delete; and a charger
            # being attached to it (whose foreign-key check holds the row) is waited for, so
            # that the count sees it.
            await conn.execute(_LOCK_CIRCUITS)
            await conn.execute("SELECT 1 FROM circuits WHERE id = $1 FOR UPDATE", circuit_id)
            children = await conn.fetchval(
                "SELECT count(*) FROM circuits WHERE parent_circuit_id = $1", circuit_id
            )
            if children:
                raise Conflict(f"circuit {circuit_id!r} still has {children} circuit(s) below it")
            chargers = await conn.fetchval(
                "SELECT count(*) FROM circuit_members WHERE circuit_id = $1", circuit_id
            )
            if chargers:
                raise Conflict(f"circuit {circuit_id!r} still has {chargers} charge point(s)")
            deleted = await conn.execute("DELETE FROM circuits WHERE id = $1", circuit_id)
            if rows_affected(deleted) == 0:
                raise NotFound(f"circuit {circuit_id!r} not found")

        await self._db.write(op)

    # --- the chargers on a circuit -------------------------------------------------------------

    async def attach(self, circuit_id: str, cp_id: str, priority: float | None = None) -> Member:
        async def op(conn: asyncpg.Connection) -> Member:
            # FOR KEY SHARE: neither the circuit nor the charger can go before this commits.
            found = await conn.fetchval(
                "SELECT 1 FROM circuits WHERE id = $1 FOR KEY SHARE", circuit_id
            )
            if found is None:
                raise NotFound(f"circuit {circuit_id!r} not found")
            charger = await conn.fetchval(
                "SELECT id FROM charge_points WHERE id = $1 FOR KEY SHARE", cp_id
            )
            if charger is None:
                raise Invalid("chargePointId", f"charge point {cp_id!r} does not exist")
            for _ in range(_ATTACH_ATTEMPTS):
                inserted = await conn.fetchval(
                    "INSERT INTO circuit_members (circuit_id, charge_point_id, priority)"
                    " VALUES ($1, $2, $3) ON CONFLICT (charge_point_id) DO NOTHING"
                    " RETURNING circuit_id",
                    circuit_id,
                    charger,
                    1.0 if priority is None else priority,
                )
                if inserted is not None:
                    break
                on = await conn.fetchval(
                    "SELECT circuit_id FROM circuit_members WHERE charge_point_id = $1"
                    " FOR NO KEY UPDATE",
                    charger,
                )
                if on is None:
                    continue  # detached meanwhile: insert again
                if on != circuit_id:
                    raise Conflict(
                        f"charge point {cp_id!r} is on circuit {on!r}: detach it there first",
                        field="chargePointId",
                    )
                if priority is not None:
                    await conn.execute(
                        "UPDATE circuit_members SET priority = $1 WHERE charge_point_id = $2",
                        priority,
                        charger,
                    )
                break
            return await _member_on(conn, circuit_id, charger)

        return await self._db.write(op)

    async def detach(self, circuit_id: str, cp_id: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            deleted = await conn.execute(
                "DELETE FROM circuit_members WHERE circuit_id = $1 AND charge_point_id = $2",
                circuit_id,
                cp_id,
            )
            if rows_affected(deleted) == 0:
                raise NotFound(f"charge point {cp_id!r} is not on circuit {circuit_id!r}")

        await self._db.write(op)

    async def set_priority(
        self, circuit_id: str, cp_id: str, evse_id: int | None, priority: float
    ) -> Member:
        async def op(conn: asyncpg.Connection) -> Member:
            # The member's row, locked: a concurrent detach waits (or has already happened).
            charger = await conn.fetchval(
                "SELECT charge_point_id FROM circuit_members"
                " WHERE circuit_id = $1 AND charge_point_id = $2 FOR NO KEY UPDATE",
                circuit_id,
                cp_id,
            )
            if charger is None:
                raise NotFound(f"charge point {cp_id!r} is not on circuit {circuit_id!r}")
            if evse_id is None:
                await conn.execute(
                    "UPDATE circuit_members SET priority = $1 WHERE charge_point_id = $2",
                    priority,
                    charger,
                )
            else:
                await conn.execute(
                    "INSERT INTO circuit_member_evse_priorities (charge_point_id, evse_id,"
                    " priority) VALUES ($1, $2, $3) ON CONFLICT (charge_point_id, evse_id)"
                    " DO UPDATE SET priority = excluded.priority",
                    charger,
                    evse_id,
                    priority,
                )
            return await _member_on(conn, circuit_id, charger)

        return await self._db.write(op)

    async def get_member(self, cp_id: str) -> Member | None:
        found = await self._db.read(lambda conn: _members(conn, "m.charge_point_id = $1", cp_id))
        return found[0] if found else None

    async def list_members(self, circuit_id: str | None = None) -> list[Member]:
        if circuit_id is None:
            return await self._db.read(lambda conn: _members(conn, "true"))
        return await self._db.read(lambda conn: _members(conn, "m.circuit_id = $1", circuit_id))

    # --- sessions ------------------------------------------------------------------------------

    async def set_transaction_priority(
        self, transaction_pk: int, priority: float | None
    ) -> Transaction:
        async def op(conn: asyncpg.Connection) -> Transaction:
            # Only this column: the charger's writes (transaction_writes) never set it.
            row = await conn.fetchrow(
                "UPDATE transactions SET priority = $1 WHERE pk = $2"
                f" RETURNING {TRANSACTION_COLUMNS}",
                priority,
                transaction_pk,
            )
            if row is None:
                raise NotFound(f"transaction {transaction_pk} not found")
            return transaction(row)

        return await self._db.write(op)
