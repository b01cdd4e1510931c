"""Transactions and their meter values."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from csms.api.schemas.base import ApiModel, Timestamp
from csms.domain.models import MeterSample
from csms.domain.transactions import Transaction

__all__ = [
    "MeterValueOut",
    "TransactionOut",
    "sample_value",
]


class TransactionOut(ApiModel):
    id: str = Field(
        description="CSMS-wide unique, never a plain number; list cursors are these.",
        examples=["tx_42"],
    )
    transaction_id: str = Field(
        description="The charger's (2.0.1) or ours (1.6, an integer as a string); a 2.0.1 "
        "transactionId is unique only per charge point."
    )
    charge_point_id: str
    evse_id: int
    connector_id: int
    id_tag: str | None
    status: Literal["active", "completed"]
    started_at: Timestamp
    stopped_at: Timestamp | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float | None = Field(
        description="meterStopWh - meterStartWh; null until both are known."
    )
    stop_reason: str | None
    priority: float | None = Field(
        description="The session's own load-management priority, overriding its charger's on "
        "its circuit; null: its charger's."
    )

    @classmethod
    def from_domain(cls, tx: Transaction) -> TransactionOut:
        return cls(
            id=tx.id,
            transaction_id=tx.transaction_id,
            charge_point_id=tx.charge_point_id,
            evse_id=tx.evse_id,
            connector_id=tx.connector_id,
            id_tag=tx.id_tag,
            status="active" if tx.active else "completed",
            started_at=tx.started_at,
            stopped_at=tx.stopped_at,
            meter_start_wh=tx.meter_start_wh,
            meter_stop_wh=tx.meter_stop_wh,
            energy_wh=tx.energy_wh,
            stop_reason=tx.stop_reason,
            priority=tx.priority,
        )


def sample_value(sample: MeterSample) -> float | str:
    """A Raw sample that reads as a finite number is a number; anything else stays a string."""
    if sample.format == "Raw":
        try:
            number = float(sample.value)
        except ValueError:
            return sample.value
        if math.isfinite(number):
            return number
    return sample.value


class MeterValueOut(ApiModel):
    id: int
    timestamp: Timestamp
    measurand: str
    phase: str | None
    unit: str
    value: float | str = Field(
        description="A number, or the charger's string when it is not one (e.g. SignedData)."
    )
    context: str
    location: str

    @classmethod
    def from_domain(cls, sample_id: int, sample: MeterSample) -> MeterValueOut:
        return cls(
            id=sample_id,
            timestamp=sample.timestamp,
            measurand=sample.measurand,
            phase=sample.phase or None,
            unit=sample.unit,
            value=sample_value(sample),
            context=sample.context,
            location=sample.location,
        )
