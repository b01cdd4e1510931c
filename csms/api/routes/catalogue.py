"""The charging-station model catalogue (API.md "Charging-station models and EVSE records")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from csms.api.auth import require_admin
from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.errors import ApiError
from csms.api.schemas.base import Envelope, ItemPage
from csms.api.schemas.catalogue import ModelCreate, ModelOut, ModelUpdate
from csms.domain.paging import Page

__all__ = ["router"]

router = APIRouter(prefix="/charging-station-models", tags=["charging-station models"])

ModelIdPath = Annotated[str, Path(max_length=64)]
_ADMIN = [Depends(require_admin)]


@router.get("", summary="List models (ordered by id; live ones unless isArchived says otherwise)")
async def list_models(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        str | None, Query(alias="startingAfter", description="The id of the last item seen.")
    ] = None,
    vendor: Annotated[
        str | None, Query(max_length=50, description="Exactly this vendor (any case).")
    ] = None,
    model: Annotated[
        str | None, Query(max_length=50, description="Exactly this model (any case).")
    ] = None,
    is_archived: Annotated[
        bool, Query(alias="isArchived", description="Archived models instead of live ones.")
    ] = False,
) -> Envelope[ItemPage[ModelOut]]:
    models = await ctx.catalogue.list_models(
        Page(limit, starting_after), vendor=vendor, model=model, is_archived=is_archived
    )
    return Envelope(data=ItemPage.of(models, ModelOut.from_domain))


@router.post("", status_code=201, dependencies=_ADMIN, summary="Add a model (admin)")
async def create_model(ctx: Ctx, body: ModelCreate) -> Envelope[ModelOut]:
    model = await ctx.catalogue.add(
        model_id=body.id,
        vendor=body.vendor,
        model=body.model,
        friendly_name=body.friendly_name,
        power_type=body.power_type,
        image_url=body.image_url,
        connectors=tuple(c.to_domain() for c in body.connectors),
    )
    return Envelope(data=ModelOut.from_domain(model))


@router.get("/{model_id}", summary="One model (archived ones too)")
async def get_model(ctx: Ctx, model_id: ModelIdPath) -> Envelope[ModelOut]:
    model = await ctx.catalogue.get(model_id)
    if model is None:
        raise ApiError(404, "not_found", f"charging-station model {model_id!r} not found")
    return Envelope(data=ModelOut.from_domain(model))


@router.patch("/{model_id}", summary="Rename a model (friendlyName only)")
async def update_model(ctx: Ctx, model_id: ModelIdPath, body: ModelUpdate) -> Envelope[ModelOut]:
    if "friendly_name" not in body.model_fields_set:
        model = await ctx.catalogue.get(model_id)
        if model is None:
            raise ApiError(404, "not_found", f"charging-station model {model_id!r} not found")
    else:
        model = await ctx.catalogue.rename(model_id, body.friendly_name)
    return Envelope(data=ModelOut.from_domain(model))


@router.post(
    "/{model_id}/archive",
    dependencies=_ADMIN,
    summary="Archive a model (admin): chargers keep their link; no new links",
)
async def archive_model(ctx: Ctx, model_id: ModelIdPath) -> Envelope[ModelOut]:
    return Envelope(data=ModelOut.from_domain(await ctx.catalogue.archive(model_id)))
