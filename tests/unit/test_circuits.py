"""Circuits, pure: which trees are valid (every refusal names its field), and how lines are
wired from a circuit (and an EVSE on it) up to the supply."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from csms.domain.circuits import (
    MAX_CIRCUIT_DEPTH,
    Circuit,
    CircuitPhases,
    Member,
    check_circuits,
    circuit_supply_lines,
    evse_supply_lines,
    new_circuit_id,
    subtree_circuit_ids,
)
from csms.domain.errors import Invalid

T = datetime(2026, 1, 1, tzinfo=UTC)
THREE, SPLIT, SINGLE = CircuitPhases.THREE, CircuitPhases.SPLIT, CircuitPhases.SINGLE


def circuit(
    circuit_id: str,
    phases: CircuitPhases = THREE,
    parent: str | None = None,
    *,
    rotation: str | None = None,
    connected: str | None = None,
    max_current: float = 32.0,
    **fields: Any,
) -> Circuit:
    return Circuit(
        circuit_id,
        circuit_id.upper(),
        phases,
        max_current,
        T,
        T,
        parent_circuit_id=parent,
        phase_rotation=rotation,
        connected_phase=connected,
        **fields,
    )


# A main three-phase board; below it a three-phase sub-board wired STR, a split-phase one on
# its L2 and L3 (with a single-phase circuit on the split's L2), and a single-phase one on L3;
# a single-phase root of its own.
TREE = [
    circuit("main", max_current=100),
    circuit("sub", THREE, "main", rotation="STR"),
    circuit("split", SPLIT, "main", connected="L2_L3"),
    circuit("split-lamp", SINGLE, "split", connected="L2"),
    circuit("lamp", SINGLE, "main", connected="L3"),
    circuit("shed", SINGLE),
]


def placed(changed: Circuit, tree: list[Circuit] = TREE) -> dict[str, Circuit]:
    circuits = {c.id: c for c in tree}
    circuits[changed.id] = changed
    return circuits


def check(changed: Circuit, tree: list[Circuit] = TREE) -> None:
    check_circuits(placed(changed, tree), changed)


@pytest.mark.parametrize(
    "changed",
    [
        circuit("root"),  # a root needs no wiring: RST, the supply as it comes
        circuit("root", rotation="TRS"),  # a root may name its rotation on the supply
        circuit("root", SINGLE),
        circuit("root", SINGLE, connected="L2"),
        circuit("root", SPLIT),
        circuit("child", THREE, "main", rotation="RST"),
        circuit("child", THREE, "sub", rotation="TSR"),
        circuit("child", SPLIT, "main", connected="L3_L1"),
        circuit("child", SINGLE, "split", connected="L2"),  # split has L1 and L2
        circuit("child", SINGLE, "lamp", connected="L1"),
        circuit("child", THREE, "main", rotation="RST", max_current=250),  # above its parent's
        circuit("child", THREE, "main", rotation="RST", offline_reserved_current=32),
        circuit("child", THREE, "main", rotation="RST", min_charge_point_current=0),
        circuit("main", max_current=16),  # the children still fit a smaller main
    ],
    ids=lambda c: f"{c.id}-{c.phases.value}-{c.phase_rotation or c.connected_phase}",
)
def test_valid_trees(changed: Circuit) -> None:
    check(changed)


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        (circuit("x", max_current=0), "maxCurrent"),
        (circuit("x", max_current=-1), "maxCurrent"),
        (circuit("x", min_charge_point_current=-0.1), "minChargePointCurrent"),
        (circuit("x", offline_reserved_current=-1), "offlineReservedCurrent"),
        (circuit("x", offline_reserved_current=33), "offlineReservedCurrent"),
        (circuit("x", connected="L1"), "connectedPhase"),  # three phase: by rotation
        (circuit("x", rotation="RRS"), "phaseRotation"),
        (circuit("x", rotation="rst"), "phaseRotation"),
        (circuit("x", THREE, "main"), "phaseRotation"),  # nested: must name it
        (circuit("x", SINGLE, rotation="RST"), "phaseRotation"),
        (circuit("x", SPLIT, rotation="RST"), "phaseRotation"),
        (circuit("x", SINGLE, connected="L1_L2"), "connectedPhase"),
        (circuit("x", SPLIT, connected="L1"), "connectedPhase"),
        (circuit("x", SINGLE, connected="L4"), "connectedPhase"),
        (circuit("x", SINGLE, "main"), "connectedPhase"),  # nested: must name it
        (circuit("x", SPLIT, "main"), "connectedPhase"),
        (circuit("x", THREE, "x", rotation="RST"), "parentCircuitId"),  # its own parent
        (circuit("x", THREE, "ghost", rotation="RST"), "parentCircuitId"),
        (circuit("main", THREE, "sub", rotation="RST"), "parentCircuitId"),  # a cycle
        # Wiring that does not fit the parent's lines:
        (circuit("x", THREE, "shed", rotation="RST"), "parentCircuitId"),  # 3 lines on 1
        (circuit("x", THREE, "split", rotation="RST"), "parentCircuitId"),  # no L3 on split
        (circuit("x", SINGLE, "split", connected="L3"), "parentCircuitId"),
        (circuit("x", SPLIT, "lamp", connected="L1_L2"), "parentCircuitId"),
        (circuit("x", SINGLE, "shed", connected="L2"), "parentCircuitId"),
        # A parent changed so that its children no longer fit: named by what changed.
        (circuit("main", SINGLE, max_current=100), "phases"),
        (circuit("split", SINGLE, "main", connected="L2"), "phases"),  # split-lamp is on L2
    ],
    ids=lambda value: value if isinstance(value, str) else f"{value.id}",
)
def test_invalid_trees_name_the_field(changed: Circuit, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        check(changed)
    assert caught.value.field == field, str(caught.value)


def test_nesting_is_bounded() -> None:
    chain = [circuit("c0")]
    for level in range(1, MAX_CIRCUIT_DEPTH):
        chain.append(circuit(f"c{level}", THREE, f"c{level - 1}", rotation="RST"))
    check(chain[-1], chain)  # MAX_CIRCUIT_DEPTH levels: fine
    deeper = circuit("deep", THREE, chain[-1].id, rotation="RST")
    with pytest.raises(Invalid) as caught:
        check(deeper, chain)
    assert caught.value.field == "parentCircuitId" and "levels" in str(caught.value)


def test_subtree_and_ids() -> None:
    below = circuit("deeper", SINGLE, "sub", connected="L1")
    expected = {"main", "sub", "split", "split-lamp", "lamp", "deeper"}
    assert subtree_circuit_ids(placed(below), "main") == expected
    assert subtree_circuit_ids(placed(below), "shed") == {"shed"}
    first, second = new_circuit_id(), new_circuit_id()
    assert first.startswith("circuit_") and len(first) == len("circuit_") + 16
    assert first != second


# --- wiring ------------------------------------------------------------------------------------

TREE_WIRED = {
    c.id: c
    for c in [
        *TREE,
        circuit("sub-lamp", SINGLE, "sub", connected="L1"),
        circuit("rotated", rotation="TRS"),
        circuit("rotated-sub", THREE, "rotated", rotation="STR"),
        circuit("rotated-tsr", THREE, "rotated", rotation="TSR"),
    ]
}


@pytest.mark.parametrize(
    ("circuit_id", "lines"),
    [
        ("main", ("L1", "L2", "L3")),
        ("sub", ("L2", "L3", "L1")),  # STR: its L1 is the supply's S, L2
        ("split", ("L2", "L3")),
        ("lamp", ("L3",)),
        ("shed", ("L1",)),  # a single-phase root with no connectedPhase: L1
        ("sub-lamp", ("L2",)),  # the sub-board's L1, which is the supply's L2
        ("split-lamp", ("L3",)),  # the split board's L2, which is the supply's L3
        ("rotated", ("L3", "L1", "L2")),  # a root wired TRS on the supply
        ("rotated-sub", ("L1", "L2", "L3")),  # STR on a TRS board: back to the supply's order
        ("rotated-tsr", ("L2", "L1", "L3")),  # T S R of (L3, L1, L2)
    ],
)
def test_circuit_supply_lines(circuit_id: str, lines: tuple[str, ...]) -> None:
    assert circuit_supply_lines(TREE_WIRED, circuit_id) == lines


@pytest.mark.parametrize(
    ("circuit_lines", "evse_phases", "rotation", "connected", "car_phases", "expected"),
    [
        # A single-phase car on an RST-wired EVSE loads L1, of the circuit and so of the supply.
        (("L1", "L2", "L3"), 3, "RST", None, 1, ("L1",)),
        (("L1", "L2", "L3"), 3, None, None, None, ("L1", "L2", "L3")),  # unset: RST, all phases
        (("L1", "L2", "L3"), 3, "TSR", None, 1, ("L3",)),  # its L1 on the circuit's L3
        (("L1", "L2", "L3"), 3, "STR", None, 2, ("L2", "L3")),
        (("L2", "L3", "L1"), 3, "RST", None, 3, ("L2", "L3", "L1")),  # on the STR sub-board
        (("L2", "L3", "L1"), 3, "RST", None, 1, ("L2",)),
        (("L1", "L2", "L3"), 1, None, "L2", None, ("L2",)),  # a single-phase EVSE on L2
        (("L2", "L3", "L1"), 1, None, "L3", 3, ("L1",)),  # at most the EVSE's one phase
        (("L2",), 3, "RST", None, 3, ("L2",)),  # three phases on a one-line circuit: that line
        (("L1",), 1, None, "L3", None, ("L1",)),  # wired to a line it lacks: the one it has
        (("L2", "L3"), 3, "TRS", None, 3, ("L2", "L3")),  # split circuit: T is missing
    ],
)
def test_evse_supply_lines(
    circuit_lines: tuple[str, ...],
    evse_phases: int,
    rotation: str | None,
    connected: str | None,
    car_phases: int | None,
    expected: tuple[str, ...],
) -> None:
    assert (
        evse_supply_lines(circuit_lines, evse_phases, rotation, connected, car_phases) == expected
    )


def test_member_priority_of_an_evse_overrides_the_chargers() -> None:
    member = Member("main", "CP-1", 2.0, ((2, 0.5),))
    assert member.priority_of(1) == 2.0 and member.priority_of(2) == 0.5
    assert dataclasses.replace(member, evse_priorities=()).priority_of(2) == 2.0
