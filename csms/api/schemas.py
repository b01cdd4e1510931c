"""Request and response bodies of the operator API (camelCase on the wire).

Responses are built from the domain records by the ``from_domain`` constructors; timestamps leave
as ``format_timestamp`` renders them (UTC, milliseconds, ``Z``). Request bodies reject unknown
fields, so a misspelt field is a 422 instead of a silent no-op.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import ComputedFieldInfo, FieldInfo

from csms.domain.clock import format_timestamp
from csms.domain.models import (
    CommandRecord,
    ConnectorState,
    DeviceVariable,
    IdTag,
    IdTagStatus,
    MeterSample,
    OcppMessage,
)
from csms.domain.paging import Paged
from csms.domain.transactions import Transaction

__all__ = [
    "ChargePointCreate",
    "ChargePointOut",
    "ChargePointUpdate",
    "ConnectorOut",
    "Envelope",
    "ErrorEnvelope",
    "EvseOut",
    "HealthOut",
    "IdTagCreate",
    "IdTagOut",
    "IdTagUpdate",
    "ItemPage",
    "MeterValueOut",
    "OcppMessageOut",
    "RegistrationStatus",
    "TransactionOut",
    "group_connectors",
    "sample_value",
]

T = TypeVar("T")
S = TypeVar("S")

CP_ID_MAX = 48
ID_TAG_MAX = 36

Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2025-01-31T12:00:00.000Z"]},
        mode="serialization",
    ),
]
"""An outgoing timestamp: ISO 8601, UTC, milliseconds, ``Z``."""


def _to_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
"""An incoming timestamp: ISO 8601 with an offset; one without an offset is taken as UTC."""


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _optional(**kwargs: Any) -> Any:
    """A PATCH field that may be absent (left unchanged) but not null.

    The default is never validated, so an absent field reads None while an explicit ``null``
    fails the non-nullable type; the route only looks at fields in ``model_fields_set``.
    """
    return Field(default=None, json_schema_extra=_drop_default, **kwargs)


def _title(name: str, info: FieldInfo | ComputedFieldInfo) -> str:
    return info.alias or to_camel(name)


class ApiModel(BaseModel):
    """A response body."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        field_title_generator=_title,
    )


class RequestModel(BaseModel):
    """A request body: camelCase only, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        extra="forbid",
        field_title_generator=_title,
    )


# --- envelopes ---


class Envelope(ApiModel, Generic[T]):
    data: T


class ItemPage(ApiModel, Generic[T]):
    items: list[T]
    has_more: bool = Field(
        description="True when more items follow; pass the last item's id as "
        "`startingAfter` to read them."
    )

    @classmethod
    def of(cls, paged: Paged[S], convert: Callable[[S], T]) -> ItemPage[T]:
        return cls(items=[convert(item) for item in paged.items], has_more=paged.has_more)


class ErrorBody(ApiModel):
    code: str = Field(examples=["not_found"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(ApiModel):
    error: ErrorBody


class HealthOut(ApiModel):
    status: Literal["ok"]
    chargers_connected: int
    version: str


# --- charge points ---

RegistrationStatus = Literal["Accepted", "Pending", "Rejected"]
SecurityProfile = Literal[0, 1, 2, 3]
ChargePointId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=CP_ID_MAX,
        pattern=r"^[^/]+$",
        description="The OCPP identity: the last path segment of the charger's websocket URL "
        f"(1 to {CP_ID_MAX} characters, no `/`). Case-insensitive.",
    ),
]
Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=64,
        description="HTTP Basic password for security profiles 1 and 2 (8 to 64 characters). "
        "Stored hashed, never returned.",
    ),
]
Name = Annotated[str, Field(max_length=255)]
SiteId = Annotated[str, Field(max_length=64)]


class BootInfoOut(ApiModel):
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None


class ConnectorOut(ApiModel):
    connector_id: int
    status: str
    error_code: str | None
    updated_at: Timestamp
    info: str | None = None
    vendor_error_code: str | None = None

    @classmethod
    def from_domain(cls, state: ConnectorState) -> ConnectorOut:
        return cls(
            connector_id=state.connector_id,
            status=state.status,
            error_code=state.error_code,
            updated_at=state.updated_at,
            info=state.info,
            vendor_error_code=state.vendor_error_code,
        )


class EvseOut(ApiModel):
    evse_id: int = Field(description="0 is the charging station itself (1.6 connector 0).")
    connectors: list[ConnectorOut]


def group_connectors(states: tuple[ConnectorState, ...]) -> list[EvseOut]:
    """Connector states → EVSEs sorted by evseId, their connectors by connectorId."""
    evses: dict[int, list[ConnectorState]] = {}
    for state in states:
        evses.setdefault(state.evse_id, []).append(state)
    return [
        EvseOut(
            evse_id=evse_id,
            connectors=[
                ConnectorOut.from_domain(s)
                for s in sorted(evses[evse_id], key=lambda s: s.connector_id)
            ],
        )
        for evse_id in sorted(evses)
    ]


class ChargePointOut(ApiModel):
    id: str
    name: str | None
    ocpp_version: str | None = Field(
        description="`1.6` or `2.0.1`; null before the first connection."
    )
    connected: bool
    last_seen_at: Timestamp | None
    connected_since: Timestamp | None
    registration_status: RegistrationStatus | None = Field(
        description="The answer the charger's next BootNotification gets. null: the configured "
        "default (`[ocpp] default_registration_status`)."
    )
    boot_info: BootInfoOut
    firmware_status: str | None
    diagnostics_status: str | None
    evses: list[EvseOut]
    active_transactions: list[str]
    security_profile: int
    site_id: str | None
    has_password: bool = Field(
        description="Whether a Basic Auth password is set (the password itself is never returned)."
    )
    created_at: Timestamp


class ChargePointCreate(RequestModel):
    id: ChargePointId
    name: Name | None = None
    password: Password | None = None
    security_profile: SecurityProfile | None = Field(
        default=None,
        description="0: no auth; 1: Basic over ws; 2: Basic over TLS; 3: TLS client certificate. "
        "Default: 1 when a password is given, else 0.",
    )
    site_id: SiteId | None = None


class ChargePointUpdate(RequestModel):
    """Only the fields present change; ``null`` clears a nullable field."""

    name: Name | None = None
    password: Password | None = Field(
        default=None, description="A new Basic Auth password; null removes it."
    )
    security_profile: SecurityProfile = _optional()
    registration_status: RegistrationStatus | None = Field(
        default=None,
        description="Accepted | Pending | Rejected; null returns to the configured default.",
    )
    site_id: SiteId | None = None


# --- transactions ---


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


# --- id-tags ---

IdTagUid = Annotated[
    str,
    Field(
        min_length=1,
        max_length=ID_TAG_MAX,
        description=f"The token value, 1 to {ID_TAG_MAX} characters (the 2.0.1 idToken limit; "
        "OCPP 1.6 chargers can only present idTags of up to 20).",
    ),
]
IdTokenType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20,
        description="The 2.0.1 idToken type: ISO14443, ISO15693, Central, eMAID, KeyCode, "
        "MacAddress, Local, NoAuthorization.",
    ),
]
Label = Annotated[str, Field(max_length=255)]


class IdTagOut(ApiModel):
    id_tag_uid: str
    type: str
    status: IdTagStatus
    expire_at: Timestamp | None
    parent_id_tag: str | None
    label: str | None

    @classmethod
    def from_domain(cls, tag: IdTag) -> IdTagOut:
        return cls(
            id_tag_uid=tag.uid,
            type=tag.type,
            status=tag.status,
            expire_at=tag.expire_at,
            parent_id_tag=tag.parent_id_tag,
            label=tag.label,
        )


class IdTagCreate(RequestModel):
    id_tag_uid: IdTagUid
    type: IdTokenType = "Central"
    status: IdTagStatus = IdTagStatus.ENABLED
    expire_at: UtcDatetime | None = None
    parent_id_tag: IdTagUid | None = None
    label: Label | None = None

    def to_domain(self) -> IdTag:
        return IdTag(
            uid=self.id_tag_uid,
            status=self.status,
            type=self.type,
            expire_at=self.expire_at,
            parent_id_tag=self.parent_id_tag,
            label=self.label,
        )


class IdTagUpdate(RequestModel):
    """Only the fields present change; ``expireAt``/``parentIdTag``/``label`` null clears them."""

    type: IdTokenType = _optional()
    status: IdTagStatus = _optional()
    expire_at: UtcDatetime | None = None
    parent_id_tag: IdTagUid | None = None
    label: Label | None = None


# --- message log ---


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


# --- commands ---


class CommandResultOut(ApiModel):
    """The answer to an action: the charger's status field and its whole answer."""

    command_id: int
    action: str
    ocpp_action: str | None
    status: str | None = Field(
        description="The charger's status field (`Accepted`, `Rejected`, ...); null when its "
        "answer has none."
    )
    response: dict[str, Any] | None = Field(description="The charger's full answer payload.")


class CommandPendingOut(ApiModel):
    command_id: int
    status: Literal["pending"] = "pending"


class CommandOut(ApiModel):
    """One command in the audit trail."""

    command_id: int
    charge_point_id: str
    action: str
    requested_by: str
    request: dict[str, Any]
    ocpp_action: str | None
    ocpp_payload: dict[str, Any] | None = Field(
        description="The OCPP call sent (new passwords masked)."
    )
    state: Literal["pending", "completed", "failed"]
    status: str | None
    response: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: Timestamp
    completed_at: Timestamp | None
    duration_ms: float | None

    @classmethod
    def from_domain(cls, record: CommandRecord) -> CommandOut:
        return cls(
            command_id=record.id,
            charge_point_id=record.charge_point_id,
            action=record.action,
            requested_by=record.requested_by,
            request=record.request,
            ocpp_action=record.ocpp_action,
            ocpp_payload=record.ocpp_payload,
            state=record.state,  # type: ignore[arg-type]
            status=record.status,
            response=record.response,
            error=record.error,
            created_at=record.created_at,
            completed_at=record.completed_at,
            duration_ms=record.duration_ms,
        )


class ConfigurationKeyOut(ApiModel):
    key: str
    value: str | None
    readonly: bool | None
    updated_at: Timestamp


class DeviceVariableOut(ApiModel):
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    attribute_type: str
    value: str | None
    mutability: str | None
    data_type: str | None
    unit: str | None

    @classmethod
    def from_domain(cls, v: DeviceVariable) -> DeviceVariableOut:
        return cls(
            component=v.component,
            component_instance=v.component_instance,
            evse_id=v.evse_id,
            connector_id=v.connector_id,
            variable=v.variable,
            variable_instance=v.variable_instance,
            attribute_type=v.attribute_type,
            value=v.value,
            mutability=v.mutability,
            data_type=v.data_type,
            unit=v.unit,
        )


class ConfigurationOut(ApiModel):
    """What was last read from (or accepted by) the charger: 1.6 keys, 2.0.1 variables."""

    charge_point_id: str
    ocpp_version: str | None
    keys: list[ConfigurationKeyOut] = Field(description="OCPP 1.6 configuration keys.")
    variables: list[DeviceVariableOut] = Field(description="OCPP 2.0.1 device model variables.")
    local_list_version: int | None


class ChargingProfileOut(ApiModel):
    evse_id: int
    charging_profile: dict[str, Any] = Field(description="As set, in the API's (1.6) shape.")
    set_at: Timestamp


class ReservationOut(ApiModel):
    reservation_id: int
    evse_id: int
    connector_id: int
    id_tag: str
    expiry_date: Timestamp
    status: Literal["active", "used", "cancelled", "expired", "removed"]
    created_at: Timestamp
    ended_at: Timestamp | None
