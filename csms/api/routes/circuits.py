"""Circuits and the chargers on them, priorities, and the circuit meters' readings (API.md
"Circuits and dynamic load management"); also a transaction's own priority."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.schemas.base import Envelope, ItemPage
from csms.api.schemas.circuits import (
    AttachBody,
    CircuitCreate,
    CircuitOut,
    CircuitUpdate,
    ConsumptionBody,
    ConsumptionOut,
    DetachBody,
    PriorityBody,
    TransactionPriorityBody,
)
from csms.api.schemas.transactions import TransactionOut
from csms.domain.paging import Page
from csms.domain.updates import UNSET, CircuitChanges

__all__ = ["router"]

router = APIRouter(tags=["circuits and load management"])

Id = Annotated[str, Path(max_length=64)]
StartingAfter = Annotated[
    str | None, Query(alias="startingAfter", description="The id of the last item seen.")
]
Ref = Annotated[
    str,
    Path(max_length=64, description="The transaction's `id`, or a charger's `transactionId`."),
]


async def _circuit_out(ctx: Ctx, circuit_id: str) -> CircuitOut:
    circuit, members = await ctx.circuits.get_circuit(circuit_id)
    return CircuitOut.from_domain(circuit, members)


@router.get("/circuits", summary="List circuits (ordered by id)")
async def list_circuits(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: StartingAfter = None,
    site_id: Annotated[
        str | None, Query(alias="siteId", max_length=64, description="Circuits on this site.")
    ] = None,
    parent_circuit_id: Annotated[
        str | None,
        Query(alias="parentCircuitId", max_length=64, description="Circuits directly below it."),
    ] = None,
) -> Envelope[ItemPage[CircuitOut]]:
    circuits, members = await ctx.circuits.list_circuits(
        Page(limit, starting_after), site_id=site_id, parent_circuit_id=parent_circuit_id
    )
    return Envelope(
        data=ItemPage.of(circuits, lambda c: CircuitOut.from_domain(c, members.get(c.id, [])))
    )


@router.post(
    "/circuits",
    status_code=201,
    summary="Create a circuit (wiring that does not fit its parent's, or a cycle, is a 422)",
)
async def create_circuit(ctx: Ctx, body: CircuitCreate) -> Envelope[CircuitOut]:
    circuit = await ctx.circuits.add_circuit(
        circuit_id=body.id,
        name=body.name,
        site_id=body.site_id,
        parent_circuit_id=body.parent_circuit_id,
        phases=body.phases,
        phase_rotation=body.phase_rotation,
        connected_phase=body.connected_phase,
        max_current=body.max_current,
        max_voltage=body.max_voltage,
        min_charge_point_current=body.min_charge_point_current,
        set_session_limit_to_zero_on_idle=body.set_session_limit_to_zero_on_idle,
        offline_reserved_current=body.offline_reserved_current,
        mode=body.mode,
    )
    return Envelope(data=CircuitOut.from_domain(circuit, []))


@router.get("/circuits/{circuit_id}", summary="One circuit, with the chargers on it")
async def get_circuit(ctx: Ctx, circuit_id: Id) -> Envelope[CircuitOut]:
    return Envelope(data=await _circuit_out(ctx, circuit_id))


@router.patch("/circuits/{circuit_id}", summary="Change or move a circuit")
async def update_circuit(ctx: Ctx, circuit_id: Id, body: CircuitUpdate) -> Envelope[CircuitOut]:
    present = body.model_fields_set

    changes = CircuitChanges(
        name=body.name if "name" in present else UNSET,
        site_id=body.site_id if "site_id" in present else UNSET,
        parent_circuit_id=body.parent_circuit_id if "parent_circuit_id" in present else UNSET,
        phases=body.phases if "phases" in present else UNSET,
        phase_rotation=body.phase_rotation if "phase_rotation" in present else UNSET,
        connected_phase=body.connected_phase if "connected_phase" in present else UNSET,
        max_current=body.max_current if "max_current" in present else UNSET,
        max_voltage=body.max_voltage if "max_voltage" in present else UNSET,
        min_charge_point_current=body.min_charge_point_current
        if "min_charge_point_current" in present
        else UNSET,
        set_session_limit_to_zero_on_idle=body.set_session_limit_to_zero_on_idle
        if "set_session_limit_to_zero_on_idle" in present
        else UNSET,
        offline_reserved_current=body.offline_reserved_current
        if "offline_reserved_current" in present
        else UNSET,
        mode=body.mode if "mode" in present else UNSET,
    )
    await ctx.circuits.update_circuit(circuit_id, changes)
    return Envelope(data=await _circuit_out(ctx, circuit_id))


@router.delete(
    "/circuits/{circuit_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a circuit (409 while circuits nest below it or chargers are on it)",
)
async def delete_circuit(ctx: Ctx, circuit_id: Id) -> Response:
    await ctx.circuits.delete_circuit(circuit_id)
    return Response(status_code=204)


@router.post(
    "/circuits/{circuit_id}/attach-charge-point",
    summary="Put a charger on the circuit (409 when it is on another one)",
)
async def attach_charge_point(ctx: Ctx, circuit_id: Id, body: AttachBody) -> Envelope[CircuitOut]:
    await ctx.circuits.attach(circuit_id, body.charge_point_id, body.priority)
    return Envelope(data=await _circuit_out(ctx, circuit_id))


@router.post(
    "/circuits/{circuit_id}/detach-charge-point",
    summary="Take a charger off the circuit (its EVSE priorities go with it)",
)
async def detach_charge_point(ctx: Ctx, circuit_id: Id, body: DetachBody) -> Envelope[CircuitOut]:
    await ctx.circuits.detach(circuit_id, body.charge_point_id)
    return Envelope(data=await _circuit_out(ctx, circuit_id))


@router.post(
    "/circuits/{circuit_id}/set-charge-point-priority",
    summary="Set a charger's priority on the circuit, or one of its EVSEs'",
)
async def set_charge_point_priority(
    ctx: Ctx, circuit_id: Id, body: PriorityBody
) -> Envelope[CircuitOut]:
    await ctx.circuits.set_charge_point_priority(
        circuit_id, body.charge_point_id, body.priority, body.evse_id
    )
    return Envelope(data=await _circuit_out(ctx, circuit_id))


@router.post(
    "/circuits/{circuit_id}/report-consumption",
    status_code=202,
    summary="A reading of the circuit's own meter, in mA per line",
)
async def report_consumption(
    ctx: Ctx, circuit_id: Id, body: ConsumptionBody
) -> Envelope[ConsumptionOut]:
    event = await ctx.circuits.report_consumption(
        circuit_id, body.current_l1, body.current_l2, body.current_l3
    )
    return Envelope(data=ConsumptionOut.from_domain(event))


@router.post(
    "/transactions/{ref}/set-priority",
    tags=["transactions"],
    summary="Set a session's own priority (null: its charger's again)",
)
async def set_transaction_priority(
    ctx: Ctx, ref: Ref, body: TransactionPriorityBody
) -> Envelope[TransactionOut]:
    transaction = await ctx.circuits.set_transaction_priority(ref, body.priority)
    return Envelope(data=TransactionOut.from_domain(transaction))
