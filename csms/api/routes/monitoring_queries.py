"""Stored meter values across chargers, and what a charger reported about itself (API.md
"Monitoring"; docs/API.md "Meter-value and event queries").

``/meter-values`` is a filtered collection: a filter that names nothing (an unknown charger, site
or network) matches nothing. The per-charger lists are sub-resources: an unknown charger is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from csms.api.deps import DEFAULT_LIMIT, CpId, Ctx, IdCursor, Limit
from csms.api.errors import ApiError
from csms.api.schemas.base import CP_ID_MAX, Envelope, ItemPage, UtcDatetime
from csms.api.schemas.monitoring_queries import (
    ChargerEventOut,
    SecurityEventOut,
    StoredMeterValueOut,
)
from csms.domain.errors import Invalid
from csms.domain.metering import MAX_SAMPLE_WINDOW
from csms.domain.paging import Page

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])

Start = Annotated[
    UtcDatetime | None, Query(description="Only from this moment on (no offset: UTC).")
]
End = Annotated[UtcDatetime | None, Query(description="Only before this moment (exclusive).")]


@router.get(
    "/meter-values",
    summary="Stored meter samples in a window, in or out of transactions",
    description="Ordered by charger, then time (samples of one moment in a stable order), so "
    "that each page is one range of the index that stores a sample once. At most one of "
    "`chargePointId`, `siteId` (its whole subtree), `networkId`; none: every charger. "
    f"The window `[start, end)` may span at most {MAX_SAMPLE_WINDOW.days} days.",
)
async def query_meter_values(
    ctx: Ctx,
    start: Annotated[UtcDatetime, Query(description="The window's start (no offset: UTC).")],
    end: Annotated[UtcDatetime, Query(description="The window's end, exclusive.")],
    charge_point_id: Annotated[
        str | None, Query(alias="chargePointId", max_length=CP_ID_MAX)
    ] = None,
    site_id: Annotated[
        str | None,
        Query(alias="siteId", max_length=64, description="Chargers now on it or below it."),
    ] = None,
    network_id: Annotated[
        str | None,
        Query(alias="networkId", max_length=64, description="Chargers now on its sites."),
    ] = None,
    evse_id: Annotated[int | None, Query(alias="evseId", ge=0)] = None,
    measurand: Annotated[str | None, Query(max_length=50)] = None,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: IdCursor = None,
) -> Envelope[ItemPage[StoredMeterValueOut]]:
    given = [
        name
        for name, value in (
            ("chargePointId", charge_point_id),
            ("siteId", site_id),
            ("networkId", network_id),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise Invalid(given[1], "give at most one of chargePointId, siteId and networkId")
    found = await ctx.transactions.query_meter_values(
        Page(limit, starting_after),
        start=start,
        end=end,
        cp_id=charge_point_id,
        site_ids=await ctx.sites.scope(site_id=site_id, network_id=network_id),
        evse_id=evse_id,
        measurand=measurand,
    )
    return Envelope(data=ItemPage.of(found, StoredMeterValueOut.from_domain))


@router.get(
    "/charge-points/{cp_id}/security-events",
    summary="The charger's security events, newest first",
    description="Newest first by the charger's time (`timestamp`), within `[start, end)` when "
    "given.",
)
async def list_security_events(
    ctx: Ctx,
    cp_id: CpId,
    start: Start = None,
    end: End = None,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: IdCursor = None,
) -> Envelope[ItemPage[SecurityEventOut]]:
    await _known(ctx, cp_id)
    found = await ctx.reports.security_events(cp_id, Page(limit, starting_after), start, end)
    return Envelope(data=ItemPage.of(found, SecurityEventOut.from_domain))


@router.get(
    "/charge-points/{cp_id}/events",
    summary="What the charger reported (2.0.1 NotifyEvent, 1.6 StatusNotification errors)",
    description="Newest first by the charger's time (`timestamp`), within `[start, end)` when "
    "given. `source` tells which message reported it.",
)
async def list_events(
    ctx: Ctx,
    cp_id: CpId,
    start: Start = None,
    end: End = None,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: IdCursor = None,
) -> Envelope[ItemPage[ChargerEventOut]]:
    await _known(ctx, cp_id)
    found = await ctx.reports.events(cp_id, Page(limit, starting_after), start, end)
    return Envelope(data=ItemPage.of(found, ChargerEventOut.from_domain))


async def _known(ctx: Ctx, cp_id: str) -> None:
    if await ctx.chargers.get(cp_id) is None:
        raise ApiError(404, "not_found", f"charge point {cp_id!r} not found")
