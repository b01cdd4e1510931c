"""The load allocator, pure: how much current each session on a tree of circuits may draw.

No I/O and no clock: the controller (csms.services.loadmanagement) gathers the circuits, the
sessions and what must be held back, calls ``allocate``, and turns the limits into charging
profiles. All currents are amperes per phase, on supply phases (csms.domain.circuits).

The rule (API.md "Circuits and dynamic load management"):
- **The invariant**: on every supply phase of every dynamic circuit, the limits of the sessions
  below it plus what is held back below it (uncontrolled load, offline and unmanaged chargers)
  never exceed its ``max_current``; through the tree, nor any ancestor's.
- **0 or at least the minimum**: a session gets 0 (queued) or at least ``min_current`` (IEC
  61851: below 6 A a car stops), never a value in between.
- **Admission** in order: sessions admitted before first, then by priority (higher first), then
  by arrival; each is admitted when its minimum still fits on every phase of every circuit above
  it. So a new session is queued rather than pushing an admitted one below its minimum.
- **Sharing** among the admitted: weighted max-min by progressive filling. A common level ``t``
  rises; each session draws ``clamp(priority * t, min_current, cap)``; when a phase of a circuit
  is full, the sessions on it stop rising; the others go on. ``cap`` is the EVSE's (or car's)
  maximum, lowered to what the session is expected to draw when it leaves current unused (the
  controller decides when, and damps the taking back): what it leaves is shared by the others.

The filling is a sweep over the events of one rising level: a session's allocation starts to
rise (at ``min / priority``) or reaches its cap (at ``cap / priority``), or a phase of a circuit
becomes full. Each constraint keeps its total and its slope, so an event costs the constraints
of one session, and the whole is O(sessions x depth x phases x log).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EPSILON",
    "Allocation",
    "CircuitCapacity",
    "HeldBack",
    "SessionDemand",
    "allocate",
]

EPSILON = 1e-6
"""Amperes below which two currents are the same (float sums of many sessions)."""


@dataclass(frozen=True, slots=True)
class CircuitCapacity:
    id: str
    parent_id: str | None
    max_current: float
    lines: tuple[str, ...]  # the supply phases it carries
    dynamic: bool = True  # mode "off": it caps nothing itself (its dynamic ancestors still do)


@dataclass(frozen=True, slots=True)
class SessionDemand:
    key: str
    circuit_id: str
    lines: tuple[str, ...]  # the supply phases it loads
    max_current: float  # the EVSE's (or car's) maximum
    min_current: float = 6.0
    priority: float = 1.0
    arrival: float = 0.0  # earlier first among equal priorities
    admitted: bool = False  # it had current in the allocation before this one
    expected: float | None = None  # what it is expected to draw when it leaves current unused
    idle: bool = False  # suspended by the car on a circuit that sets idle sessions to zero

    @property
    def cap(self) -> float:
        cap = self.max_current
        if self.expected is not None:
            cap = min(cap, max(self.expected, self.min_current))
        return cap


@dataclass(frozen=True, slots=True)
class HeldBack:
    """Current the allocator must leave free below a circuit, per supply phase."""

    circuit_id: str
    per_line: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Allocation:
    limits: dict[str, float]  # session key -> A per phase (0: queued, idle or not admitted)
    allocated: dict[str, dict[str, float]] = field(default_factory=dict)  # circuit -> line -> A
    held_back: dict[str, dict[str, float]] = field(default_factory=dict)  # circuit -> line -> A


def allocate(
    circuits: Iterable[CircuitCapacity],
    sessions: Sequence[SessionDemand],
    held_back: Iterable[HeldBack] = (),
) -> Allocation:
    by_id = {c.id: c for c in circuits}
    chains = {circuit_id: _chain(by_id, circuit_id) for circuit_id in by_id}

    # One constraint per line of each dynamic circuit, numbered; room once what is held back
    # below it is taken out.
    numbers: dict[tuple[str, str], int] = {}
    room: list[float] = []
    for circuit in by_id.values():
        if circuit.dynamic:
            for line in circuit.lines:
                numbers[(circuit.id, line)] = len(room)
                room.append(circuit.max_current)
    held: dict[str, dict[str, float]] = {c: {line: 0.0 for line in by_id[c].lines} for c in by_id}
    for hold in held_back:
        for circuit_id in chains.get(hold.circuit_id, ()):
            for line, amps in hold.per_line.items():
                number = numbers.get((circuit_id, line))
                if number is not None:
                    room[number] -= amps
                if line in held[circuit_id]:
                    held[circuit_id][line] += amps
    room = [max(0.0, amps) for amps in room]

    # The constraints a session draws on, shared by the sessions of one circuit and lines.
    known: dict[tuple[str, tuple[str, ...]], list[int]] = {}

    def constraints_of(session: SessionDemand) -> list[int]:
        key = (session.circuit_id, session.lines)
        found = known.get(key)
        if found is None:
            found = known[key] = [
                numbers[(circuit_id, line)]
                for circuit_id in chains[session.circuit_id]
                for line in session.lines
                if (circuit_id, line) in numbers
            ]
        return found

    # Admission, at the minimum.
    free = list(room)
    admitted: list[tuple[SessionDemand, list[int], float]] = []
    order = sorted(sessions, key=lambda s: (not s.admitted, -s.priority, s.arrival, s.key))
    limits = dict.fromkeys([s.key for s in sessions], 0.0)
    for session in order:
        minimum, cap = session.min_current, session.cap
        if session.idle or cap < minimum or session.circuit_id not in by_id:
            continue
        keys = constraints_of(session)
        needed = minimum - EPSILON
        for number in keys:
            if free[number] < needed:
                break
        else:
            for number in keys:
                free[number] -= minimum
            admitted.append((session, keys, cap))

    _fill(admitted, room, limits)

    # What is allocated below each circuit, per line: summed per circuit and lines first.
    bucketed: dict[tuple[str, tuple[str, ...]], float] = {}
    for session, _, _ in admitted:
        bucket = (session.circuit_id, session.lines)
        bucketed[bucket] = bucketed.get(bucket, 0.0) + limits[session.key]
    allocated = {c: dict.fromkeys(by_id[c].lines, 0.0) for c in by_id}
    for (circuit_id, lines), amps in bucketed.items():
        for above in chains[circuit_id]:
            per_line = allocated[above]
            for line in lines:
                if line in per_line:
                    per_line[line] += amps
    return Allocation(limits, allocated, held)


def _chain(circuits: Mapping[str, CircuitCapacity], circuit_id: str) -> tuple[str, ...]:
    """The circuit and its ancestors (a cycle, which validation prevents, is cut)."""
    chain: list[str] = []
    current: str | None = circuit_id
    while current is not None and current in circuits and current not in chain:
        chain.append(current)
        current = circuits[current].parent_id
    return tuple(chain)


def _fill(
    admitted: list[tuple[SessionDemand, list[int], float]],
    room: list[float],
    limits: dict[str, float],
) -> None:
    """Progressive filling of the admitted sessions ``(session, constraints, cap)``, from their
    minimums up.

    Each constraint keeps its total at level ``at`` and its slope (the weights of the sessions
    rising on it). Sessions that share their constraints (one circuit, one set of phases) form
    a *bucket*: what changes at one level is summed per bucket and applied to the bucket's
    constraints once, and each constraint touched is rescheduled once. So a circuit becoming
    full, or many sessions starting at one level (6 A over a few priorities), costs an update
    per bucket rather than per session. Plain lists indexed by number, loops written out: this
    runs on every change of every session of the fleet."""
    size = len(room)
    total = [0.0] * size
    slope = [0.0] * size
    at = [0.0] * size
    version = [0] * size
    full = [False] * size
    dirty = [False] * size
    buckets_on: list[list[int]] = [[] for _ in range(size)]  # constraint -> its buckets

    count = len(admitted)
    weights = [session.priority for session, _, _ in admitted]
    mins = [session.min_current for session, _, _ in admitted]
    caps = [cap for _, _, cap in admitted]
    # Buckets: the sessions whose constraint lists are the same list (allocate shares them).
    bucket_keys: list[list[int]] = []
    bucket_sessions: list[list[int]] = []
    bucket_of = [0] * count
    numbering: dict[int, int] = {}
    for index, (_, keys, _) in enumerate(admitted):
        bucket = numbering.get(id(keys))
        if bucket is None:
            bucket = numbering[id(keys)] = len(bucket_keys)
            bucket_keys.append(keys)
            bucket_sessions.append([])
            for number in keys:
                buckets_on[number].append(bucket)
        bucket_sessions[bucket].append(index)
        bucket_of[index] = bucket
    for bucket, keys in enumerate(bucket_keys):
        floor = sum(mins[index] for index in bucket_sessions[bucket])
        for number in keys:
            total[number] += floor
    change = [0.0] * len(bucket_keys)  # slope change of each bucket at the current level
    changed: list[int] = []

    frozen = [False] * count
    rising = [False] * count
    level_of = [math.inf] * count  # the level at which a session stopped rising
    # Session events in level order: (level, kind, index); kind 0 starts rising, 1 reaches cap.
    events: list[tuple[float, int, int]] = []
    for index in range(count):
        start, stop = mins[index] / weights[index], caps[index] / weights[index]
        if stop <= start:
            frozen[index] = True  # its minimum is its cap
            level_of[index] = start
            continue
        events.append((start, 0, index))
        events.append((stop, 1, index))
    events.sort()
    heap: list[tuple[float, int, int]] = []
    touched: list[int] = []

    def shift(index: int, delta: float) -> None:
        bucket = bucket_of[index]
        if change[bucket] == 0.0:
            changed.append(bucket)
        change[bucket] += delta

    position, total_events = 0, len(events)
    while True:
        while heap and (full[heap[0][2]] or heap[0][1] != version[heap[0][2]]):
            heapq.heappop(heap)
        next_full = heap[0][0] if heap else math.inf
        next_session = events[position][0] if position < total_events else math.inf
        level = next_full if next_full < next_session else next_session
        if level == math.inf:
            break
        # Sessions that start rising or reach their cap at this level, then constraints that
        # are full at it: each changes the slope of its bucket's constraints.
        while position < total_events and events[position][0] == level:
            _, kind, index = events[position]
            position += 1
            if frozen[index]:
                continue
            if kind == 0:
                rising[index] = True
                shift(index, weights[index])
            else:
                frozen[index] = True
                level_of[index] = level
                if rising[index]:
                    rising[index] = False
                    shift(index, -weights[index])
        while heap and heap[0][0] <= level:
            _, seen, number = heapq.heappop(heap)
            if full[number] or seen != version[number]:
                continue
            full[number] = True
            for bucket in buckets_on[number]:
                for index in bucket_sessions[bucket]:
                    if not frozen[index]:
                        frozen[index] = True
                        level_of[index] = level
                        if rising[index]:
                            rising[index] = False
                            shift(index, -weights[index])
        for bucket in changed:
            delta = change[bucket]
            change[bucket] = 0.0
            if delta == 0.0:
                continue
            for number in bucket_keys[bucket]:
                total[number] += slope[number] * (level - at[number])
                at[number] = level
                slope[number] += delta
                if not dirty[number]:
                    dirty[number] = True
                    touched.append(number)
        changed.clear()
        for number in touched:
            dirty[number] = False
            if full[number]:
                continue
            version[number] += 1
            rate = slope[number]
            if rate > 1e-12:
                left = room[number] - total[number]
                when = level + (left / rate if left > 0 else 0.0)
                heapq.heappush(heap, (when, version[number], number))
        touched.clear()

    for index in range(count):
        limits[admitted[index][0].key] = min(
            caps[index], max(mins[index], weights[index] * level_of[index])
        )
