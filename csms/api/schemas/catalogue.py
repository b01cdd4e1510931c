"""The charging-station model catalogue and EVSE records."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from csms.api.schemas.base import ApiModel, RequestModel, Timestamp, optional_field
from csms.api.schemas.sites import AssetId
from csms.domain.assets import ChargingStationModel, ModelConnector, PowerType
from csms.domain.evses import Evse

__all__ = [
    "ConnectorFormat",
    "ConnectorSpecUpdate",
    "EvseOut",
    "EvseUpdate",
    "ModelConnectorBody",
    "ModelCreate",
    "ModelOut",
    "ModelUpdate",
]

ConnectorFormat = Literal["SOCKET", "CABLE"]
ConnectorType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="`type1`, `type2`, `ccs1`, `ccs2`, `chademo`, `gbt`, `tesla`, ... (free text).",
    ),
]
Amperes = Annotated[float, Field(gt=0, le=10_000)]
Volts = Annotated[float, Field(gt=0, le=2_000)]
Watts = Annotated[float, Field(gt=0, le=10_000_000)]


class ModelConnectorBody(RequestModel):
    id: Annotated[int, Field(ge=1, le=1000, description="The outlet's number (its EVSE id).")]
    connection_type: ConnectorType
    format: ConnectorFormat
    max_amperage: Amperes | None = None
    max_voltage: Volts | None = None
    max_power_watts: Watts | None = None

    def to_domain(self) -> ModelConnector:
        return ModelConnector(**self.model_dump())


class ModelConnectorOut(ApiModel):
    id: int
    connection_type: str
    format: str
    max_amperage: float | None
    max_voltage: float | None
    max_power_watts: float | None


class ModelOut(ApiModel):
    id: str
    vendor: str
    model: str
    friendly_name: str | None
    power_type: PowerType
    image_url: str | None
    is_archived: bool
    connectors: list[ModelConnectorOut]
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_domain(cls, model: ChargingStationModel) -> ModelOut:
        return cls(
            id=model.id,
            vendor=model.vendor,
            model=model.model,
            friendly_name=model.friendly_name,
            power_type=model.power_type,
            image_url=model.image_url,
            is_archived=model.is_archived,
            connectors=[
                ModelConnectorOut(
                    id=c.id,
                    connection_type=c.connection_type,
                    format=c.format,
                    max_amperage=c.max_amperage,
                    max_voltage=c.max_voltage,
                    max_power_watts=c.max_power_watts,
                )
                for c in model.connectors
            ],
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


class ModelCreate(RequestModel):
    id: AssetId | None = None
    vendor: Annotated[
        str, Field(min_length=1, max_length=50, description="As the charger's BootNotification.")
    ]
    model: Annotated[
        str, Field(min_length=1, max_length=50, description="As the charger's BootNotification.")
    ]
    friendly_name: Annotated[str, Field(max_length=255)] | None = None
    power_type: PowerType
    image_url: Annotated[str, Field(max_length=2048)] | None = None
    connectors: Annotated[list[ModelConnectorBody], Field(max_length=64)] = Field(
        default_factory=list
    )


class ModelUpdate(RequestModel):
    """Only `friendlyName` can change; null clears it."""

    friendly_name: Annotated[str, Field(max_length=255)] | None = None


PhaseRotation = Literal["RST", "RTS", "SRT", "STR", "TRS", "TSR"]
ConnectedPhase = Literal["L1", "L2", "L3"]


class PowerOptionsOut(ApiModel):
    max_power: float | None
    max_voltage: float | None
    max_amperage: float | None
    phases: int = Field(description="1 or 3.")
    phase_rotation: str | None = Field(description="RST, RTS, SRT, STR, TRS or TSR.")
    connected_phase: str | None = Field(description="L1, L2 or L3.")


class EvseConnectorOut(ApiModel):
    connector_id: int
    type: str | None
    format: str | None
    status: str | None = Field(description="null until the charger reports the connector.")
    error_code: str | None
    updated_at: Timestamp | None


class EvseOut(ApiModel):
    evse_id: int
    label: str | None
    physical_reference: str | None
    current_type: str = Field(description="`ac` or `dc`.")
    power_options: PowerOptionsOut = Field(
        description="Unset values come from the charger's catalogue model (its outlet with this "
        "EVSE's id, else its first); `phases` defaults to 3."
    )
    connectors: list[EvseConnectorOut]

    @classmethod
    def from_domain(cls, evse: Evse) -> EvseOut:
        power = evse.power
        return cls(
            evse_id=evse.evse_id,
            label=evse.label,
            physical_reference=evse.physical_reference,
            current_type=evse.current_type.value,
            power_options=PowerOptionsOut(
                max_power=power.max_power,
                max_voltage=power.max_voltage,
                max_amperage=power.max_amperage,
                phases=power.phases,
                phase_rotation=power.phase_rotation,
                connected_phase=power.connected_phase,
            ),
            connectors=[
                EvseConnectorOut(
                    connector_id=c.connector_id,
                    type=c.type,
                    format=c.format,
                    status=c.status,
                    error_code=c.error_code,
                    updated_at=c.updated_at,
                )
                for c in evse.connectors
            ],
        )


class PowerOptionsUpdate(RequestModel):
    """Only the fields present change; null returns a value to the model's (or the default)."""

    max_power: Watts | None = None
    max_voltage: Volts | None = None
    max_amperage: Amperes | None = None
    phases: Literal[1, 3] | None = None
    phase_rotation: PhaseRotation | None = Field(
        default=None, description="How a three-phase EVSE is wired to the supply's L1 L2 L3."
    )
    connected_phase: ConnectedPhase | None = Field(
        default=None, description="The supply phase a single-phase EVSE is wired to."
    )


class EvseUpdate(RequestModel):
    """Only the fields present change; null clears a field."""

    label: Annotated[str, Field(max_length=255)] | None = None
    physical_reference: Annotated[str, Field(max_length=255)] | None = None
    current_type: Literal["ac", "dc"] | None = None
    power_options: PowerOptionsUpdate = optional_field()


class ConnectorSpecUpdate(RequestModel):
    """Only the fields present change; null returns a value to the model's."""

    type: ConnectorType | None = None
    format: ConnectorFormat | None = None
