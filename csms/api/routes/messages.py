"""The OCPP message log: every frame in and out, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.schemas.base import Envelope, ItemPage
from csms.api.schemas.messages import OcppMessageOut
from csms.domain.paging import Page

__all__ = ["router"]

router = APIRouter(prefix="/ocpp-messages", tags=["ocpp messages"])


@router.get("", summary="List logged OCPP frames, oldest first, paged by id")
async def list_messages(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        int | None, Query(alias="startingAfter", ge=0, description="The id of the last item seen.")
    ] = None,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId")] = None,
    action: Annotated[
        str | None, Query(description="OCPP action, e.g. `BootNotification`.")
    ] = None,
    direction: Annotated[
        Literal["in", "out"] | None, Query(description="`in`: from the charger; `out`: to it.")
    ] = None,
    since: Annotated[
        datetime | None,
        Query(description="Only frames at or after this ISO 8601 time (no offset: UTC)."),
    ] = None,
) -> Envelope[ItemPage[OcppMessageOut]]:
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    messages = await ctx.messages.list_messages(
        Page(limit, starting_after),
        cp_id=charge_point_id,
        action=action,
        direction=direction,
        since=since,
    )
    return Envelope(data=ItemPage.of(messages, OcppMessageOut.from_domain))
