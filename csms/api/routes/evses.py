"""EVSE records: what each EVSE of a charger can deliver and how it is wired."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from csms.api.deps import CpId, Ctx
from csms.api.schemas.base import Envelope
from csms.api.schemas.catalogue import ConnectorSpecUpdate, EvseOut, EvseUpdate
from csms.domain.updates import UNSET, ConnectorSpecChanges, EvseChanges

__all__ = ["router"]

router = APIRouter(prefix="/charge-points/{cp_id}/evses", tags=["charge points"])

EvseId = Annotated[int, Path(ge=1, le=1000, description="The EVSE (1.6: the connector) id.")]
ConnectorId = Annotated[int, Path(ge=1, le=1000)]


@router.get("", summary="A charger's EVSEs: records, model defaults and connector status")
async def list_evses(ctx: Ctx, cp_id: CpId) -> Envelope[list[EvseOut]]:
    return Envelope(data=[EvseOut.from_domain(e) for e in await ctx.evses.list_evses(cp_id)])


@router.get("/{evse_id}", summary="One EVSE")
async def get_evse(ctx: Ctx, cp_id: CpId, evse_id: EvseId) -> Envelope[EvseOut]:
    return Envelope(data=EvseOut.from_domain(await ctx.evses.get(cp_id, evse_id)))


@router.patch("/{evse_id}", summary="Describe an EVSE: label, reference, current type, power")
async def update_evse(
    ctx: Ctx, cp_id: CpId, evse_id: EvseId, body: EvseUpdate
) -> Envelope[EvseOut]:
    # The body's field names are EvseChanges' (power options flattened): only those sent change.
    fields: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("label", "physical_reference", "current_type")
        if name in body.model_fields_set
    }
    if body.power_options is not None:
        power = body.power_options
        fields.update({name: getattr(power, name) for name in power.model_fields_set})
    changes = EvseChanges(**fields)
    return Envelope(data=EvseOut.from_domain(await ctx.evses.update(cp_id, evse_id, changes)))


@router.patch(
    "/{evse_id}/connectors/{connector_id}", summary="Describe a connector: type and format"
)
async def update_connector(
    ctx: Ctx, cp_id: CpId, evse_id: EvseId, connector_id: ConnectorId, body: ConnectorSpecUpdate
) -> Envelope[EvseOut]:
    present = body.model_fields_set
    changes = ConnectorSpecChanges(
        type=body.type if "type" in present else UNSET,
        format=body.format if "format" in present else UNSET,
    )
    evse = await ctx.evses.update_connector(cp_id, evse_id, connector_id, changes)
    return Envelope(data=EvseOut.from_domain(evse))
