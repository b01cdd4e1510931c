"""What a charger reported about itself, as the API lists it (newest first): security events,
and events (2.0.1 NotifyEvent, one per EventData; 1.6 StatusNotification errors).

They are kept as charger reports, one row per event with the charger's time, each as the charger
sent it (a NotifyEvent's EventData with the message's ``generatedAt`` and ``seqNo`` beside it); here
they are read into one version-neutral shape. Reading is lenient: a field of an unexpected type is
left out rather than failing the whole list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from csms.domain.errors import Invalid
from csms.domain.models import ChargerReport

__all__ = [
    "EVENT_KINDS",
    "NOTIFY_EVENT",
    "SECURITY_EVENT",
    "STATUS_ERROR",
    "ChargerEvent",
    "EventSource",
    "SecurityEvent",
    "charger_event",
    "check_window",
    "is_connector_error",
    "security_event",
]

# Report kinds (csms.store ChargerReportStore).
SECURITY_EVENT = "security_event"
NOTIFY_EVENT = "event"
STATUS_ERROR = "status_error"
EVENT_KINDS = (NOTIFY_EVENT, STATUS_ERROR)

_NO_ERROR = "NoError"


def is_connector_error(error_code: str | None, vendor_error_code: str | None) -> bool:
    """Whether a 1.6 StatusNotification is kept as an event: an errorCode other than NoError, or
    a vendorErrorCode (vendors report warnings that way, beside NoError)."""
    return (error_code is not None and error_code != _NO_ERROR) or bool(vendor_error_code)


def check_window(start: datetime | None, end: datetime | None) -> None:
    """An optional ``[start, end)``: either bound may be missing, but not be out of order."""
    if start is not None and end is not None and end <= start:
        raise Invalid("end", "end must be after start")


class EventSource(StrEnum):
    NOTIFY_EVENT = "NotifyEvent"
    STATUS_NOTIFICATION = "StatusNotification"


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    id: int
    type: str
    timestamp: datetime
    tech_info: str | None
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChargerEvent:
    """One shape for both sources; ``source`` says which fields it can have."""

    id: int
    source: EventSource
    timestamp: datetime
    received_at: datetime | None
    evse_id: int | None = None
    connector_id: int | None = None
    # NotifyEvent (EventDataType)
    event_id: int | None = None
    trigger: str | None = None
    cause: int | None = None
    notification_type: str | None = None
    component: str | None = None
    component_instance: str | None = None
    variable: str | None = None
    variable_instance: str | None = None
    actual_value: str | None = None
    tech_code: str | None = None
    tech_info: str | None = None
    cleared: bool | None = None
    transaction_id: str | None = None
    variable_monitoring_id: int | None = None
    # StatusNotification (1.6)
    status: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def security_event(report: ChargerReport) -> SecurityEvent:
    return SecurityEvent(
        id=report.id,
        type=_str(report.data, "type") or "",
        timestamp=report.timestamp,
        tech_info=_str(report.data, "techInfo"),
        received_at=report.received_at,
    )


def charger_event(report: ChargerReport) -> ChargerEvent:
    """A report of one of the ``EVENT_KINDS`` as an event."""
    data = report.data
    if report.kind == STATUS_ERROR:
        # 1.6 connector N is EVSE N (csms.domain.models).
        connector_id = _int(data, "connectorId")
        return ChargerEvent(
            id=report.id,
            source=EventSource.STATUS_NOTIFICATION,
            timestamp=report.timestamp,
            received_at=report.received_at,
            evse_id=connector_id,
            connector_id=connector_id,
            status=_str(data, "status"),
            error_code=_str(data, "errorCode"),
            info=_str(data, "info"),
            vendor_id=_str(data, "vendorId"),
            vendor_error_code=_str(data, "vendorErrorCode"),
        )
    component, variable = _dict(data, "component"), _dict(data, "variable")
    evse = _dict(component, "evse")
    cleared = data.get("cleared")
    return ChargerEvent(
        id=report.id,
        source=EventSource.NOTIFY_EVENT,
        timestamp=report.timestamp,
        received_at=report.received_at,
        evse_id=_int(evse, "id"),
        connector_id=_int(evse, "connectorId"),
        event_id=_int(data, "eventId"),
        trigger=_str(data, "trigger"),
        cause=_int(data, "cause"),
        notification_type=_str(data, "eventNotificationType"),
        component=_str(component, "name"),
        component_instance=_str(component, "instance"),
        variable=_str(variable, "name"),
        variable_instance=_str(variable, "instance"),
        actual_value=_str(data, "actualValue"),
        tech_code=_str(data, "techCode"),
        tech_info=_str(data, "techInfo"),
        cleared=cleared if isinstance(cleared, bool) else None,
        transaction_id=_str(data, "transactionId"),
        variable_monitoring_id=_int(data, "variableMonitoringId"),
    )
