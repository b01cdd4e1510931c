"""Rows of the alerts table, shared by both backends: columns in one order, and the mapping to
and from domain records (with the backend's csms.store.asset_rows.Conversions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from csms.domain.alerts import Alert, AlertCategory, AlertName, AlertStatus, Urgency
from csms.store.asset_rows import Conversions

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_INSERT_COLUMNS",
    "ALERT_UPDATE_COLUMNS",
    "alert_from_row",
    "alert_insert_values",
    "alert_update_values",
]

ALERT_COLUMNS = (
    "id, name, category, urgency, status, charge_point_id, evse_id, connector_id, triggered_at,"
    " details, acknowledged_at, acknowledged_by, resolved_at, resolved_by, notes"
)
ALERT_INSERT_COLUMNS = tuple(c.strip() for c in ALERT_COLUMNS.split(","))[1:]
"""What an insert writes: every column but the id, which the database numbers."""
ALERT_UPDATE_COLUMNS = (
    "status",
    "details",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "resolved_by",
    "notes",
)
"""What changes after an alert is raised; its name, target and trigger time never do."""


def _optional_time(value: Any, c: Conversions) -> Any:
    return None if value is None else c.time(value)


def _optional_stamp(value: Any, c: Conversions) -> Any:
    return None if value is None else c.stamp(value)


def alert_from_row(row: Sequence[Any], c: Conversions) -> Alert:
    """A row of ALERT_COLUMNS."""
    return Alert(
        id=row[0],
        name=AlertName(row[1]),
        category=AlertCategory(row[2]),
        urgency=Urgency(row[3]),
        status=AlertStatus(row[4]),
        charge_point_id=row[5],
        evse_id=row[6],
        connector_id=row[7],
        triggered_at=c.time(row[8]),
        details=c.json(row[9]),
        acknowledged_at=_optional_time(row[10], c),
        acknowledged_by=row[11],
        resolved_at=_optional_time(row[12], c),
        resolved_by=row[13],
        notes=row[14],
    )


def alert_update_values(alert: Alert, c: Conversions) -> tuple[Any, ...]:
    """The values of ALERT_UPDATE_COLUMNS."""
    return (
        alert.status.value,
        c.to_json(dict(alert.details)),
        _optional_stamp(alert.acknowledged_at, c),
        alert.acknowledged_by,
        _optional_stamp(alert.resolved_at, c),
        alert.resolved_by,
        alert.notes,
    )


def alert_insert_values(alert: Alert, c: Conversions) -> tuple[Any, ...]:
    """The values of ALERT_INSERT_COLUMNS."""
    return (
        alert.name.value,
        alert.category.value,
        alert.urgency.value,
        alert.status.value,
        alert.charge_point_id,
        alert.evse_id,
        alert.connector_id,
        c.stamp(alert.triggered_at),
        c.to_json(dict(alert.details)),
        _optional_stamp(alert.acknowledged_at, c),
        alert.acknowledged_by,
        _optional_stamp(alert.resolved_at, c),
        alert.resolved_by,
        alert.notes,
    )
