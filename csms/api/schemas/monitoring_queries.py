"""Stored meter values across chargers, and what a charger reported about itself."""

from __future__ import annotations

from pydantic import Field

from csms.api.schemas.base import ApiModel, Timestamp
from csms.api.schemas.transactions import sample_value
from csms.domain.charger_events import ChargerEvent, EventSource, SecurityEvent
from csms.domain.models import StoredSample

__all__ = ["ChargerEventOut", "SecurityEventOut", "StoredMeterValueOut"]

_CURSOR = "The cursor: pass the last one as `startingAfter`."
_RECEIVED = "When the central system received it; null for reports stored before this was kept."


class StoredMeterValueOut(ApiModel):
    id: int = Field(description=_CURSOR)
    charge_point_id: str
    evse_id: int
    connector_id: int
    transaction_id: str | None = Field(
        description="The charger's transactionId when the sample belongs to a transaction "
        "(a 2.0.1 one is unique only per charge point)."
    )
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
    def from_domain(cls, stored: StoredSample) -> StoredMeterValueOut:
        sample = stored.sample
        return cls(
            id=stored.id,
            charge_point_id=stored.charge_point_id,
            evse_id=stored.evse_id,
            connector_id=stored.connector_id,
            transaction_id=stored.transaction_id,
            timestamp=sample.timestamp,
            measurand=sample.measurand,
            phase=sample.phase or None,
            unit=sample.unit,
            value=sample_value(sample),
            context=sample.context,
            location=sample.location,
        )


class SecurityEventOut(ApiModel):
    id: int = Field(description=_CURSOR)
    type: str = Field(description="As the charger named it (OCPP Security events list).")
    timestamp: Timestamp = Field(description="When it happened, by the charger's clock.")
    tech_info: str | None
    received_at: Timestamp | None = Field(description=_RECEIVED)

    @classmethod
    def from_domain(cls, event: SecurityEvent) -> SecurityEventOut:
        return cls(
            id=event.id,
            type=event.type,
            timestamp=event.timestamp,
            tech_info=event.tech_info,
            received_at=event.received_at,
        )


class ChargerEventOut(ApiModel):
    """One shape for both sources; the fields of the other source are null."""

    id: int = Field(description=_CURSOR)
    source: EventSource = Field(
        description="`NotifyEvent`: one EventData of a 2.0.1 NotifyEvent. `StatusNotification`: "
        "a 1.6 StatusNotification with an errorCode other than NoError, or a vendorErrorCode."
    )
    timestamp: Timestamp = Field(description="When it happened, by the charger's clock.")
    received_at: Timestamp | None = Field(description=_RECEIVED)
    evse_id: int | None = Field(description="2.0.1: the component's EVSE; 1.6: the connectorId.")
    connector_id: int | None
    event_id: int | None = Field(description="NotifyEvent: the charger's eventId.")
    trigger: str | None = Field(description="NotifyEvent: Alerting, Delta or Periodic.")
    cause: int | None = Field(description="NotifyEvent: the eventId of the event that caused it.")
    event_notification_type: str | None = Field(
        description="NotifyEvent: HardWiredNotification, HardWiredMonitor, PreconfiguredMonitor "
        "or CustomMonitor."
    )
    component: str | None
    component_instance: str | None
    variable: str | None
    variable_instance: str | None
    actual_value: str | None
    tech_code: str | None
    tech_info: str | None
    cleared: bool | None = Field(description="NotifyEvent: the condition has returned to normal.")
    transaction_id: str | None
    variable_monitoring_id: int | None
    status: str | None = Field(description="StatusNotification: the connector's status.")
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None

    @classmethod
    def from_domain(cls, event: ChargerEvent) -> ChargerEventOut:
        return cls(
            id=event.id,
            source=event.source,
            timestamp=event.timestamp,
            received_at=event.received_at,
            evse_id=event.evse_id,
            connector_id=event.connector_id,
            event_id=event.event_id,
            trigger=event.trigger,
            cause=event.cause,
            event_notification_type=event.notification_type,
            component=event.component,
            component_instance=event.component_instance,
            variable=event.variable,
            variable_instance=event.variable_instance,
            actual_value=event.actual_value,
            tech_code=event.tech_code,
            tech_info=event.tech_info,
            cleared=event.cleared,
            transaction_id=event.transaction_id,
            variable_monitoring_id=event.variable_monitoring_id,
            status=event.status,
            error_code=event.error_code,
            info=event.info,
            vendor_id=event.vendor_id,
            vendor_error_code=event.vendor_error_code,
        )
