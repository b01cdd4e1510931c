"""KPI reports and series."""

from __future__ import annotations

from pydantic import Field

from csms.api.schemas.base import ApiModel, Timestamp
from csms.domain.kpis import KpiItem

__all__ = ["KpiItemOut", "KpiOut", "KpiPointOut", "KpiSeriesOut"]


class KpiItemOut(ApiModel):
    charge_point_id: str
    evse_id: int | None = Field(default=None, description="Per connector only.")
    connector_id: int | None = Field(default=None, description="Per connector only.")
    value: float = Field(ge=0, le=1)

    @classmethod
    def from_domain(cls, item: KpiItem) -> KpiItemOut:
        return cls(
            charge_point_id=item.charge_point_id,
            evse_id=item.evse_id,
            connector_id=item.connector_id,
            value=item.value,
        )


class KpiOut(ApiModel):
    value: float | None = Field(
        description="0..1; the mean of the chargers' values; null when no charger was "
        "registered during the window."
    )
    start: Timestamp
    end: Timestamp
    items: list[KpiItemOut]


class KpiPointOut(ApiModel):
    time: Timestamp = Field(description="The bucket's start (UTC, aligned to the resolution).")
    value: float | None


class KpiSeriesOut(ApiModel):
    start: Timestamp
    end: Timestamp
    resolution: str
    points: list[KpiPointOut]
