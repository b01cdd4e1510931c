"""What the load manager knows between two allocations, and how an allocation reads for
operators (``GET /api/v1/circuits/{id}/allocation``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from csms.domain.allocation import HeldBack
from csms.domain.circuits import Circuit, Member, evse_supply_lines, own_lines
from csms.domain.evses import Evse, resolve_evse
from csms.domain.models import MeterSample
from csms.domain.paging import Page, Paged
from csms.domain.transactions import Transaction, transaction_ref
from csms.services.profile_sender import SentProfile, Target

__all__ = [
    "ChargerState",
    "CircuitSource",
    "EvseSource",
    "ProfileSink",
    "Reading",
    "SessionSource",
    "SessionState",
    "Where",
    "add_drawn",
    "allocation_view",
    "currents_of",
    "evse_of",
    "session_key",
    "session_lines",
    "uncontrolled_load",
]

_LINES = ("L1", "L2", "L3")
_DRAWING_A = 1.0  # a phase carrying more than this is one the car uses


class CircuitSource(Protocol):
    """The circuits and who is on them (CircuitStore)."""

    async def all_circuits(self) -> list[Circuit]: ...
    async def list_members(self, circuit_id: str | None = None) -> list[Member]: ...


class SessionSource(Protocol):
    """Where the load manager finds the sessions already running (TransactionService)."""

    async def list_transactions(
        self, page: Page[int], *, cp_id: str | None = None, active: bool | None = None
    ) -> Paged[Transaction]: ...
    async def find(self, ref: str) -> Transaction: ...


class EvseSource(Protocol):
    """What each EVSE can take and how it is wired (EvseService)."""

    async def list_evses(self, cp_id: str) -> list[Evse]: ...


class ProfileSink(Protocol):
    """Where limits go (ProfileSender)."""

    async def send_all(self, targets: Mapping[str, Target]) -> dict[str, SentProfile]: ...
    async def send_default(self, cp_id: str) -> tuple[bool, bool]: ...


@dataclass(slots=True)
class SessionState:
    charge_point_id: str
    evse_id: int
    transaction_id: str
    pk: int | None
    arrival: float
    priority: float | None = None  # its own, over its charger's
    suspended: bool = False
    measured: dict[str, float] = field(default_factory=dict)  # the EVSE's own lines -> A
    measured_at: float | None = None
    low_since: float | None = None  # drawing well below its limit since

    def drawn(self) -> float:
        return max(self.measured.values(), default=0.0)


@dataclass(slots=True)
class ChargerState:
    member: Member
    connected: bool = False
    unmanaged: bool = False
    default_sent: bool = False
    evses: dict[int, Evse] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reading:
    """A circuit meter's reading: A on the circuit's own L1 L2 L3, and when (monotonic)."""

    amps: tuple[float, float, float]
    at: float


Where = dict[str, tuple[ChargerState, SessionState, tuple[str, ...]]]
"""Session key -> its charger, itself and the supply phases it loads."""


def session_key(cp_id: str, evse_id: int) -> str:
    return f"{cp_id.lower()}/{evse_id}"


def evse_of(charger: ChargerState, evse_id: int) -> Evse:
    """The EVSE as recorded and resolved, else the defaults (three phases, no maximum)."""
    return charger.evses.get(evse_id) or resolve_evse(
        charger.member.charge_point_id, evse_id, None, None, ()
    )


def session_lines(
    charger: ChargerState, session: SessionState, circuit_lines: tuple[str, ...]
) -> tuple[str, ...]:
    """The supply phases a session loads: its car's phases (those carrying more than 1 A once
    it has reported, else the EVSE's) through the EVSE's wiring onto its circuit's lines."""
    evse = evse_of(charger, session.evse_id)
    car = sum(1 for amps in session.measured.values() if amps > _DRAWING_A)
    return evse_supply_lines(
        circuit_lines,
        evse.power.phases,
        evse.power.phase_rotation,
        evse.power.connected_phase,
        car or None,
    )


def currents_of(samples: Iterable[object]) -> dict[str, float]:
    """Current.Import per phase (L1 when the charger names none) from meter samples."""
    currents: dict[str, float] = {}
    for sample in samples:
        if not isinstance(sample, MeterSample) or sample.measurand != "Current.Import":
            continue
        phase = (sample.phase or "L1")[:2]
        if phase not in _LINES:
            continue
        try:
            currents[phase] = float(sample.value)
        except ValueError:
            continue
    return currents


def allocation_view(
    circuits: Mapping[str, Circuit],
    supply_lines: Mapping[str, tuple[str, ...]],
    in_force: Mapping[str, SentProfile],
    where: Where,
    reserved: Iterable[HeldBack],
    uncontrolled: Mapping[str, Mapping[str, float]],
    targets: Mapping[str, float],
    at: datetime,
    *,
    only: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Per circuit (or ``only`` that one): the API's allocation document, phases named as the
    circuit names them. ``allocated`` sums the limits chargers have accepted below the circuit
    (what the invariant is about), not the allocator's unrounded shares; ``measured`` what the
    sessions below it draw now; ``reserved`` what is held back below it for offline and
    unmanaged chargers."""
    allocated: dict[str, dict[str, float]] = {}
    measured: dict[str, dict[str, float]] = {}
    for key, (charger, session, session_lines) in where.items():
        circuit_id = charger.member.circuit_id
        sent = in_force.get(key)
        if sent is not None:  # an offline charger goes on applying it
            add_drawn(allocated, circuits, circuit_id, sent.limit, session_lines)
        add_drawn(measured, circuits, circuit_id, session.drawn(), session_lines)
    held: dict[str, dict[str, float]] = {}
    for hold in reserved:
        for line, amps in hold.per_line.items():
            add_drawn(held, circuits, hold.circuit_id, amps, (line,))
    view: dict[str, dict[str, Any]] = {}
    for circuit in circuits.values():
        if only is not None and circuit.id != only:
            continue
        own, lines = own_lines(circuit.phases), supply_lines[circuit.id]

        def local(
            per_supply: Mapping[str, float],
            own: tuple[str, ...] = own,
            lines: tuple[str, ...] = lines,
        ) -> dict[str, float]:
            return {
                name: round(per_supply.get(line, 0.0), 1)
                for name, line in zip(own, lines, strict=True)
            }

        sessions = []
        for key, (charger, session, session_lines) in where.items():
            if charger.member.circuit_id != circuit.id:
                continue
            sent = in_force.get(key)
            sessions.append(
                {
                    "chargePointId": charger.member.charge_point_id,
                    "evseId": session.evse_id,
                    "transactionId": session.transaction_id,
                    "id": None if session.pk is None else transaction_ref(session.pk),
                    "priority": session.priority or charger.member.priority_of(session.evse_id),
                    "ownPriority": session.priority,
                    "state": _state(charger, session, targets.get(key, 0.0), circuit),
                    "allocatedA": sent.limit if sent else 0.0,
                    "measuredA": round(session.drawn(), 1),
                    "phases": len(session_lines),
                    "profile": None
                    if sent is None
                    else {
                        "chargingProfileId": sent.profile_id,
                        "limit": sent.limit,
                        "unit": "A",
                        "sentAt": sent.sent_at,
                        "status": sent.status,
                    },
                }
            )
        view[circuit.id] = {
            "circuitId": circuit.id,
            "maxCurrent": circuit.max_current,
            "allocated": local(allocated.get(circuit.id, {})),
            "measured": local(measured.get(circuit.id, {})),
            "reserved": local(held.get(circuit.id, {})),
            "uncontrolled": local(uncontrolled.get(circuit.id, {})),
            "updatedAt": at,
            "sessions": sorted(sessions, key=lambda s: (s["chargePointId"], s["evseId"])),
        }
    return view


def _state(charger: ChargerState, session: SessionState, target: float, circuit: Circuit) -> str:
    if charger.unmanaged:
        return "unmanaged"
    if not charger.connected:
        return "offline"
    if session.suspended and circuit.set_session_limit_to_zero_on_idle:
        return "idle"
    return "charging" if target > 0 else "queued"


def add_drawn(
    drawn: dict[str, dict[str, float]],
    circuits: Mapping[str, Circuit],
    circuit_id: str,
    amps: float,
    lines: tuple[str, ...],
) -> None:
    """Count a session's draw on its supply phases, on its circuit and every one above it."""
    if amps <= 0:
        return
    current: str | None = circuit_id
    seen = 0
    while current is not None and current in circuits and seen <= len(circuits):
        per_line = drawn.setdefault(current, {})
        for line in lines:
            per_line[line] = per_line.get(line, 0.0) + amps
        current = circuits[current].parent_circuit_id
        seen += 1


def uncontrolled_load(
    circuits: Mapping[str, Circuit],
    supply_lines: Mapping[str, tuple[str, ...]],
    readings: Mapping[str, Reading],
    drawn: Mapping[str, Mapping[str, float]],
    now: float,
    meter_timeout: float,
) -> dict[str, dict[str, float]]:
    """Per circuit and supply phase, what it carries that the CSMS does not control: its meter's
    reading less what the managed sessions below it draw, or ``offlineReservedCurrent`` while
    the meter is silent (never reported, or not for ``meter_timeout`` seconds)."""
    held: dict[str, dict[str, float]] = {}
    for circuit in circuits.values():
        lines = supply_lines[circuit.id]
        reading = readings.get(circuit.id)
        if reading is None or now - reading.at > meter_timeout:
            if circuit.offline_reserved_current > 0:
                held[circuit.id] = dict.fromkeys(lines, circuit.offline_reserved_current)
            continue
        managed = drawn.get(circuit.id, {})
        held[circuit.id] = {
            line: max(0.0, amps - managed.get(line, 0.0))
            for line, amps in zip(lines, reading.amps, strict=False)
        }
    return held
