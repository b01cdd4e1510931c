"""The live event stream (Server-Sent Events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from csms.api.deps import Ctx
from csms.domain.clock import format_timestamp
from csms.domain.events import data_json

__all__ = ["router"]

router = APIRouter(tags=["events"])


@router.get(
    "/events",
    response_class=EventSourceResponse,
    summary="Live events (text/event-stream)",
    description="`charger.connected`, `charger.disconnected`, `connector.status`, "
    "`transaction.started`, `transaction.updated`, `transaction.ended`, `meter.values`, "
    "`firmware.status`, `command.completed`, `alert.triggered`, `alert.updated`, "
    "`alert.resolved` (their data: the alert as `GET /alerts/{id}` answers it), "
    "`loadmanagement.allocated`, `loadmanagement.unmanaged` (and `report.completed`, "
    "`charger.*` reports). "
    "Each event's `data` is `{type, chargePointId, timestamp, ...}`. A client that reads too "
    "slowly loses its oldest events (a `stream.lagged` event says how many) rather than slowing "
    "the chargers down.",
)
async def stream_events(
    ctx: Ctx,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId")] = None,
) -> AsyncIterator[ServerSentEvent]:
    async with ctx.events.subscribe(charge_point_id) as subscription:
        reported_drops = 0
        while True:
            event = await subscription.get()
            if subscription.dropped > reported_drops:
                yield ServerSentEvent(
                    event="stream.lagged", data={"dropped": subscription.dropped - reported_drops}
                )
                reported_drops = subscription.dropped
            yield ServerSentEvent(
                event=event.type,
                data={
                    "type": event.type,
                    "chargePointId": event.charge_point_id,
                    "timestamp": format_timestamp(event.at),
                    **data_json(event.data),
                },
            )
