"""Charge points: registration, the operator's changes, what is known of each."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from csms.api.schemas.base import CP_ID_MAX, ApiModel, RequestModel, Timestamp, optional_field
from csms.domain.identities import IDENTITY_PATTERN
from csms.domain.models import ConnectorState

__all__ = [
    "BootInfoOut",
    "ChargePointCreate",
    "ChargePointId",
    "ChargePointOut",
    "ChargePointUpdate",
    "ConnectorOut",
    "EvseOut",
    "ExternalId",
    "ModelId",
    "Name",
    "Password",
    "RegistrationStatus",
    "SecurityProfile",
    "SiteId",
    "group_connectors",
]


RegistrationStatus = Literal["Accepted", "Pending", "Rejected"]
SecurityProfile = Literal[0, 1, 2, 3]
ChargePointId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=CP_ID_MAX,
        pattern=IDENTITY_PATTERN,
        description="The OCPP identity: the last path segment of the charger's websocket URL, "
        f"an OCPP identifierString (1 to {CP_ID_MAX} characters of A-Z a-z 0-9 * - _ = : + | @ .)."
        " Case-insensitive.",
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
SiteId = Annotated[str, Field(min_length=1, max_length=64)]
ModelId = Annotated[str, Field(min_length=1, max_length=64)]
ExternalId = Annotated[
    str, Field(max_length=255, description="The operator's own reference (free text).")
]


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
        description="What the charger was told at its last BootNotification; null before its first."
    )
    boot_answer: RegistrationStatus | None = Field(
        description="What its next BootNotification will be told. null: the configured default "
        "(`[ocpp] default_registration_status`)."
    )
    boot_info: BootInfoOut
    firmware_status: str | None
    diagnostics_status: str | None
    evses: list[EvseOut]
    active_transactions: list[str]
    security_profile: int
    site_id: str | None
    model_id: str | None = Field(
        description="The charging-station model it is linked to (by PATCH, or at boot when its "
        "vendor and model match a live catalogue entry)."
    )
    external_id: str | None
    has_password: bool = Field(
        description="Whether a Basic Auth password is set (the password itself is never returned)."
    )
    auto_registered: bool = Field(
        description="Let in by `[ocpp] allow_unknown_chargers` (its boots answered Pending) and "
        "not decided about yet: setting its `bootAnswer` decides. Such chargers lose access when "
        "the flag is turned off."
    )
    node_id: str | None = Field(
        default=None,
        description="In a cluster: the node holding its live connection; null when it is not "
        "connected, and always on a single node.",
    )
    created_at: Timestamp


class ChargePointCreate(RequestModel):
    id: ChargePointId
    name: Name | None = None
    password: Password | None = None
    security_profile: SecurityProfile | None = Field(
        default=None,
        description="0: no auth; 1: Basic over ws; 2: Basic over TLS; 3: TLS client certificate. "
        "Default: 1 when a password is given. A charger without a password must say 0 (no "
        "authentication at all) or 3 (a client certificate) explicitly.",
    )
    site_id: SiteId | None = None
    model_id: ModelId | None = None
    external_id: ExternalId | None = None


class ChargePointUpdate(RequestModel):
    """Only the fields present change; ``null`` clears a nullable field."""

    name: Name | None = None
    password: Password | None = Field(
        default=None, description="A new Basic Auth password; null removes it."
    )
    security_profile: SecurityProfile = optional_field()
    boot_answer: RegistrationStatus | None = Field(
        default=None,
        description="What the next BootNotification gets: Accepted | Pending | Rejected; null "
        "returns to the configured default.",
    )
    registration_status: RegistrationStatus | None = Field(
        default=None, description="An alias of `bootAnswer` (when both are given, they must agree)."
    )
    site_id: SiteId | None = Field(default=None, description="null takes it out of its site.")
    model_id: ModelId | None = Field(
        default=None, description="A live catalogue model; null unlinks it."
    )
    external_id: ExternalId | None = None
