"""Circuits, the chargers on them and their priorities, and the circuit meters' readings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from csms.api.schemas.base import CP_ID_MAX, ApiModel, RequestModel, Timestamp, optional_field
from csms.api.schemas.sites import AssetId
from csms.domain.circuits import Circuit, CircuitEvent, CircuitMode, CircuitPhases, Member

__all__ = [
    "AttachBody",
    "CircuitCreate",
    "CircuitOut",
    "CircuitUpdate",
    "ConsumptionBody",
    "ConsumptionOut",
    "DetachBody",
    "MemberOut",
    "PriorityBody",
    "TransactionPriorityBody",
]

CircuitName = Annotated[str, Field(min_length=1, max_length=255)]
PhaseRotation = Literal["RST", "RTS", "SRT", "STR", "TRS", "TSR"]
ConnectedPhase = Literal["L1", "L2", "L3", "L1_L2", "L2_L3", "L3_L1"]
Amperes = Annotated[float, Field(allow_inf_nan=False)]
Priority = Annotated[
    float,
    Field(
        gt=0,
        allow_inf_nan=False,
        description="A weight above 0: 1 is an equal share, 2 twice the share of 1, 0.5 half.",
    ),
]
ChargePointId = Annotated[str, Field(min_length=1, max_length=CP_ID_MAX)]
MilliAmperes = Annotated[
    float, Field(ge=0, allow_inf_nan=False, description="mA on this line, 0 or more.")
]

_MAX_CURRENT = "A per phase: the breaker's rating (above 0)."
_MIN_CP_CURRENT = "A: a session gets at least this or nothing (default 6)."
_OFFLINE_RESERVED = (
    "A per phase held back for loads the CSMS does not control while the circuit's meter "
    "reports nothing (default 0; at most maxCurrent)."
)
_PHASE_ROTATION = "Three phase: which of the parent's (or supply's) lines its L1 L2 L3 are."
_CONNECTED_PHASE = "Single phase: L1|L2|L3; split phase: L1_L2|L2_L3|L3_L1 (of the parent's)."


class EvsePriorityOut(ApiModel):
    evse_id: int
    priority: float


class MemberOut(ApiModel):
    charge_point_id: str
    priority: float
    evse_priorities: list[EvsePriorityOut] = Field(
        description="EVSEs with a priority of their own (overriding the charger's)."
    )

    @classmethod
    def from_domain(cls, member: Member) -> MemberOut:
        return cls(
            charge_point_id=member.charge_point_id,
            priority=member.priority,
            evse_priorities=[
                EvsePriorityOut(evse_id=evse_id, priority=priority)
                for evse_id, priority in member.evse_priorities
            ],
        )


class CircuitOut(ApiModel):
    id: str
    name: str
    site_id: str | None
    parent_circuit_id: str | None
    phases: CircuitPhases
    phase_rotation: str | None
    connected_phase: str | None
    max_current: float = Field(description=_MAX_CURRENT)
    max_voltage: float | None
    min_charge_point_current: float
    set_session_limit_to_zero_on_idle: bool
    offline_reserved_current: float
    mode: CircuitMode
    created_at: Timestamp
    updated_at: Timestamp
    charge_points: list[MemberOut] = Field(description="The chargers on it, by id.")

    @classmethod
    def from_domain(cls, circuit: Circuit, members: list[Member]) -> CircuitOut:
        return cls(
            id=circuit.id,
            name=circuit.name,
            site_id=circuit.site_id,
            parent_circuit_id=circuit.parent_circuit_id,
            phases=circuit.phases,
            phase_rotation=circuit.phase_rotation,
            connected_phase=circuit.connected_phase,
            max_current=circuit.max_current,
            max_voltage=circuit.max_voltage,
            min_charge_point_current=circuit.min_charge_point_current,
            set_session_limit_to_zero_on_idle=circuit.set_session_limit_to_zero_on_idle,
            offline_reserved_current=circuit.offline_reserved_current,
            mode=circuit.mode,
            created_at=circuit.created_at,
            updated_at=circuit.updated_at,
            charge_points=[MemberOut.from_domain(member) for member in members],
        )


class CircuitCreate(RequestModel):
    id: AssetId | None = None
    name: CircuitName
    site_id: AssetId | None = None
    parent_circuit_id: AssetId | None = Field(
        default=None, description="Nested: must name phaseRotation or connectedPhase too."
    )
    phases: CircuitPhases
    phase_rotation: PhaseRotation | None = Field(default=None, description=_PHASE_ROTATION)
    connected_phase: ConnectedPhase | None = Field(default=None, description=_CONNECTED_PHASE)
    max_current: Annotated[Amperes, Field(gt=0, description=_MAX_CURRENT)]
    max_voltage: Annotated[Amperes, Field(gt=0, description="V")] | None = None
    min_charge_point_current: Annotated[Amperes, Field(ge=0, description=_MIN_CP_CURRENT)] = 6.0
    set_session_limit_to_zero_on_idle: bool = False
    offline_reserved_current: Annotated[Amperes, Field(ge=0, description=_OFFLINE_RESERVED)] = 0.0
    mode: CircuitMode = CircuitMode.DYNAMIC


class CircuitUpdate(RequestModel):
    """Only the fields present change; null clears a nullable one (a null `parentCircuitId`
    makes it a top-level circuit)."""

    name: CircuitName = optional_field()
    site_id: AssetId | None = None
    parent_circuit_id: AssetId | None = None
    phases: CircuitPhases = optional_field()
    phase_rotation: PhaseRotation | None = Field(default=None, description=_PHASE_ROTATION)
    connected_phase: ConnectedPhase | None = Field(default=None, description=_CONNECTED_PHASE)
    max_current: Annotated[Amperes, Field(gt=0)] = optional_field(description=_MAX_CURRENT)
    max_voltage: Annotated[Amperes, Field(gt=0, description="V")] | None = None
    min_charge_point_current: Annotated[Amperes, Field(ge=0)] = optional_field(
        description=_MIN_CP_CURRENT
    )
    set_session_limit_to_zero_on_idle: bool = optional_field()
    offline_reserved_current: Annotated[Amperes, Field(ge=0)] = optional_field(
        description=_OFFLINE_RESERVED
    )
    mode: CircuitMode = optional_field()


class AttachBody(RequestModel):
    charge_point_id: ChargePointId
    priority: Priority | None = Field(
        default=None,
        description="Default 1 for a charger new to the circuit; attached already: unchanged.",
    )


class DetachBody(RequestModel):
    charge_point_id: ChargePointId


class PriorityBody(RequestModel):
    charge_point_id: ChargePointId
    evse_id: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None,
        description="One EVSE's priority (overriding the charger's); unset: the charger's.",
    )
    priority: Priority


class TransactionPriorityBody(RequestModel):
    priority: Priority | None = Field(
        description="The session's own priority, overriding its charger's; null clears it."
    )


class ConsumptionBody(RequestModel):
    current_l1: MilliAmperes = Field(alias="currentL1")
    current_l2: MilliAmperes = Field(alias="currentL2")
    current_l3: MilliAmperes = Field(alias="currentL3")


class Lines(ApiModel):
    l1: float = Field(alias="L1")
    l2: float = Field(alias="L2")
    l3: float = Field(alias="L3")


class ConsumptionOut(ApiModel):
    circuit_id: str
    reading: Lines = Field(description="The reading in A per line (the circuit's own L1 L2 L3).")
    received_at: Timestamp

    @classmethod
    def from_domain(cls, event: CircuitEvent) -> ConsumptionOut:
        l1, l2, l3 = event.reading or (0.0, 0.0, 0.0)
        return cls(
            circuit_id=event.circuit_id,
            reading=Lines(L1=l1, L2=l2, L3=l3),
            received_at=event.at,
        )
