"""Circuits, pure: what a circuit is, how its lines are wired to its parent's, and which trees of
circuits are valid (API.md "Circuits and dynamic load management").

Phases are named from where one stands: a circuit's *own* lines are L1 (L2, L3), and its wiring
says which of its parent's lines each one is (a root's: which supply phase). Followed up to the
root, every line of every circuit (and of every EVSE on it) is one *supply* phase, the phase the
allocator accounts on: a single-phase car on an RST-wired EVSE loads the supply's L1.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csms.domain.errors import Invalid

__all__ = [
    "CONNECTED_PAIRS",
    "LINES",
    "MAX_CIRCUIT_DEPTH",
    "PHASE_ROTATIONS",
    "Circuit",
    "CircuitEvent",
    "CircuitEventKind",
    "CircuitMode",
    "CircuitPhases",
    "Member",
    "check_circuits",
    "circuit_supply_lines",
    "evse_supply_lines",
    "new_circuit_id",
    "own_lines",
    "subtree_circuit_ids",
]

LINES = ("L1", "L2", "L3")
PHASE_ROTATIONS = ("RST", "RTS", "SRT", "STR", "TRS", "TSR")
CONNECTED_PAIRS = ("L1_L2", "L2_L3", "L3_L1")
MAX_CIRCUIT_DEPTH = 16
_LETTER_LINE = {"R": "L1", "S": "L2", "T": "L3"}


class CircuitPhases(StrEnum):
    SINGLE = "single_phase"
    SPLIT = "split_phase"
    THREE = "three_phase"


class CircuitMode(StrEnum):
    DYNAMIC = "dynamic"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Circuit:
    id: str
    name: str
    phases: CircuitPhases
    max_current: float  # A per phase: the breaker's rating
    created_at: datetime
    updated_at: datetime
    site_id: str | None = None
    parent_circuit_id: str | None = None
    phase_rotation: str | None = None  # three phase: its L1 L2 L3 on the parent's (R S T)
    connected_phase: str | None = None  # single: L1|L2|L3; split: L1_L2|L2_L3|L3_L1
    max_voltage: float | None = None
    min_charge_point_current: float = 6.0
    set_session_limit_to_zero_on_idle: bool = False
    offline_reserved_current: float = 0.0
    mode: CircuitMode = CircuitMode.DYNAMIC


@dataclass(frozen=True, slots=True)
class Member:
    """A charger attached to a circuit (a charger is on at most one), with its priority and
    those of its EVSEs (a weight > 0: 1 equal, 2 twice the share of 1)."""

    circuit_id: str
    charge_point_id: str
    priority: float = 1.0
    evse_priorities: tuple[tuple[int, float], ...] = ()

    def priority_of(self, evse_id: int) -> float:
        for evse, priority in self.evse_priorities:
            if evse == evse_id:
                return priority
        return self.priority


class CircuitEventKind(StrEnum):
    CIRCUIT_CHANGED = "circuit_changed"  # created, changed or deleted
    MEMBERS_CHANGED = "members_changed"  # a charger attached (again) or detached
    CONSUMPTION = "consumption"  # the circuit's own meter reported
    PRIORITY_CHANGED = "priority_changed"  # a charger's, an EVSE's or a session's priority


@dataclass(frozen=True, slots=True)
class CircuitEvent:
    """What changed, for the load manager: it re-reads the store, except for a consumption
    reading, which is only carried here (A per line, the circuit's own L1 L2 L3)."""

    kind: CircuitEventKind
    circuit_id: str
    at: datetime
    reading: tuple[float, float, float] | None = None  # consumption only
    charge_point_id: str | None = None  # members_changed, priority_changed
    transaction_pk: int | None = None  # priority_changed


def new_circuit_id() -> str:
    return f"circuit_{secrets.token_hex(8)}"


def own_lines(phases: CircuitPhases) -> tuple[str, ...]:
    if phases is CircuitPhases.THREE:
        return LINES
    if phases is CircuitPhases.SPLIT:
        return LINES[:2]
    return LINES[:1]


def _upstream(
    phases: CircuitPhases, rotation: str | None, connected: str | None
) -> tuple[str, ...]:
    """The line above (the parent's, or the supply's) that each own line is wired to."""
    if phases is CircuitPhases.THREE:
        return tuple(_LETTER_LINE[letter] for letter in (rotation or "RST"))
    if phases is CircuitPhases.SPLIT:
        return tuple((connected or "L1_L2").split("_"))
    return (connected or "L1",)


def circuit_supply_lines(circuits: Mapping[str, Circuit], circuit_id: str) -> tuple[str, ...]:
    """The supply phase each of the circuit's own lines is (index 0: its L1)."""
    chain: list[Circuit] = []
    current: str | None = circuit_id
    while current is not None and len(chain) <= MAX_CIRCUIT_DEPTH:
        circuit = circuits[current]
        chain.append(circuit)
        current = circuit.parent_circuit_id
    # Walk down from the root: each level maps its own lines onto the level above's.
    supply = {line: line for line in LINES}
    for circuit in reversed(chain):
        above = _upstream(circuit.phases, circuit.phase_rotation, circuit.connected_phase)
        supply = {own: supply[up] for own, up in zip(own_lines(circuit.phases), above, strict=True)}
    return tuple(supply[line] for line in own_lines(circuit.phases))


def evse_supply_lines(
    circuit_lines: tuple[str, ...],
    evse_phases: int,
    phase_rotation: str | None,
    connected_phase: str | None,
    car_phases: int | None = None,
) -> tuple[str, ...]:
    """The supply phases a session loads: the car's phases (at most the EVSE's) on the EVSE's
    lines, through its wiring onto the circuit's lines. An EVSE wired to a line its circuit does
    not have, or with more phases than the circuit, loads the lines the circuit has."""
    own = {line: supply for line, supply in zip(LINES, circuit_lines, strict=False)}
    if evse_phases >= 3:
        wired = [own.get(_LETTER_LINE[letter]) for letter in (phase_rotation or "RST")]
    else:
        wired = [own.get(connected_phase or "L1")]
    lines = [line for line in wired if line is not None] or [circuit_lines[0]]
    used = min(car_phases or evse_phases, evse_phases, len(lines))
    return tuple(lines[:used])


def subtree_circuit_ids(circuits: Mapping[str, Circuit], root_id: str) -> set[str]:
    children: dict[str | None, list[str]] = {}
    for circuit in circuits.values():
        children.setdefault(circuit.parent_circuit_id, []).append(circuit.id)
    found = {root_id}
    pending = [root_id]
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def check_circuits(circuits: Mapping[str, Circuit], changed: Circuit) -> None:
    """Raise Invalid (naming the field) when ``changed``, already placed in ``circuits``, is not a
    valid circuit or breaks the tree: limits, wiring that does not fit its own phases or its
    parent's, an unknown parent, a cycle, nesting too deep; and when a circuit below it no
    longer fits it."""
    _check_own(changed)
    parent_id = changed.parent_circuit_id
    if parent_id is not None:
        if parent_id == changed.id:
            raise Invalid("parentCircuitId", "a circuit cannot be its own parent")
        if parent_id not in circuits:
            raise Invalid("parentCircuitId", f"circuit {parent_id!r} does not exist")
        depth = 1
        current: str | None = parent_id
        while current is not None:
            if current == changed.id:
                raise Invalid(
                    "parentCircuitId",
                    f"circuit {parent_id!r} is below {changed.id!r}: that would make a cycle",
                )
            depth += 1
            if depth > MAX_CIRCUIT_DEPTH:
                raise Invalid(
                    "parentCircuitId", f"circuits nest at most {MAX_CIRCUIT_DEPTH} levels deep"
                )
            current = circuits[current].parent_circuit_id if current in circuits else None
        _check_fits(changed, circuits[parent_id], "parentCircuitId")
    for circuit in circuits.values():
        if circuit.parent_circuit_id == changed.id:
            _check_fits(circuit, changed, "phases")


def _check_own(circuit: Circuit) -> None:
    if circuit.max_current <= 0:
        raise Invalid("maxCurrent", "maxCurrent must be above 0 A")
    if circuit.min_charge_point_current < 0:
        raise Invalid("minChargePointCurrent", "minChargePointCurrent cannot be negative")
    if not 0 <= circuit.offline_reserved_current <= circuit.max_current:
        raise Invalid(
            "offlineReservedCurrent", "offlineReservedCurrent must be between 0 and maxCurrent"
        )
    if circuit.phases is CircuitPhases.THREE:
        if circuit.connected_phase is not None:
            raise Invalid("connectedPhase", "a three-phase circuit is wired by phaseRotation")
        if circuit.phase_rotation is not None and circuit.phase_rotation not in PHASE_ROTATIONS:
            raise Invalid("phaseRotation", f"phaseRotation is one of {', '.join(PHASE_ROTATIONS)}")
        if circuit.parent_circuit_id is not None and circuit.phase_rotation is None:
            raise Invalid(
                "phaseRotation", "a nested three-phase circuit must name its phaseRotation"
            )
        return
    if circuit.phase_rotation is not None:
        raise Invalid("phaseRotation", "only a three-phase circuit has a phaseRotation")
    allowed = LINES if circuit.phases is CircuitPhases.SINGLE else CONNECTED_PAIRS
    if circuit.connected_phase is not None and circuit.connected_phase not in allowed:
        raise Invalid(
            "connectedPhase",
            f"a {circuit.phases.value} circuit's connectedPhase is one of {', '.join(allowed)}",
        )
    if circuit.parent_circuit_id is not None and circuit.connected_phase is None:
        raise Invalid(
            "connectedPhase",
            f"a nested {circuit.phases.value} circuit must name its connectedPhase",
        )


def _check_fits(child: Circuit, parent: Circuit, field: str) -> None:
    """The child's lines must be wired to lines its parent has."""
    have = set(own_lines(parent.phases))
    wanted = _upstream(child.phases, child.phase_rotation, child.connected_phase)
    missing = [line for line in wanted if line not in have]
    if missing:
        raise Invalid(
            field,
            f"circuit {child.id!r} ({child.phases.value}) is wired to {', '.join(missing)}, which "
            f"its parent {parent.id!r} ({parent.phases.value}) does not have",
        )
