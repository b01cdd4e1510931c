"""What the load manager last allocated on a circuit (API.md "Circuits and dynamic load
management")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import Field

from csms.api.deps import Ctx
from csms.api.schemas.base import ApiModel, Envelope, Timestamp

__all__ = ["router"]

router = APIRouter(tags=["circuits and load management"])


class ProfileOut(ApiModel):
    charging_profile_id: int
    limit: float
    unit: str
    sent_at: Timestamp
    status: str


class AllocatedSessionOut(ApiModel):
    charge_point_id: str
    evse_id: int
    transaction_id: str
    id: str | None = Field(
        description="The transaction's CSMS-wide id (as `GET /transactions/{ref}` and "
        "`POST /transactions/{ref}/set-priority` take it); null when it is not known yet."
    )
    priority: float = Field(
        description="The weight it is allocated with: its own, else its "
        "EVSE's on the circuit, else its charger's."
    )
    own_priority: float | None = Field(
        description="The session's own priority (`POST /transactions/{ref}/set-priority`); "
        "null: it follows its EVSE's or charger's."
    )
    state: str = Field(description="charging | queued | idle | offline | unmanaged")
    allocated_a: float = Field(alias="allocatedA", description="The limit the charger accepted.")
    measured_a: float = Field(
        alias="measuredA", description="Its latest Current.Import (max phase)."
    )
    phases: int
    profile: ProfileOut | None


class AllocationOut(ApiModel):
    circuit_id: str
    max_current: float
    allocated: dict[str, float] = Field(description="Per line: the sessions' limits below it.")
    measured: dict[str, float] = Field(
        description="Per line: what the sessions below it draw now (their latest Current.Import)."
    )
    reserved: dict[str, float] = Field(
        description="Per line: held back below it for offline chargers (the limits they "
        "accepted) and unmanaged ones (their EVSEs' maximum)."
    )
    uncontrolled: dict[str, float] = Field(
        description="Per line: its meter's load the CSMS does not control, or what is held back "
        "while the meter is silent."
    )
    updated_at: Timestamp | None
    sessions: list[AllocatedSessionOut]


@router.get("/circuits/{circuit_id}/allocation", summary="The circuit's current allocation")
async def get_allocation(
    ctx: Ctx, circuit_id: Annotated[str, Path(max_length=64)]
) -> Envelope[AllocationOut]:
    circuit, _ = await ctx.circuits.get_circuit(circuit_id)  # 404 for an unknown circuit
    view: dict[str, Any] | None = await ctx.load_manager.current_allocation(circuit.id)
    if view is None:  # not allocated yet (just created): nothing below it has a limit
        empty = {line: 0.0 for line in ("L1", "L2", "L3")}
        view = {
            "circuitId": circuit.id,
            "maxCurrent": circuit.max_current,
            "allocated": empty,
            "measured": empty,
            "reserved": empty,
            "uncontrolled": empty,
            "updatedAt": None,
            "sessions": [],
        }
    return Envelope(data=AllocationOut.model_validate(view))
