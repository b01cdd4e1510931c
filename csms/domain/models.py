"""Version-neutral records: charge point → EVSEs → connectors, transactions, meter samples.

1.6 connector N is stored as EVSE N / connector N (connector 0 is the charge point itself), so the
API shows both versions in the same shape and a 1.6 connectorId reads the same in either field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "EXCHANGE_WINDOW_MS",
    "ApiToken",
    "BootInfo",
    "ChargePoint",
    "ChargerReport",
    "CommandOutcome",
    "CommandRecord",
    "ConfigurationKey",
    "ConnectorState",
    "Credentials",
    "DeviceVariable",
    "IdTag",
    "IdTagStatus",
    "LoggedFrame",
    "MessageExchange",
    "MeterSample",
    "NewIdTag",
    "OcppMessage",
    "Reservation",
    "Role",
    "StoredChargingProfile",
    "StoredSample",
    "TokenSource",
]


class Role(StrEnum):
    """What a token may do: a viewer reads, an operator does everything but the admin-only
    writes (the model catalogue, API tokens, and later webhooks and the CA), an admin all."""

    ADMIN = "admin"
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
    boot_answer: str | None  # what the next boot will be told; None = the configured default
    boot_status: str | None  # what the last boot was told; None before the first boot
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
    model_id: str | None = None
    external_id: str | None = None
    # Let in by [ocpp] allow_unknown_chargers; no operator has decided about it yet.
    auto_registered: bool = False
    # In a cluster: the node holding its live connection (ADR 013); None when not connected.
    node_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewIdTag:
    """An id-tag as an operator registers it; adding it stamps the times (``stored``)."""

    uid: str
    status: IdTagStatus = IdTagStatus.ENABLED
    # The 2.0.1 idToken type. None (the usual case: a card registered by its UID) matches the
    # value whatever type the charger presents; see csms.domain.authorization.matches.
    type: str | None = None
    expire_at: datetime | None = None
    parent_id_tag: str | None = None
    label: str | None = None
    user_id: str | None = None
    external_id: str | None = None

    def stored(self, created_at: datetime) -> IdTag:
        """The record as added: last updated when it was created."""
        return IdTag(
            uid=self.uid,
            status=self.status,
            type=self.type,
            expire_at=self.expire_at,
            parent_id_tag=self.parent_id_tag,
            label=self.label,
            user_id=self.user_id,
            external_id=self.external_id,
            created_at=created_at,
            last_updated_at=created_at,
        )


@dataclass(frozen=True, slots=True)
class IdTag:
    """An id-tag as stored. The times are keyword-only so that the rules' tests can build a tag
    from the fields they are about."""

    uid: str
    status: IdTagStatus = IdTagStatus.ENABLED
    type: str | None = None
    expire_at: datetime | None = None
    parent_id_tag: str | None = None
    label: str | None = None
    user_id: str | None = None
    external_id: str | None = None
    created_at: datetime = field(kw_only=True)
    last_updated_at: datetime = field(kw_only=True)


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
class StoredSample:
    """A meter sample as stored, with where it came from: the charger's transactionId when the
    sample belongs to a transaction (a 2.0.1 one is unique only per charger)."""

    id: int
    charge_point_id: str
    evse_id: int
    connector_id: int
    transaction_id: str | None
    sample: MeterSample


class TokenSource(StrEnum):
    """Where an API token came from. Only ``config`` tokens are managed by the config file: one
    removed from it is deleted at the next start."""

    CONFIG = "config"
    CLI = "cli"
    API = "api"


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An operator API token's record; the token itself is never kept, only its hash."""

    id: str  # "tok_" + random hex: never a plain number, never derived from the token
    role: Role
    label: str | None
    source: TokenSource
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def name(self) -> str:
        """Who the token is for, as the command audit trail records it."""
        return self.label or self.id

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True, slots=True)
class OcppMessage:
    id: int
    charge_point_id: str
    direction: str
    message_type: str
    unique_id: str | None
    action: str | None
    payload: object
    timestamp: datetime
    extra: dict[str, object] = field(default_factory=dict)


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


@dataclass(frozen=True, slots=True)
class Credentials:
    password_hash: str | None
    security_profile: int
    auto_registered: bool = False


@dataclass(frozen=True, slots=True)
class ChargerReport:
    id: int
    charge_point_id: str
    kind: str
    timestamp: datetime  # the charger's, when the report carries one
    data: dict[str, Any]
    received_at: datetime | None = None  # None: stored before receipt times were kept


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    state: str  # completed | failed
    completed_at: datetime
    duration_ms: float
    status: str | None = None
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


EXCHANGE_WINDOW_MS = 5_000
"""The message log pairs an answer with its CALL when it comes within this many milliseconds;
a later answer is logged on its own."""


@dataclass(frozen=True, slots=True)
class LoggedFrame:
    """One frame as sent or received; ``frame`` is its raw JSON text (secrets redacted)."""

    direction: str  # "in" | "out"
    message_type: int  # 2 Call, 3 CallResult, 4 CallError, 0 not OCPP-J
    timestamp: datetime
    frame: str


@dataclass(frozen=True, slots=True)
class MessageExchange:
    """One entry of the message log: a CALL with its answer, or a frame that has no partner
    (a malformed frame, a late answer, a CALL still unanswered when it was written)."""

    charge_point_id: str
    unique_id: str | None
    action: str | None
    first: LoggedFrame
    answer: LoggedFrame | None = None
