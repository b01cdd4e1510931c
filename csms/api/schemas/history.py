"""The connection and status history of a charger."""

from __future__ import annotations

from pydantic import Field

from csms.api.schemas.base import ApiModel, Timestamp
from csms.domain.history import ConnectionInterval, StatusInterval

__all__ = ["ConnectionOut", "StatusIntervalOut"]


class ConnectionOut(ApiModel):
    id: int = Field(description="The cursor: pass the last one as `startingAfter`.")
    connected_at: Timestamp
    disconnected_at: Timestamp | None = Field(description="Absent while still connected.")
    reason: str | None = Field(
        description="Why it ended: the websocket close (`normal_closure`, `going_away`, "
        "`connection_lost`, ...), `replaced` by a newer connection of the same charger, or "
        "`server_stopped` (closed at the next start, when the charger was last heard)."
    )

    @classmethod
    def from_domain(cls, interval_id: int, interval: ConnectionInterval) -> ConnectionOut:
        return cls(
            id=interval_id,
            connected_at=interval.connected_at,
            disconnected_at=interval.disconnected_at,
            reason=interval.reason,
        )


class StatusIntervalOut(ApiModel):
    id: int = Field(description="The cursor: pass the last one as `startingAfter`.")
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    from_: Timestamp = Field(alias="from", description="When the connector reported it.")
    to: Timestamp | None = Field(description="When the next status replaced it; absent: now.")

    @classmethod
    def from_domain(cls, interval_id: int, interval: StatusInterval) -> StatusIntervalOut:
        # ``from`` is a keyword: the field is filled by its alias.
        return cls.model_validate(
            {
                "id": interval_id,
                "evseId": interval.evse_id,
                "connectorId": interval.connector_id,
                "status": interval.status,
                "errorCode": interval.error_code,
                "from": interval.started_at,
                "to": interval.ended_at,
            }
        )
