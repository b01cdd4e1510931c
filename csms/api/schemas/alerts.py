"""Alerts (API.md "Monitoring")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from csms.api.schemas.base import ApiModel, RequestModel, Timestamp
from csms.domain.alerts import Alert, AlertCategory, AlertName, AlertStatus, Urgency

__all__ = ["AlertOut", "AlertPatch"]

NOTES_MAX = 2000


class AlertOut(ApiModel):
    id: int = Field(description="Newest alerts have the highest ids; list cursors are these.")
    name: AlertName
    category: AlertCategory = Field(description="Follows from the name.")
    urgency: Urgency = Field(description="Follows from the name.")
    status: AlertStatus = Field(
        description="Triggered, then Acknowledged by an operator (optional), then Resolved by "
        "its cause going away or by an operator; Resolved is final."
    )
    charge_point_id: str
    evse_id: int | None = Field(description="Set when the cause is an EVSE's (a connector).")
    connector_id: int | None
    triggered_at: Timestamp
    acknowledged_at: Timestamp | None
    acknowledged_by: str | None = Field(description="The acknowledging token's label (or id).")
    resolved_at: Timestamp | None
    resolved_by: str | None = Field(
        description="The resolving token's label (or id); null when its cause went away."
    )
    notes: str | None
    details: dict[str, Any] = Field(
        description="The latest cause (depends on the name), with `count` (how often it was "
        "seen while this alert was open) and `lastSeenAt`."
    )

    @classmethod
    def from_domain(cls, alert: Alert) -> AlertOut:
        return cls(
            id=alert.id,
            name=alert.name,
            category=alert.category,
            urgency=alert.urgency,
            status=alert.status,
            charge_point_id=alert.charge_point_id,
            evse_id=alert.evse_id,
            connector_id=alert.connector_id,
            triggered_at=alert.triggered_at,
            acknowledged_at=alert.acknowledged_at,
            acknowledged_by=alert.acknowledged_by,
            resolved_at=alert.resolved_at,
            resolved_by=alert.resolved_by,
            notes=alert.notes,
            details=dict(alert.details),
        )


class AlertPatch(RequestModel):
    status: Literal["Acknowledged", "Resolved"] = Field(
        description="Acknowledged keeps the alert open (again: only the notes change); Resolved "
        "closes it. A Resolved alert cannot change any more (422)."
    )
    notes: str | None = Field(
        default=None,
        max_length=NOTES_MAX,
        description="Replaces the alert's notes; null clears them, absent leaves them.",
    )
