"""The OCPP message log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from csms.api.schemas.base import ApiModel, Timestamp
from csms.domain.models import OcppMessage

__all__ = [
    "OcppMessageOut",
]


class OcppMessageOut(ApiModel):
    id: int
    charge_point_id: str
    direction: Literal["in", "out"]
    message_type: str = Field(description="Call | CallResult | CallError")
    unique_id: str | None
    action: str | None
    payload: Any = Field(
        description="The frame's payload (a CallError's is "
        "`{errorCode, errorDescription, errorDetails}`)."
    )
    timestamp: Timestamp

    @classmethod
    def from_domain(cls, message: OcppMessage) -> OcppMessageOut:
        return cls(
            id=message.id,
            charge_point_id=message.charge_point_id,
            direction="in" if message.direction == "in" else "out",
            message_type=message.message_type,
            unique_id=message.unique_id,
            action=message.action,
            payload=message.payload,
            timestamp=message.timestamp,
        )
