"""A charger's connection and status history (API.md "Monitoring"), oldest first.

The window is ``[start, end)``: the last 7 days by default, ``start`` alone means ``start`` + 7
days; an interval overlapping it is listed whole."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from csms.api.deps import DEFAULT_LIMIT, CpId, Ctx, IdCursor, Limit
from csms.api.schemas.base import Envelope, ItemPage, UtcDatetime
from csms.api.schemas.history import ConnectionOut, StatusIntervalOut
from csms.domain.paging import Page

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])

Start = Annotated[
    UtcDatetime | None,
    Query(description="The window's start (default: 7 days before `end`; no offset: UTC)."),
]
End = Annotated[
    UtcDatetime | None,
    Query(description="The window's end, exclusive (default: now, or `start` + 7 days)."),
]


@router.get(
    "/charge-points/{cp_id}/connection-history",
    summary="When the charger was connected, oldest first",
)
async def connection_history(
    ctx: Ctx,
    cp_id: CpId,
    start: Start = None,
    end: End = None,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: IdCursor = None,
) -> Envelope[ItemPage[ConnectionOut]]:
    found = await ctx.history.connections(cp_id, Page(limit, starting_after), start, end)
    return Envelope(data=ItemPage.of(found, lambda row: ConnectionOut.from_domain(*row)))


@router.get(
    "/charge-points/{cp_id}/status-history",
    summary="What each connector reported, as intervals, oldest first",
)
async def status_history(
    ctx: Ctx,
    cp_id: CpId,
    start: Start = None,
    end: End = None,
    evse_id: Annotated[int | None, Query(alias="evseId", ge=0)] = None,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: IdCursor = None,
) -> Envelope[ItemPage[StatusIntervalOut]]:
    found = await ctx.history.statuses(cp_id, Page(limit, starting_after), start, end, evse_id)
    return Envelope(data=ItemPage.of(found, lambda row: StatusIntervalOut.from_domain(*row)))
