"""Connectivity and uptime KPIs over a window, and as time series (API.md "Monitoring").

The window is ``[start, end)``, the last 7 days by default (``start`` alone: the 7 days from
it). At most one of ``chargePointId``, ``siteId`` (its whole subtree) and ``networkId``; none
is every charger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from csms.api.deps import Ctx
from csms.api.schemas.base import CP_ID_MAX, Envelope, UtcDatetime
from csms.api.schemas.kpis import KpiOut, KpiPointOut, KpiSeriesOut, kpi_json
from csms.domain.kpis import Kpi, Resolution
from csms.services.kpis import KpiScope

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])

ChargePointId = Annotated[str | None, Query(alias="chargePointId", max_length=CP_ID_MAX)]
SiteId = Annotated[
    str | None, Query(alias="siteId", max_length=64, description="The site and those below it.")
]
NetworkId = Annotated[str | None, Query(alias="networkId", max_length=64)]
Start = Annotated[
    UtcDatetime | None, Query(description="Default: 7 days before `end` (no offset: UTC).")
]
End = Annotated[
    UtcDatetime | None, Query(description="Exclusive; default: now, or `start` + 7 days.")
]
ByConnector = Annotated[
    bool,
    Query(
        alias="aggregateByConnector",
        description="true: a charger's uptime is the mean of its connectors' (items per "
        "connector); false: the fraction of time at least one connector was up.",
    ),
]
Step = Annotated[Resolution, Query(description="The buckets' length.")]


def _scope(cp_id: str | None, site_id: str | None, network_id: str | None) -> KpiScope:
    return KpiScope(cp_id, site_id, network_id)


# A report's body is built directly (kpi_json); the schema is KpiOut's.
_REPORT: dict[int | str, dict[str, Any]] = {
    200: {"description": "Successful Response", "model": Envelope[KpiOut]}
}


async def _report(
    ctx: Ctx, kpi: Kpi, scope: KpiScope, start: datetime | None, end: datetime | None
) -> Response:
    found, since, until = await ctx.kpis.report(kpi, scope, start, end)
    body = orjson.dumps({"data": kpi_json(found, since, until)})
    return Response(body, media_type="application/json")


async def _series(
    ctx: Ctx,
    kpi: Kpi,
    scope: KpiScope,
    start: datetime | None,
    end: datetime | None,
    resolution: Resolution,
) -> Envelope[KpiSeriesOut]:
    found = await ctx.kpis.series(kpi, scope, start, end, resolution)
    points = [KpiPointOut(time=time, value=value) for time, value in found.points]
    return Envelope(
        data=KpiSeriesOut(
            start=found.start, end=found.end, resolution=resolution.value, points=points
        )
    )


@router.get(
    "/kpis/connectivity",
    summary="The fraction of the window chargers were connected",
    response_class=Response,
    responses=_REPORT,
)
async def connectivity(
    ctx: Ctx,
    charge_point_id: ChargePointId = None,
    site_id: SiteId = None,
    network_id: NetworkId = None,
    start: Start = None,
    end: End = None,
) -> Response:
    return await _report(
        ctx, Kpi.CONNECTIVITY, _scope(charge_point_id, site_id, network_id), start, end
    )


@router.get(
    "/kpis/uptime",
    summary="The fraction of the window connectors could charge",
    response_class=Response,
    responses=_REPORT,
)
async def uptime(
    ctx: Ctx,
    charge_point_id: ChargePointId = None,
    site_id: SiteId = None,
    network_id: NetworkId = None,
    start: Start = None,
    end: End = None,
    by_connector: ByConnector = True,
) -> Response:
    kpi = Kpi.uptime(by_connector)
    return await _report(ctx, kpi, _scope(charge_point_id, site_id, network_id), start, end)


@router.get("/kpis/connectivity/series", summary="Connectivity per bucket of the window")
async def connectivity_series(
    ctx: Ctx,
    charge_point_id: ChargePointId = None,
    site_id: SiteId = None,
    network_id: NetworkId = None,
    start: Start = None,
    end: End = None,
    resolution: Step = Resolution.HOUR,
) -> Envelope[KpiSeriesOut]:
    scope = _scope(charge_point_id, site_id, network_id)
    return await _series(ctx, Kpi.CONNECTIVITY, scope, start, end, resolution)


@router.get("/kpis/uptime/series", summary="Uptime per bucket of the window")
async def uptime_series(
    ctx: Ctx,
    charge_point_id: ChargePointId = None,
    site_id: SiteId = None,
    network_id: NetworkId = None,
    start: Start = None,
    end: End = None,
    by_connector: ByConnector = True,
    resolution: Step = Resolution.HOUR,
) -> Envelope[KpiSeriesOut]:
    scope = _scope(charge_point_id, site_id, network_id)
    return await _series(ctx, Kpi.uptime(by_connector), scope, start, end, resolution)
