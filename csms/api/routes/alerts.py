"""Alerts: what operators must look at, newest first, and their acknowledgement and resolution
(API.md "Monitoring"; docs/API.md "Alerts" says what raises and resolves each name)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query

from csms.api.auth import Caller
from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.errors import ApiError
from csms.api.schemas.alerts import AlertOut, AlertPatch
from csms.api.schemas.base import CP_ID_MAX, Envelope, ItemPage, UtcDatetime
from csms.domain.alerts import AlertFilter, AlertName, AlertStatus, Urgency
from csms.domain.paging import Page

__all__ = ["router"]

router = APIRouter(tags=["alerts"])

T = TypeVar("T")

AlertId = Annotated[int, Path(ge=1, description="The alert's id.")]


@router.get(
    "/alerts",
    summary="List alerts, newest first",
    description="Alerts triggered in the window (`start` inclusive, `end` exclusive; by "
    "`triggeredAt`): the last 24 h by default, the 24 h after a `start` given alone, the 24 h "
    "before an `end` given alone. `name`, `status` and `urgency` may be repeated "
    "(`?status=Triggered&status=Acknowledged`: the open ones); an unknown value is a 422.",
)
async def list_alerts(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        int | None,
        Query(alias="startingAfter", ge=0, description="The id of the last item seen."),
    ] = None,
    charge_point_id: Annotated[
        str | None, Query(alias="chargePointId", max_length=CP_ID_MAX)
    ] = None,
    site_id: Annotated[
        str | None,
        Query(
            alias="siteId",
            max_length=64,
            description="Of chargers now on this site or a site below it.",
        ),
    ] = None,
    name: Annotated[list[AlertName] | None, Query()] = None,
    status: Annotated[list[AlertStatus] | None, Query()] = None,
    urgency: Annotated[list[Urgency] | None, Query()] = None,
    start: Annotated[
        UtcDatetime | None, Query(description="Triggered at or after (no offset: UTC).")
    ] = None,
    end: Annotated[UtcDatetime | None, Query(description="Triggered before.")] = None,
) -> Envelope[ItemPage[AlertOut]]:
    if start is not None and end is not None and end <= start:
        raise ApiError(
            422,
            "validation_error",
            "end must be after start",
            {"errors": [_query_error("end", "end must be after start")]},
        )
    criteria = AlertFilter(
        charge_point_id=charge_point_id,
        site_ids=await ctx.sites.scope(site_id=site_id),
        names=_distinct(name),
        statuses=_distinct(status),
        urgencies=_distinct(urgency),
        start=start,
        end=end,
    )
    alerts = await ctx.alerts.list_alerts(Page(limit, starting_after), criteria)
    return Envelope(data=ItemPage.of(alerts, AlertOut.from_domain))


@router.get("/alerts/{alert_id}", summary="One alert")
async def get_alert(ctx: Ctx, alert_id: AlertId) -> Envelope[AlertOut]:
    return Envelope(data=AlertOut.from_domain(await ctx.alerts.get(alert_id)))


@router.patch(
    "/alerts/{alert_id}",
    summary="Acknowledge or resolve an alert (operator)",
    description="`Acknowledged` keeps it open; `Resolved` closes it (an alert whose cause "
    "persists is raised again, as a new alert, by the next report of that cause). A Resolved "
    "alert cannot change any more: 422 naming `status`. Publishes `alert.updated` or "
    "`alert.resolved`.",
)
async def update_alert(
    ctx: Ctx, caller: Caller, alert_id: AlertId, body: AlertPatch
) -> Envelope[AlertOut]:
    alert = await ctx.alerts.update(
        alert_id,
        AlertStatus(body.status),
        by=caller.name,
        notes=body.notes,
        notes_given="notes" in body.model_fields_set,
    )
    return Envelope(data=AlertOut.from_domain(alert))


def _distinct(values: list[T] | None) -> frozenset[T] | None:
    return None if not values else frozenset(values)


def _query_error(field: str, message: str) -> dict[str, str]:
    return {"location": "query", "field": field, "message": message, "type": "invalid"}
