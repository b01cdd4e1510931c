"""Rows of the circuit tables, shared by both backends: columns in one order, and the mapping to
and from domain records (with the backend's csms.store.asset_rows.Conversions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from csms.domain.circuits import Circuit, CircuitMode, CircuitPhases, Member
from csms.store.asset_rows import Conversions

__all__ = [
    "CIRCUIT_COLUMNS",
    "CIRCUIT_UPDATE_COLUMNS",
    "circuit_from_row",
    "circuit_values",
    "members_from_rows",
]

CIRCUIT_COLUMNS = (
    "id, name, site_id, parent_circuit_id, phases, phase_rotation, connected_phase, max_current, "
    "max_voltage, min_charge_point_current, set_session_limit_to_zero_on_idle, "
    "offline_reserved_current, mode, created_at, updated_at"
)
CIRCUIT_UPDATE_COLUMNS = tuple(c.strip() for c in CIRCUIT_COLUMNS.split(","))[1:]
"""What an update writes: every column but the id (created_at is written back unchanged)."""


def circuit_values(circuit: Circuit, c: Conversions) -> tuple[Any, ...]:
    """The values of CIRCUIT_COLUMNS."""
    return (
        circuit.id,
        circuit.name,
        circuit.site_id,
        circuit.parent_circuit_id,
        circuit.phases.value,
        circuit.phase_rotation,
        circuit.connected_phase,
        circuit.max_current,
        circuit.max_voltage,
        circuit.min_charge_point_current,
        circuit.set_session_limit_to_zero_on_idle,
        circuit.offline_reserved_current,
        circuit.mode.value,
        c.stamp(circuit.created_at),
        c.stamp(circuit.updated_at),
    )


def circuit_from_row(row: Sequence[Any], c: Conversions) -> Circuit:
    return Circuit(
        id=row[0],
        name=row[1],
        site_id=row[2],
        parent_circuit_id=row[3],
        phases=CircuitPhases(row[4]),
        phase_rotation=row[5],
        connected_phase=row[6],
        max_current=row[7],
        max_voltage=row[8],
        min_charge_point_current=row[9],
        set_session_limit_to_zero_on_idle=bool(row[10]),
        offline_reserved_current=row[11],
        mode=CircuitMode(row[12]),
        created_at=c.time(row[13]),
        updated_at=c.time(row[14]),
    )


def members_from_rows(
    members: Iterable[Sequence[Any]], evse_priorities: Iterable[Sequence[Any]]
) -> list[Member]:
    """``members``: (circuit_id, charge_point_id, priority) rows in the order to keep;
    ``evse_priorities``: (charge_point_id, evse_id, priority) rows in evse_id order."""
    by_charger: dict[str, list[tuple[int, float]]] = {}
    for cp_id, evse_id, priority in evse_priorities:
        by_charger.setdefault(str(cp_id).lower(), []).append((evse_id, priority))
    return [
        Member(circuit_id, cp_id, priority, tuple(by_charger.get(str(cp_id).lower(), ())))
        for circuit_id, cp_id, priority in members
    ]
