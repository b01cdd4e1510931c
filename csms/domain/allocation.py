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
becomes full. The sessions of one circuit and one set of phases (a bucket) share their
constraints and stop rising together, so the sweep moves buckets, not sessions; each constraint
keeps its total and its slope, and the whole is O(sessions x log + events x depth x phases).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

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

_FULL = EPSILON
"""Amperes left below which a constraint is full (the float error of its fill level)."""


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

    # Buckets: the sessions of one circuit and one set of lines, which draw on the same
    # constraints (the lines of the circuit and of its dynamic ancestors).
    buckets = _Buckets(chains, numbers)
    numbering = buckets.numbering
    # Admitted before first, then by priority (higher first), arrival, key: stable sorts from the
    # last key to the first (no key tuple per session).
    order = sorted(sessions, key=attrgetter("key"))
    order.sort(key=attrgetter("arrival"))
    order.sort(key=attrgetter("priority"), reverse=True)
    order.sort(key=attrgetter("admitted"), reverse=True)
    # Parallel lists rather than a tuple per session: fewer objects for the garbage collector
    # to count and walk (it ran in a quarter of the time otherwise).
    candidates: list[SessionDemand] = []
    bucket_of: list[int] = []
    caps: list[float] = []
    for session in order:
        cap = session.cap
        if session.idle or cap < session.min_current or session.circuit_id not in by_id:
            continue
        bucket = numbering.get((session.circuit_id, session.lines))
        if bucket is None:
            bucket = buckets.of(session.circuit_id, session.lines)
        buckets.minimums[bucket] += session.min_current
        candidates.append(session)
        bucket_of.append(bucket)
        caps.append(cap)

    # Admission, at the minimum, in order. A constraint that holds the minimums of all the
    # candidates on it refuses none of them, whatever the order; so only the sessions on a
    # *tight* constraint are checked one by one, and only there can they fail.
    wanted = [0.0] * len(room)
    for bucket, keys in enumerate(buckets.keys):
        for number in keys:
            wanted[number] += buckets.minimums[bucket]
    tight = [wanted[number] > room[number] - EPSILON for number in range(len(room))]
    checked = [any(tight[number] for number in keys) for keys in buckets.keys]
    free = list(room)
    admitted: list[int] = []  # indices into the candidates
    for index, session in enumerate(candidates):
        bucket = bucket_of[index]
        if checked[bucket]:
            minimum = session.min_current
            keys = buckets.keys[bucket]
            needed = minimum - EPSILON
            if any(free[number] < needed for number in keys):
                continue
            for number in keys:
                free[number] -= minimum
        admitted.append(index)

    limits = dict.fromkeys([s.key for s in sessions], 0.0)
    totals = _fill(
        [candidates[i] for i in admitted],
        [bucket_of[i] for i in admitted],
        [caps[i] for i in admitted],
        buckets.keys,
        room,
        limits,
    )

    # What is allocated below each circuit, per line, from the buckets' totals.
    allocated = {c: dict.fromkeys(by_id[c].lines, 0.0) for c in by_id}
    for (circuit_id, lines), bucket in buckets.numbering.items():
        amps = totals[bucket]
        for above in chains[circuit_id]:
            per_line = allocated[above]
            for line in lines:
                if line in per_line:
                    per_line[line] += amps
    return Allocation(limits, allocated, held)


class _Buckets:
    """Bucket numbers by (circuit, lines), each with its constraint numbers and the sum of its
    candidates' minimums."""

    __slots__ = ("_chains", "_numbers", "keys", "minimums", "numbering")

    def __init__(
        self, chains: Mapping[str, tuple[str, ...]], numbers: Mapping[tuple[str, str], int]
    ) -> None:
        self._chains, self._numbers = chains, numbers
        self.numbering: dict[tuple[str, tuple[str, ...]], int] = {}
        self.keys: list[list[int]] = []
        self.minimums: list[float] = []

    def of(self, circuit_id: str, lines: tuple[str, ...]) -> int:
        found = self.numbering.get((circuit_id, lines))
        if found is None:
            found = self.numbering[(circuit_id, lines)] = len(self.keys)
            self.keys.append(
                [
                    self._numbers[(above, line)]
                    for above in self._chains[circuit_id]
                    for line in lines
                    if (above, line) in self._numbers
                ]
            )
            self.minimums.append(0.0)
        return found


def _chain(circuits: Mapping[str, CircuitCapacity], circuit_id: str) -> tuple[str, ...]:
    """The circuit and its ancestors (a cycle, which validation prevents, is cut)."""
    chain: list[str] = []
    current: str | None = circuit_id
    while current is not None and current in circuits and current not in chain:
        chain.append(current)
        current = circuits[current].parent_id
    return tuple(chain)


def _fill(
    sessions: list[SessionDemand],
    bucket_of: list[int],
    caps: list[float],
    bucket_keys: list[list[int]],
    room: list[float],
    limits: dict[str, float],
) -> list[float]:
    """Progressive filling of the admitted sessions (with their buckets and caps) from their
    minimums up; sets their limits and returns each bucket's total.

    A bucket stops rising as a whole, when one of its constraints is full, so the sweep runs
    on buckets: a bucket's slope (the weights of its sessions still rising) changes where one
    of its sessions starts rising (``min / priority``) or reaches its cap (``cap / priority``).
    What changes at one level is summed per bucket, then per constraint; a constraint keeps
    its total at level ``at`` and its slope, and is rescheduled once per level it changes at.
    A session's limit follows from the level its bucket stopped at:
    ``clamp(priority * level, min, cap)``. Plain lists indexed by number and loops written
    out: this runs on every change of every session of the fleet."""
    size, count = len(room), len(bucket_keys)
    total = [0.0] * size
    slope = [0.0] * size
    at = [0.0] * size
    full = [False] * size
    pending = [0.0] * size  # slope change of a constraint at the current level
    buckets_on: list[list[int]] = [[] for _ in range(size)]  # constraint -> its buckets
    for bucket, keys in enumerate(bucket_keys):
        for number in keys:
            buckets_on[number].append(bucket)

    floor = [0.0] * count
    # Slope changes: at a level, of a bucket, by an amount; taken in the order of their levels.
    levels: list[float] = []
    event_bucket: list[int] = []
    event_delta: list[float] = []
    for session, bucket, cap in zip(sessions, bucket_of, caps, strict=True):
        minimum, weight = session.min_current, session.priority
        floor[bucket] += minimum
        start, stop = minimum / weight, cap / weight
        if stop > start:
            levels += (start, stop)
            event_bucket += (bucket, bucket)
            event_delta += (weight, -weight)
    events = sorted(range(len(levels)), key=levels.__getitem__)
    for bucket, keys in enumerate(bucket_keys):
        amps = floor[bucket]
        if amps:
            for number in keys:
                total[number] += amps

    rate_of = [0.0] * count  # a bucket's slope
    change = [0.0] * count  # its change at the current level
    stopped = [math.inf] * count  # the level it stopped rising at (inf: never)
    changed: list[int] = []
    touched: list[int] = []
    # Fill levels by constraint, a lower bound each: pushed when a slope rises; when a slope
    # falls the entry is left, and re-pushed later if, reached, the constraint is not full.
    heap: list[tuple[float, int]] = []
    position, total_events = 0, len(events)
    while True:
        next_event = levels[events[position]] if position < total_events else math.inf
        level = next_event
        while heap and heap[0][0] <= next_event:
            when, number = heap[0]
            if full[number]:
                heapq.heappop(heap)
                continue
            rate = slope[number]
            left = room[number] - total[number] - rate * (when - at[number])
            if left <= _FULL:
                level = when
                break
            heapq.heappop(heap)
            if rate > 1e-12:
                heapq.heappush(heap, (when + left / rate, number))
        if level == math.inf:
            break
        # Sessions that start rising or reach their cap at this level, then constraints that
        # are full at it (their buckets stop).
        while position < total_events and levels[events[position]] == level:
            event = events[position]
            position += 1
            bucket = event_bucket[event]
            if stopped[bucket] == math.inf:
                if change[bucket] == 0.0:
                    changed.append(bucket)
                change[bucket] += event_delta[event]
        while heap and heap[0][0] <= level:
            when, number = heapq.heappop(heap)
            if full[number]:
                continue
            left = room[number] - total[number] - slope[number] * (level - at[number])
            if left > _FULL:
                if slope[number] > 1e-12:
                    heapq.heappush(heap, (level + left / slope[number], number))
                continue
            full[number] = True
            for bucket in buckets_on[number]:
                if stopped[bucket] == math.inf:
                    stopped[bucket] = level
                    if change[bucket] == 0.0:
                        changed.append(bucket)
                    change[bucket] -= rate_of[bucket] + change[bucket]
        for bucket in changed:
            delta = change[bucket]
            change[bucket] = 0.0
            if delta == 0.0:
                continue
            rate_of[bucket] += delta
            for number in bucket_keys[bucket]:
                if pending[number] == 0.0:
                    touched.append(number)
                pending[number] += delta
        changed.clear()
        for number in touched:
            delta = pending[number]
            if delta == 0.0:
                continue  # touched twice (its changes summed to 0 once, then again)
            pending[number] = 0.0
            total[number] += slope[number] * (level - at[number])
            at[number] = level
            rate = slope[number] = slope[number] + delta
            if delta > 0.0 and not full[number]:
                left = room[number] - total[number]
                heapq.heappush(heap, (level + (left / rate if left > 0 else 0.0), number))
        touched.clear()

    totals = [0.0] * count
    for session, bucket, cap in zip(sessions, bucket_of, caps, strict=True):
        limit = session.priority * stopped[bucket]
        minimum = session.min_current
        limit = cap if limit > cap else minimum if limit < minimum else limit
        limits[session.key] = limit
        totals[bucket] += limit
    return totals
