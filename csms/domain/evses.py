"""An EVSE as the operator sees it: what was recorded, filled in from the charger's catalogue
model, with its connectors' live status. Load management reads phases and maxAmperage here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from csms.domain.assets import (
    ChargingStationModel,
    ConnectorSpec,
    CurrentType,
    EvseRecord,
    ModelConnector,
    PowerType,
)
from csms.domain.models import ConnectorState

__all__ = ["DEFAULT_PHASES", "Evse", "EvseConnector", "PowerOptions", "resolve_evse"]

V = TypeVar("V")
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)

DEFAULT_PHASES = 3
"""Phases of an EVSE nobody described: three, the common European AC wiring, and the safe guess
for load management (a three-phase allocation also covers a single-phase car)."""


@dataclass(frozen=True, slots=True)
class PowerOptions:
    phases: int
    max_power: float | None = None
    max_voltage: float | None = None
    max_amperage: float | None = None
    phase_rotation: str | None = None
    connected_phase: str | None = None


@dataclass(frozen=True, slots=True)
class EvseConnector:
    connector_id: int
    type: str | None
    format: str | None
    status: str | None  # None: the charger has not reported this connector yet
    error_code: str | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class Evse:
    charge_point_id: str
    evse_id: int
    label: str | None
    physical_reference: str | None
    current_type: CurrentType
    power: PowerOptions
    connectors: tuple[EvseConnector, ...]


def _model_connector(model: ChargingStationModel | None, evse_id: int) -> ModelConnector | None:
    """The catalogue outlet that describes EVSE ``evse_id``: the one with that id, else the
    model's first (a model usually lists one outlet per EVSE, or one for all of them)."""
    if model is None or not model.connectors:
        return None
    for connector in model.connectors:
        if connector.id == evse_id:
            return connector
    return model.connectors[0]


def _model_phases(model: ChargingStationModel | None) -> int | None:
    if model is None:
        return None
    return 1 if model.power_type is PowerType.AC_1_PHASE else 3


def resolve_evse(
    charge_point_id: str,
    evse_id: int,
    record: EvseRecord | None,
    model: ChargingStationModel | None,
    states: Sequence[ConnectorState],
) -> Evse:
    """Recorded values first, then the model's, then the documented defaults. ``states`` are the
    charger's connector states (those of other EVSEs are ignored)."""
    outlet = _model_connector(model, evse_id)
    if record is not None and record.current_type is not None:
        current_type = record.current_type
    elif model is not None and model.power_type is PowerType.DC:
        current_type = CurrentType.DC
    else:
        current_type = CurrentType.AC
    recorded = record or EvseRecord(charge_point_id, evse_id, updated_at=_NEVER)
    phases = _pick(recorded.phases, _model_phases(model))
    power = PowerOptions(
        phases=DEFAULT_PHASES if phases is None else phases,
        max_power=_pick(recorded.max_power, outlet.max_power_watts if outlet else None),
        max_voltage=_pick(recorded.max_voltage, outlet.max_voltage if outlet else None),
        max_amperage=_pick(recorded.max_amperage, outlet.max_amperage if outlet else None),
        phase_rotation=recorded.phase_rotation,
        connected_phase=recorded.connected_phase,
    )
    specs = {c.connector_id: c for c in recorded.connectors}
    reported = {s.connector_id: s for s in states if s.evse_id == evse_id and s.connector_id > 0}
    connectors = []
    for connector_id in sorted(specs.keys() | reported.keys()):
        spec = specs.get(connector_id, ConnectorSpec(connector_id))
        state = reported.get(connector_id)
        connectors.append(
            EvseConnector(
                connector_id=connector_id,
                type=_pick(spec.type, outlet.connection_type if outlet else None),
                format=_pick(spec.format, outlet.format if outlet else None),
                status=state.status if state else None,
                error_code=state.error_code if state else None,
                updated_at=state.updated_at if state else None,
            )
        )
    return Evse(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        label=recorded.label,
        physical_reference=recorded.physical_reference,
        current_type=current_type,
        power=power,
        connectors=tuple(connectors),
    )


def _pick(*values: V | None) -> V | None:
    """The first value that is set."""
    for value in values:
        if value is not None:
            return value
    return None
