"""Circuits, the chargers on them and their priorities; a session's own priority.

SQLite has one writer: a write that checks the circuit tree sees every circuit as it is.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from typing import Any

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
from csms.store.rows import TRANSACTION_COLUMNS, transaction_from_row
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import CONVERSIONS

__all__ = ["SqliteCircuits"]

_C = CONVERSIONS
_PLACEHOLDERS = ", ".join("?" * len(CIRCUIT_COLUMNS.split(",")))
_UPDATE = (
    f"UPDATE circuits SET {', '.join(f'{c} = ?' for c in CIRCUIT_UPDATE_COLUMNS)} WHERE id = ?"
)
_MEMBER_COLUMNS = "m.circuit_id, m.charge_point_id, m.priority"


def _circuits(conn: sqlite3.Connection) -> dict[str, Circuit]:
    rows = conn.execute(f"SELECT {CIRCUIT_COLUMNS} FROM circuits ORDER BY id").fetchall()
    return {row[0]: circuit_from_row(row, _C) for row in rows}


def _check_site(conn: sqlite3.Connection, site_id: str | None) -> None:
    if site_id is not None and (
        conn.execute("SELECT 1 FROM sites WHERE id = ?", (site_id,)).fetchone() is None
    ):
        raise Invalid("siteId", f"site {site_id!r} does not exist")


def _members(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[Member]:
    """The members ``where`` (over ``circuit_members m``) picks, with their EVSE priorities."""
    members = conn.execute(
        f"SELECT {_MEMBER_COLUMNS} FROM circuit_members m WHERE {where}"
        " ORDER BY m.circuit_id, m.charge_point_id",
        params,
    ).fetchall()
    if not members:
        return []
    priorities = conn.execute(
        "SELECT e.charge_point_id, e.evse_id, e.priority FROM circuit_member_evse_priorities e"
        f" JOIN circuit_members m ON m.charge_point_id = e.charge_point_id WHERE {where}"
        " ORDER BY e.charge_point_id, e.evse_id",
        params,
    ).fetchall()
    return members_from_rows(members, priorities)


def _member_on(conn: sqlite3.Connection, circuit_id: str, cp_id: str) -> Member:
    found = _members(conn, "m.circuit_id = ? AND m.charge_point_id = ?", (circuit_id, cp_id))
    if not found:
        raise NotFound(f"charge point {cp_id!r} is not on circuit {circuit_id!r}")
    return found[0]


class SqliteCircuits:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    # --- circuits ------------------------------------------------------------------------------

    async def add_circuit(self, circuit: Circuit) -> Circuit:
        row = circuit_values(circuit, _C)

        def op(conn: sqlite3.Connection) -> Circuit:
            circuits = _circuits(conn)
            if circuit.id in circuits:
                raise Conflict(f"circuit {circuit.id!r} already exists", field="id")
            _check_site(conn, circuit.site_id)
            circuits[circuit.id] = circuit
            check_circuits(circuits, circuit)
            conn.execute(f"INSERT INTO circuits ({CIRCUIT_COLUMNS}) VALUES ({_PLACEHOLDERS})", row)
            return circuit

        return await self._db.write(op)

    async def get_circuit(self, circuit_id: str) -> Circuit | None:
        def read(conn: sqlite3.Connection) -> Circuit | None:
            found = conn.execute(
                f"SELECT {CIRCUIT_COLUMNS} FROM circuits WHERE id = ?", (circuit_id,)
            ).fetchone()
            return None if found is None else circuit_from_row(found, _C)

        return await self._db.read(read)

    async def list_circuits(
        self,
        page: Page[str],
        *,
        site_id: str | None = None,
        parent_circuit_id: str | None = None,
    ) -> Paged[Circuit]:
        clauses = ["(? IS NULL OR id > ?)"]
        params: list[Any] = [page.starting_after, page.starting_after]
        if site_id is not None:
            clauses.append("site_id = ?")
            params.append(site_id)
        if parent_circuit_id is not None:
            clauses.append("parent_circuit_id = ?")
            params.append(parent_circuit_id)
        sql = (
            f"SELECT {CIRCUIT_COLUMNS} FROM circuits WHERE {' AND '.join(clauses)}"
            " ORDER BY id LIMIT ?"
        )
        params.append(page.fetch)

        def read(conn: sqlite3.Connection) -> Paged[Circuit]:
            return paged([circuit_from_row(row, _C) for row in conn.execute(sql, params)], page)

        return await self._db.read(read)

    async def all_circuits(self) -> list[Circuit]:
        return list((await self._db.read(_circuits)).values())

    async def update_circuit(
        self, circuit_id: str, changes: CircuitChanges, at: datetime
    ) -> Circuit:
        def op(conn: sqlite3.Connection) -> Circuit:
            circuits = _circuits(conn)
            current = circuits.get(circuit_id)
            if current is None:
                raise NotFound(f"circuit {circuit_id!r} not found")
            updated = dataclasses.replace(current, **changed_fields(changes), updated_at=at)
            if updated.site_id != current.site_id:
                _check_site(conn, updated.site_id)
            circuits[circuit_id] = updated
            check_circuits(circuits, updated)
            conn.execute(_UPDATE, (*circuit_values(updated, _C)[1:], circuit_id))
            return updated

        return await self._db.write(op)

    async def delete_circuit(self, circuit_id: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            children = conn.execute(
                "SELECT count(*) FROM circuits WHERE parent_circuit_id = ?", (circuit_id,)
            ).fetchone()[0]
            if children:
                raise Conflict(f"circuit {circuit_id!r} still has {children} circuit(s) below it")
            chargers = conn.execute(
                "SELECT count(*) FROM circuit_members WHERE circuit_id = ?", (circuit_id,)
            ).fetchone()[0]
            if chargers:
                raise Conflict(f"circuit {circuit_id!r} still has {chargers} charge point(s)")
            if conn.execute("DELETE FROM circuits WHERE id = ?", (circuit_id,)).rowcount == 0:
                raise NotFound(f"circuit {circuit_id!r} not found")

        await self._db.write(op)

    # --- the chargers on a circuit -------------------------------------------------------------

    async def attach(self, circuit_id: str, cp_id: str, priority: float | None = None) -> Member:
        def op(conn: sqlite3.Connection) -> Member:
            if (
                conn.execute("SELECT 1 FROM circuits WHERE id = ?", (circuit_id,)).fetchone()
                is None
            ):
                raise NotFound(f"circuit {circuit_id!r} not found")
            charger = conn.execute("SELECT id FROM charge_points WHERE id = ?", (cp_id,)).fetchone()
            if charger is None:
                raise Invalid("chargePointId", f"charge point {cp_id!r} does not exist")
            on = conn.execute(
                "SELECT circuit_id FROM circuit_members WHERE charge_point_id = ?", (cp_id,)
            ).fetchone()
            if on is None:
                conn.execute(
                    "INSERT INTO circuit_members (circuit_id, charge_point_id, priority)"
                    " VALUES (?, ?, ?)",
                    (circuit_id, charger[0], 1.0 if priority is None else priority),
                )
            elif on[0] != circuit_id:
                raise Conflict(
                    f"charge point {cp_id!r} is on circuit {on[0]!r}: detach it there first",
                    field="chargePointId",
                )
            elif priority is not None:
                conn.execute(
                    "UPDATE circuit_members SET priority = ? WHERE charge_point_id = ?",
                    (priority, cp_id),
                )
            return _member_on(conn, circuit_id, cp_id)

        return await self._db.write(op)

    async def detach(self, circuit_id: str, cp_id: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            deleted = conn.execute(
                "DELETE FROM circuit_members WHERE circuit_id = ? AND charge_point_id = ?",
                (circuit_id, cp_id),
            ).rowcount
            if deleted == 0:
                raise NotFound(f"charge point {cp_id!r} is not on circuit {circuit_id!r}")

        await self._db.write(op)

    async def set_priority(
        self, circuit_id: str, cp_id: str, evse_id: int | None, priority: float
    ) -> Member:
        def op(conn: sqlite3.Connection) -> Member:
            member = _member_on(conn, circuit_id, cp_id)
            if evse_id is None:
                conn.execute(
                    "UPDATE circuit_members SET priority = ? WHERE charge_point_id = ?",
                    (priority, cp_id),
                )
            else:
                conn.execute(
                    "INSERT INTO circuit_member_evse_priorities (charge_point_id, evse_id,"
                    " priority) VALUES (?, ?, ?) ON CONFLICT (charge_point_id, evse_id)"
                    " DO UPDATE SET priority = excluded.priority",
                    (member.charge_point_id, evse_id, priority),
                )
            return _member_on(conn, circuit_id, cp_id)

        return await self._db.write(op)

    async def get_member(self, cp_id: str) -> Member | None:
        found = await self._db.read(lambda conn: _members(conn, "m.charge_point_id = ?", (cp_id,)))
        return found[0] if found else None

    async def list_members(self, circuit_id: str | None = None) -> list[Member]:
        if circuit_id is None:
            return await self._db.read(lambda conn: _members(conn, "1 = 1", ()))
        return await self._db.read(lambda conn: _members(conn, "m.circuit_id = ?", (circuit_id,)))

    # --- sessions ------------------------------------------------------------------------------

    async def set_transaction_priority(
        self, transaction_pk: int, priority: float | None
    ) -> Transaction:
        def op(conn: sqlite3.Connection) -> Transaction:
            conn.execute(
                "UPDATE transactions SET priority = ? WHERE pk = ?", (priority, transaction_pk)
            )
            row = conn.execute(
                f"SELECT {', '.join(TRANSACTION_COLUMNS)} FROM transactions WHERE pk = ?",
                (transaction_pk,),
            ).fetchone()
            if row is None:
                raise NotFound(f"transaction {transaction_pk} not found")
            return transaction_from_row(row, _C.time)

        return await self._db.write(op)
