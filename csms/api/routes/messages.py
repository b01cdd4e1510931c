"""The OCPP message log: every frame in and out, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit, split_page
from csms.api.schemas import Envelope, ItemPage, OcppMessageOut

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
    rows = await ctx.messages.list_messages(
        limit=limit + 1,
        starting_after=starting_after,
        cp_id=charge_point_id,
        action=action,
        direction=direction,
        since=since,
    )
    page, has_more = split_page(rows, limit)
    return Envelope(
        data=ItemPage(items=[OcppMessageOut.from_domain(m) for m in page], has_more=has_more)
    )
