"""What one allocation is asked: the load manager's state turned into the allocator's inputs
(csms.domain.allocation), and what is held back below each circuit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from csms.domain.allocation import CircuitCapacity, HeldBack, SessionDemand
from csms.domain.circuits import Circuit, CircuitMode, evse_supply_lines
from csms.services.load_state import (
    ChargerState,
    SessionState,
    Where,
    add_drawn,
    evse_of,
    session_lines,
)
from csms.services.profile_sender import SentProfile

__all__ = ["LEND_AFTER_S", "LEND_MARGIN_A", "Demands", "gather"]

LEND_AFTER_S = 60.0
"""A session drawing well below its limit for this long lends the difference to the others."""
LEND_MARGIN_A = 2.0
"""'Well below': this much under its limit; it keeps this much above what it draws."""


@dataclass(slots=True)
class Demands:
    capacities: list[CircuitCapacity]
    demands: list[SessionDemand]
    reserved: list[HeldBack]  # offline chargers at the limits they accepted, unmanaged ones at max
    where: Where
    drawn_below: dict[str, dict[str, float]]  # circuit -> supply line -> A every session draws


def gather(
    circuits: Mapping[str, Circuit],
    lines: Mapping[str, tuple[str, ...]],
    chargers: Mapping[str, ChargerState],
    sessions: Mapping[str, SessionState],
    in_force: Mapping[str, SentProfile],
    limits: Mapping[str, float],
    admitted: set[str],
    now: float,
) -> Demands:
    """``now`` is monotonic (lending is timed on it)."""
    gathered = Demands(
        [
            CircuitCapacity(
                c.id, c.parent_circuit_id, c.max_current, lines[c.id], c.mode is CircuitMode.DYNAMIC
            )
            for c in circuits.values()
        ],
        [],
        [],
        {},
        {},
    )
    by_charger: dict[str, list[str]] = {}
    for key in sessions:
        by_charger.setdefault(key.split("/", 1)[0], []).append(key)
    for charger in chargers.values():
        circuit = circuits.get(charger.member.circuit_id)
        if circuit is None:
            continue
        circuit_lines = lines[circuit.id]
        keys = by_charger.get(charger.member.charge_point_id.lower(), ())
        if charger.unmanaged:
            _reserve_unmanaged(gathered, circuits, circuit, circuit_lines, charger, sessions, keys)
            continue
        for key in keys:
            session = sessions[key]
            session_on = session_lines(charger, session, circuit_lines)
            gathered.where[key] = (charger, session, session_on)
            add_drawn(gathered.drawn_below, circuits, circuit.id, session.drawn(), session_on)
            if not charger.connected:
                sent = in_force.get(key)
                if sent is not None:  # it goes on applying it
                    gathered.reserved.append(
                        HeldBack(circuit.id, dict.fromkeys(session_on, sent.limit))
                    )
                continue
            gathered.demands.append(
                _demand(key, circuit, charger, session, session_on, limits, admitted, now)
            )
    return gathered


def _reserve_unmanaged(
    gathered: Demands,
    circuits: Mapping[str, Circuit],
    circuit: Circuit,
    circuit_lines: tuple[str, ...],
    charger: ChargerState,
    sessions: Mapping[str, SessionState],
    keys: tuple[str, ...] | list[str],
) -> None:
    """An unmanaged charger is held back at its EVSEs' maximum whether it charges or not (it may
    start at any moment); its sessions are shown, not allocated. What they draw counts as known
    load, so a circuit meter's reading does not count it a second time as uncontrolled."""
    for evse in charger.evses.values() or [evse_of(charger, 1)]:
        evse_lines = evse_supply_lines(
            circuit_lines, evse.power.phases, evse.power.phase_rotation, evse.power.connected_phase
        )
        amps = evse.power.max_amperage or circuit.max_current
        gathered.reserved.append(HeldBack(circuit.id, dict.fromkeys(evse_lines, amps)))
    for key in keys:
        session = sessions[key]
        session_on = session_lines(charger, session, circuit_lines)
        gathered.where[key] = (charger, session, session_on)
        add_drawn(gathered.drawn_below, circuits, circuit.id, session.drawn(), session_on)


def _demand(
    key: str,
    circuit: Circuit,
    charger: ChargerState,
    session: SessionState,
    session_on: tuple[str, ...],
    limits: Mapping[str, float],
    admitted: set[str],
    now: float,
) -> SessionDemand:
    evse = evse_of(charger, session.evse_id)
    expected = None
    if session.low_since is not None and now - session.low_since >= LEND_AFTER_S:
        expected = session.drawn() + LEND_MARGIN_A
    return SessionDemand(
        key,
        circuit.id,
        session_on,
        max_current=evse.power.max_amperage or circuit.max_current,
        min_current=circuit.min_charge_point_current,
        priority=session.priority or charger.member.priority_of(session.evse_id),
        arrival=session.arrival,
        admitted=key in admitted and limits.get(key, 0.0) > 0,
        expected=expected,
        idle=session.suspended and circuit.set_session_limit_to_zero_on_idle,
    )
