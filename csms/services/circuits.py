"""Circuits (the electrical tree chargers hang on), the chargers on them, priorities, and the
circuit meters' readings (API.md "Circuits and dynamic load management").

Every successful write, and every reading, is handed to ``on_change`` (the load manager
subscribes): it re-reads what it needs from the store, except a reading, which only travels in
the event. A listener that fails is logged; the write it was told about stands.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from csms.domain.circuits import (
    Circuit,
    CircuitEvent,
    CircuitEventKind,
    CircuitMode,
    CircuitPhases,
    Member,
    new_circuit_id,
)
from csms.domain.clock import Clock
from csms.domain.errors import Invalid, NotFound
from csms.domain.paging import Page, Paged
from csms.domain.transactions import Transaction
from csms.domain.updates import CircuitChanges
from csms.log import get_logger
from csms.services.transactions import TransactionService
from csms.store.repositories import CircuitStore

__all__ = ["CircuitService"]

log = get_logger(__name__)

_READING_FIELDS = ("currentL1", "currentL2", "currentL3")


def _check_priority(priority: float) -> None:
    if not (math.isfinite(priority) and priority > 0):
        raise Invalid("priority", "priority is a weight above 0 (1: an equal share)")


class CircuitService:
    def __init__(
        self,
        circuits: CircuitStore,
        transactions: TransactionService,
        clock: Clock,
        on_change: Callable[[CircuitEvent], None] | None = None,
    ) -> None:
        self._circuits = circuits
        self._transactions = transactions
        self._clock = clock
        self.on_change = on_change

    # --- circuits ------------------------------------------------------------------------------

    async def add_circuit(
        self,
        *,
        name: str,
        phases: CircuitPhases,
        max_current: float,
        circuit_id: str | None = None,
        site_id: str | None = None,
        parent_circuit_id: str | None = None,
        phase_rotation: str | None = None,
        connected_phase: str | None = None,
        max_voltage: float | None = None,
        min_charge_point_current: float = 6.0,
        set_session_limit_to_zero_on_idle: bool = False,
        offline_reserved_current: float = 0.0,
        mode: CircuitMode = CircuitMode.DYNAMIC,
    ) -> Circuit:
        now = self._clock()
        circuit = Circuit(
            id=circuit_id or new_circuit_id(),
            name=name,
            phases=phases,
            max_current=max_current,
            created_at=now,
            updated_at=now,
            site_id=site_id,
            parent_circuit_id=parent_circuit_id,
            phase_rotation=phase_rotation,
            connected_phase=connected_phase,
            max_voltage=max_voltage,
            min_charge_point_current=min_charge_point_current,
            set_session_limit_to_zero_on_idle=set_session_limit_to_zero_on_idle,
            offline_reserved_current=offline_reserved_current,
            mode=mode,
        )
        added = await self._circuits.add_circuit(circuit)
        self._notify(CircuitEventKind.CIRCUIT_CHANGED, added.id)
        return added

    async def get_circuit(self, circuit_id: str) -> tuple[Circuit, list[Member]]:
        """The circuit and the chargers on it; NotFound when there is no such circuit."""
        circuit = await self._circuits.get_circuit(circuit_id)
        if circuit is None:
            raise NotFound(f"circuit {circuit_id!r} not found")
        return circuit, await self._circuits.list_members(circuit_id)

    async def list_circuits(
        self,
        page: Page[str],
        *,
        site_id: str | None = None,
        parent_circuit_id: str | None = None,
    ) -> tuple[Paged[Circuit], dict[str, list[Member]]]:
        """A page of circuits, and the chargers on each of them (by circuit id)."""
        circuits = await self._circuits.list_circuits(
            page, site_id=site_id, parent_circuit_id=parent_circuit_id
        )
        members: dict[str, list[Member]] = {}
        if circuits.items:
            wanted = {circuit.id for circuit in circuits.items}
            for member in await self._circuits.list_members():
                if member.circuit_id in wanted:
                    members.setdefault(member.circuit_id, []).append(member)
        return circuits, members

    async def update_circuit(self, circuit_id: str, changes: CircuitChanges) -> Circuit:
        updated = await self._circuits.update_circuit(circuit_id, changes, self._clock())
        self._notify(CircuitEventKind.CIRCUIT_CHANGED, circuit_id)
        return updated

    async def delete_circuit(self, circuit_id: str) -> None:
        await self._circuits.delete_circuit(circuit_id)
        self._notify(CircuitEventKind.CIRCUIT_CHANGED, circuit_id)

    # --- the chargers on a circuit -------------------------------------------------------------

    async def attach(self, circuit_id: str, cp_id: str, priority: float | None = None) -> Member:
        """Attached to this circuit already: only the priority changes, when one is given."""
        if priority is not None:
            _check_priority(priority)
        member = await self._circuits.attach(circuit_id, cp_id, priority)
        self._notify(
            CircuitEventKind.MEMBERS_CHANGED, circuit_id, charge_point_id=member.charge_point_id
        )
        return member

    async def detach(self, circuit_id: str, cp_id: str) -> None:
        await self._circuits.detach(circuit_id, cp_id)
        self._notify(CircuitEventKind.MEMBERS_CHANGED, circuit_id, charge_point_id=cp_id)

    async def set_charge_point_priority(
        self, circuit_id: str, cp_id: str, priority: float, evse_id: int | None = None
    ) -> Member:
        """The charger's priority, or (``evse_id``) one of its EVSEs'."""
        _check_priority(priority)
        if evse_id is not None and evse_id < 1:
            raise Invalid("evseId", "evseId is 1 or more (EVSE 0 is the station itself)")
        member = await self._circuits.set_priority(circuit_id, cp_id, evse_id, priority)
        self._notify(
            CircuitEventKind.PRIORITY_CHANGED, circuit_id, charge_point_id=member.charge_point_id
        )
        return member

    async def set_transaction_priority(self, ref: str, priority: float | None) -> Transaction:
        """A session's own priority (None: its charger's again); ``ref`` as for
        TransactionService.find (NotFound, Ambiguous)."""
        if priority is not None:
            _check_priority(priority)
        found = await self._transactions.find(ref)
        updated = await self._circuits.set_transaction_priority(found.pk, priority)
        member = await self._circuits.get_member(updated.charge_point_id)
        if member is not None:  # a charger on no circuit: nothing to re-allocate
            self._notify(
                CircuitEventKind.PRIORITY_CHANGED,
                member.circuit_id,
                charge_point_id=member.charge_point_id,
                transaction_pk=updated.pk,
            )
        return updated

    # --- the circuit's own meter ---------------------------------------------------------------

    async def report_consumption(
        self, circuit_id: str, l1: float, l2: float, l3: float
    ) -> CircuitEvent:
        """A reading of the circuit's meter, in mA per line, handed on in A."""
        for field, value in zip(_READING_FIELDS, (l1, l2, l3), strict=True):
            if not (math.isfinite(value) and value >= 0):
                raise Invalid(field, f"{field} is a current in mA, 0 or more")
        if await self._circuits.get_circuit(circuit_id) is None:
            raise NotFound(f"circuit {circuit_id!r} not found")
        return self._notify(
            CircuitEventKind.CONSUMPTION, circuit_id, reading=(l1 / 1000, l2 / 1000, l3 / 1000)
        )

    def _notify(
        self,
        kind: CircuitEventKind,
        circuit_id: str,
        *,
        reading: tuple[float, float, float] | None = None,
        charge_point_id: str | None = None,
        transaction_pk: int | None = None,
    ) -> CircuitEvent:
        event = CircuitEvent(
            kind, circuit_id, self._clock(), reading, charge_point_id, transaction_pk
        )
        if self.on_change is not None:
            try:
                self.on_change(event)
            except Exception:
                log.exception("circuit listener failed", kind=str(kind), circuit_id=circuit_id)
        return event
