"""The load allocator, pure: worked examples, then properties over random trees (hypothesis)."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from csms.domain.allocation import (
    EPSILON,
    Allocation,
    CircuitCapacity,
    HeldBack,
    SessionDemand,
    allocate,
)

THREE = ("L1", "L2", "L3")
TOLERANCE = 1e-4


def session(key: str, circuit: str = "c", **fields: object) -> SessionDemand:
    values: dict[str, object] = {"lines": THREE, "max_current": 32.0, **fields}
    return SessionDemand(key, circuit, **values)  # type: ignore[arg-type]


# --- worked examples ---------------------------------------------------------------------------


def test_equal_sessions_share_a_circuit_equally() -> None:
    result = allocate(
        [CircuitCapacity("c", None, 32.0, THREE)], [session("a"), session("b"), session("c2")]
    )
    assert all(abs(limit - 32 / 3) < TOLERANCE for limit in result.limits.values())
    assert abs(result.allocated["c"]["L1"] - 32.0) < TOLERANCE


def test_priorities_are_weights_and_caps_give_the_rest_to_others() -> None:
    result = allocate(
        [CircuitCapacity("c", None, 30.0, THREE)],
        [session("a", priority=2.0), session("b"), session("small", max_current=6.0)],
    )
    # small stops at its 6 A cap; a gets twice b's share of the remaining 24 A.
    assert result.limits == {"a": 16.0, "b": 8.0, "small": 6.0}


def test_a_new_session_is_queued_rather_than_pushing_one_below_its_minimum() -> None:
    circuits = [CircuitCapacity("c", None, 16.0, THREE)]
    before = allocate(circuits, [session("a", admitted=True), session("b", admitted=True)])
    assert before.limits == {"a": 8.0, "b": 8.0}
    after = allocate(
        circuits,
        [
            session("new", priority=5.0, arrival=9),
            session("a", admitted=True),
            session("b", admitted=True),
        ],
    )
    assert after.limits == {"new": 0.0, "a": 8.0, "b": 8.0}


def test_a_single_phase_car_leaves_the_other_phases_to_others() -> None:
    result = allocate(
        [CircuitCapacity("c", None, 20.0, THREE)],
        [session("one", lines=("L1",)), session("three")],
    )
    # On L1 both share 20 A; the three-phase car is held to 10 A on every phase by L1.
    assert result.limits == {"one": 10.0, "three": 10.0}


def test_a_parent_caps_its_children_and_held_back_current_is_left_free() -> None:
    circuits = [
        CircuitCapacity("main", None, 40.0, THREE),
        CircuitCapacity("left", "main", 32.0, THREE),
        CircuitCapacity("right", "main", 32.0, THREE),
    ]
    held = [HeldBack("right", {"L1": 10.0, "L2": 10.0, "L3": 10.0})]
    result = allocate(circuits, [session("l", "left"), session("r", "right")], held)
    # main has 30 A left after the 10 A held back on the right: 15 A each.
    assert result.limits == {"l": 15.0, "r": 15.0}
    assert result.held_back["main"] == {"L1": 10.0, "L2": 10.0, "L3": 10.0}


def test_idle_and_unusable_sessions_get_nothing_and_off_circuits_cap_nothing() -> None:
    result = allocate(
        [CircuitCapacity("c", None, 10.0, THREE, dynamic=False)],
        [session("idle", idle=True), session("tiny", max_current=5.0), session("free")],
    )
    assert result.limits == {"idle": 0.0, "tiny": 0.0, "free": 32.0}


def test_unused_current_is_lent_while_the_session_does_not_draw_it() -> None:
    circuits = [CircuitCapacity("c", None, 32.0, THREE)]
    lending = allocate(circuits, [session("slow", expected=8.0), session("fast")])
    assert lending.limits == {"slow": 8.0, "fast": 24.0}
    back = allocate(circuits, [session("slow"), session("fast")])
    assert back.limits == {"slow": 16.0, "fast": 16.0}


# --- properties --------------------------------------------------------------------------------

PRIORITIES = st.sampled_from([0.5, 1.0, 1.0, 2.0, 3.0])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[CircuitCapacity], list[SessionDemand], list[HeldBack]]:
    circuits: list[CircuitCapacity] = []
    for index in range(draw(st.integers(1, 6))):
        parent = draw(st.sampled_from([None, *[c.id for c in circuits]]))
        above = THREE if parent is None else next(c.lines for c in circuits if c.id == parent)
        lines = above if draw(st.booleans()) else (draw(st.sampled_from(above)),)
        circuits.append(
            CircuitCapacity(
                f"c{index}",
                parent,
                float(draw(st.integers(6, 80))),
                tuple(lines),
                dynamic=draw(st.integers(0, 9)) > 0,
            )
        )
    sessions: list[SessionDemand] = []
    for index in range(draw(st.integers(0, 12))):
        circuit = draw(st.sampled_from(circuits))
        lines = circuit.lines if draw(st.booleans()) else (draw(st.sampled_from(circuit.lines)),)
        expected = draw(st.none() | st.floats(0, 32))
        sessions.append(
            SessionDemand(
                f"s{index}",
                circuit.id,
                tuple(lines),
                max_current=float(draw(st.sampled_from([5, 6, 10, 16, 32]))),
                min_current=6.0,
                priority=draw(PRIORITIES),
                arrival=float(index),
                admitted=draw(st.booleans()),
                expected=expected,
                idle=draw(st.integers(0, 9)) == 0,
            )
        )
    held: list[HeldBack] = []
    for circuit in draw(st.lists(st.sampled_from(circuits), max_size=3)):
        amps = float(draw(st.integers(0, 40)))
        held.append(HeldBack(circuit.id, {line: amps for line in circuit.lines}))
    return circuits, sessions, held


Scenario = tuple[list[CircuitCapacity], list[SessionDemand], list[HeldBack]]


def _ancestors(circuits: list[CircuitCapacity], circuit_id: str) -> list[CircuitCapacity]:
    by_id = {c.id: c for c in circuits}
    chain = []
    current: str | None = circuit_id
    while current is not None:
        chain.append(by_id[current])
        current = by_id[current].parent_id
    return chain


def _loads(
    circuits: list[CircuitCapacity], sessions: list[SessionDemand], result: Allocation
) -> dict[tuple[str, str], float]:
    loads: dict[tuple[str, str], float] = {}
    for s in sessions:
        for circuit in _ancestors(circuits, s.circuit_id):
            for line in s.lines:
                loads[(circuit.id, line)] = (
                    loads.get((circuit.id, line), 0.0) + result.limits[s.key]
                )
    return loads


def _room(circuits: list[CircuitCapacity], held: list[HeldBack]) -> dict[tuple[str, str], float]:
    room = {(c.id, line): c.max_current for c in circuits if c.dynamic for line in c.lines}
    for hold in held:
        for circuit in _ancestors(circuits, hold.circuit_id):
            for line, amps in hold.per_line.items():
                if (circuit.id, line) in room:
                    room[(circuit.id, line)] -= amps
    return {k: max(0.0, v) for k, v in room.items()}


def _constraints(circuits: list[CircuitCapacity], s: SessionDemand) -> list[tuple[str, str]]:
    return [
        (c.id, line) for c in _ancestors(circuits, s.circuit_id) if c.dynamic for line in s.lines
    ]


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_the_invariant_and_zero_or_at_least_the_minimum(scenario: Scenario) -> None:
    circuits, sessions, held = scenario
    result = allocate(circuits, sessions, held)
    room = _room(circuits, held)
    for key, load in _loads(circuits, sessions, result).items():
        if key in room:
            assert load <= room[key] + TOLERANCE, (key, load, room[key])
    for s in sessions:
        limit = result.limits[s.key]
        assert limit == 0.0 or s.min_current - EPSILON <= limit <= s.cap + EPSILON, s
        if s.idle:
            assert limit == 0.0


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_no_current_is_left_idle_that_a_session_could_use(scenario: Scenario) -> None:
    circuits, sessions, held = scenario
    result = allocate(circuits, sessions, held)
    room = _room(circuits, held)
    loads = _loads(circuits, sessions, result)
    for s in sessions:
        limit, keys = result.limits[s.key], _constraints(circuits, s)
        if limit > 0 and limit < s.cap - TOLERANCE:
            # Below its cap: something it draws on is full.
            assert any(loads.get(k, 0.0) >= room[k] - TOLERANCE for k in keys), s
        if limit == 0 and not s.idle and s.cap >= s.min_current:
            # Queued: its minimum does not fit somewhere.
            assert any(room[k] - loads.get(k, 0.0) < s.min_current - TOLERANCE for k in keys), s


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_equal_weights_get_equal_shares_and_weights_set_the_ratio(scenario: Scenario) -> None:
    circuits, sessions, held = scenario
    result = allocate(circuits, sessions, held)
    rising = [
        s for s in sessions if s.min_current + TOLERANCE < result.limits[s.key] < s.cap - TOLERANCE
    ]
    for a in rising:
        for b in rising:
            if set(_constraints(circuits, a)) == set(_constraints(circuits, b)):
                ratio = result.limits[a.key] / result.limits[b.key]
                assert abs(ratio - a.priority / b.priority) < 1e-3, (a, b, result.limits)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_an_admitted_session_is_never_pushed_below_its_minimum_by_a_newcomer(
    scenario: Scenario, data: st.DataObject
) -> None:
    circuits, sessions, held = scenario
    before = allocate(circuits, sessions, held)
    admitted = [
        dataclasses.replace(s, admitted=before.limits[s.key] > 0, arrival=float(i))
        for i, s in enumerate(sessions)
    ]
    circuit = data.draw(st.sampled_from(circuits))
    newcomer = SessionDemand(
        "new",
        circuit.id,
        circuit.lines,
        max_current=32.0,
        priority=data.draw(PRIORITIES),
        arrival=100.0,
    )
    after = allocate(circuits, [*admitted, newcomer], held)
    for s in admitted:
        if s.admitted:
            assert after.limits[s.key] >= s.min_current - EPSILON, (s, after.limits)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_the_input(
    scenario: Scenario, shuffler: random.Random
) -> None:
    circuits, sessions, held = scenario
    first = allocate(circuits, sessions, held)
    shuffled = list(sessions)
    shuffler.shuffle(shuffled)
    assert allocate(list(reversed(circuits)), shuffled, held).limits == first.limits
    assert allocate(circuits, sessions, held) == first
