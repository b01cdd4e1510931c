"""Commands (the audit trail) and the state that follows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from csms.api.schemas.base import ApiModel, Timestamp
from csms.domain.models import CommandRecord, DeviceVariable

__all__ = [
    "ActionOut",
    "ChargingProfileOut",
    "CommandOut",
    "CommandPendingOut",
    "CommandResultOut",
    "ConfigurationKeyOut",
    "ConfigurationOut",
    "DeviceVariableOut",
    "ReservationOut",
]


class ActionOut(ApiModel):
    """An operator action and what its body may hold."""

    action: str = Field(examples=["start"])
    body_schema: dict[str, Any] = Field(
        description="The JSON Schema (2020-12) of the action's body, with the API's camelCase "
        "field names; nested objects are under `$defs`."
    )


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
