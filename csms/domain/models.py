"""Version-neutral records: charge point → EVSEs → connectors, transactions, meter samples.

1.6 connector N is stored as EVSE N / connector N (connector 0 is the charge point itself), so the
API shows both versions in the same shape and a 1.6 connectorId reads the same in either field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "ApiToken",
    "BootInfo",
    "ChargePoint",
    "CommandRecord",
    "ConfigurationKey",
    "ConnectorState",
    "DeviceVariable",
    "IdTag",
    "IdTagStatus",
    "MeterSample",
    "OcppMessage",
    "Reservation",
    "Role",
    "StoredChargingProfile",
    "Transaction",
    "TransactionEvent",
    "TransactionEventOutcome",
    "TransactionStart",
    "TransactionStop",
]


class Role(StrEnum):
    OPERATOR = "operator"
    VIEWER = "viewer"


class IdTagStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class BootInfo:
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectorState:
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    updated_at: datetime
    info: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChargePoint:
    id: str
    name: str | None
    security_profile: int
    site_id: str | None
    has_password: bool
    registration_status: str | None  # operator override; None = the configured default
    ocpp_version: str | None
    boot_accepted: bool
    boot_info: BootInfo
    firmware_status: str | None
    diagnostics_status: str | None
    connected: bool
    connected_since: datetime | None
    last_seen_at: datetime | None
    created_at: datetime
    connectors: tuple[ConnectorState, ...] = ()
    active_transactions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IdTag:
    uid: str
    status: IdTagStatus = IdTagStatus.ENABLED
    type: str = "Central"
    expire_at: datetime | None = None
    parent_id_tag: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class MeterSample:
    timestamp: datetime
    value: str
    measurand: str = "Energy.Active.Import.Register"
    unit: str = "Wh"
    context: str = "Sample.Periodic"
    location: str = "Outlet"
    phase: str | None = None
    format: str = "Raw"


@dataclass(frozen=True, slots=True)
class TransactionStart:
    charge_point_id: str
    evse_id: int
    connector_id: int
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float | None
    # 2.0.1 chargers choose the id; 1.6 ids are ours (None here).
    transaction_id: str | None = None
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionStop:
    charge_point_id: str
    transaction_id: str
    stopped_at: datetime
    meter_stop_wh: float | None
    reason: str | None
    id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    pk: int
    transaction_id: str
    charge_point_id: str
    evse_id: int
    connector_id: int
    id_tag: str | None
    status: str  # "active" | "completed"
    started_at: datetime
    stopped_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    stop_reason: str | None

    @property
    def energy_wh(self) -> float | None:
        if self.meter_start_wh is None or self.meter_stop_wh is None:
            return None
        return self.meter_stop_wh - self.meter_start_wh


@dataclass(frozen=True, slots=True)
class ApiToken:
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class OcppMessage:
    id: int
    charge_point_id: str
    direction: str
    message_type: str
    unique_id: str
    action: str | None
    payload: object
    timestamp: datetime
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """One OCPP 2.0.1 TransactionEvent, already translated to our vocabulary."""

    charge_point_id: str
    transaction_id: str
    event_type: str  # Started | Updated | Ended
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    offline: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    id_tag: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    energy_register_wh: float | None = None


@dataclass(frozen=True, slots=True)
class TransactionEventOutcome:
    transaction: Transaction
    created: bool  # the first event seen of this transaction
    duplicate: bool  # this seqNo was already recorded: nothing changed
    missing_seq_nos: tuple[int, ...] = ()  # gaps below the highest seqNo seen


@dataclass(frozen=True, slots=True)
class DeviceVariable:
    """One attribute of one variable of the charger's device model (OCPP 2.0.1 NotifyReport)."""

    component: str
    variable: str
    attribute_type: str = "Actual"
    value: str | None = None
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str | None = None
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    data_type: str | None = None
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: str | None = None


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """One operator command in the audit trail."""

    id: int
    charge_point_id: str
    action: str
    requested_by: str
    request: dict[str, object]
    state: str  # pending | completed | failed
    created_at: datetime
    ocpp_action: str | None = None
    ocpp_payload: dict[str, object] | None = None
    status: str | None = None
    response: dict[str, object] | None = None
    error: dict[str, object] | None = None
    completed_at: datetime | None = None
    duration_ms: float | None = None


@dataclass(frozen=True, slots=True)
class StoredChargingProfile:
    charge_point_id: str
    profile_id: int
    evse_id: int
    purpose: str
    stack_level: int
    transaction_id: str | None
    profile: dict[str, object]
    set_at: datetime


@dataclass(frozen=True, slots=True)
class Reservation:
    charge_point_id: str
    reservation_id: int
    evse_id: int
    connector_id: int
    id_tag: str
    expires_at: datetime
    status: str  # active | used | cancelled | expired | removed
    created_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConfigurationKey:
    key: str
    value: str | None
    readonly: bool | None
    updated_at: datetime
