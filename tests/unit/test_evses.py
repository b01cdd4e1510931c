"""An EVSE's values: recorded first, then its charger's catalogue model, then the defaults."""

from __future__ import annotations

from datetime import UTC, datetime

from csms.domain.assets import (
    ChargingStationModel,
    ConnectorSpec,
    CurrentType,
    EvseRecord,
    ModelConnector,
    PowerType,
)
from csms.domain.evses import DEFAULT_PHASES, resolve_evse
from csms.domain.models import ConnectorState

T = datetime(2026, 1, 1, tzinfo=UTC)


def model(power_type: PowerType, *outlets: ModelConnector) -> ChargingStationModel:
    return ChargingStationModel("m", "V", "M", power_type, False, T, T, connectors=outlets)


OUTLET_1 = ModelConnector(1, "type2", "SOCKET", 32, 230, 22_000)
OUTLET_2 = ModelConnector(2, "ccs2", "CABLE", 200, 800, 150_000)


def test_nothing_known_gives_the_documented_defaults() -> None:
    evse = resolve_evse("CP", 1, None, None, ())
    assert evse.current_type is CurrentType.AC and evse.power.phases == DEFAULT_PHASES == 3
    assert evse.power.max_amperage is None and evse.connectors == ()


def test_the_model_fills_what_was_not_recorded() -> None:
    evse = resolve_evse("CP", 2, None, model(PowerType.DC, OUTLET_1, OUTLET_2), ())
    assert evse.current_type is CurrentType.DC
    assert (evse.power.max_amperage, evse.power.max_voltage, evse.power.max_power) == (
        200,
        800,
        150_000,
    )
    single = resolve_evse("CP", 7, None, model(PowerType.AC_1_PHASE, OUTLET_1), ())
    assert single.power.phases == 1 and single.power.max_amperage == 32  # the first outlet


def test_recorded_values_win_and_connectors_merge_specs_with_status() -> None:
    record = EvseRecord(
        "CP",
        1,
        T,
        label="Bay 1",
        current_type=CurrentType.AC,
        max_amperage=16,
        phases=1,
        connected_phase="L2",
        connectors=(ConnectorSpec(1, type="type1"), ConnectorSpec(3, format="CABLE")),
    )
    states = (
        ConnectorState(1, 1, "Charging", "NoError", T),
        ConnectorState(1, 2, "Faulted", "GroundFailure", T),
        ConnectorState(2, 1, "Available", "NoError", T),  # another EVSE
        ConnectorState(0, 0, "Available", "NoError", T),  # the station
    )
    evse = resolve_evse("CP", 1, record, model(PowerType.AC_3_PHASE, OUTLET_1), states)
    assert evse.label == "Bay 1" and evse.power.phases == 1 and evse.power.max_amperage == 16
    assert evse.power.max_voltage == 230 and evse.power.connected_phase == "L2"
    got = [(c.connector_id, c.type, c.format, c.status) for c in evse.connectors]
    assert got == [
        (1, "type1", "SOCKET", "Charging"),
        (2, "type2", "SOCKET", "Faulted"),
        (3, "type2", "CABLE", None),  # recorded, never reported
    ]
