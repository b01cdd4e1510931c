"""Rows of the asset tables (networks, sites, the model catalogue, EVSE records), shared by both
backends: columns in one order, and the mapping to and from domain records.

Each mapping takes the backend's conversions: ``time`` (stored → datetime) and ``json`` (stored →
Python value); writers get ``stamp`` (datetime → stored) and ``to_json`` (value → stored).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from csms.domain.assets import (
    Address,
    ChargingStationModel,
    ConnectorSpec,
    ContactDetails,
    CurrentType,
    EvseRecord,
    ModelConnector,
    Network,
    PowerType,
    Site,
)

__all__ = [
    "EVSE_COLUMNS",
    "EVSE_FIELDS",
    "MODEL_COLUMNS",
    "NETWORK_COLUMNS",
    "SITE_COLUMNS",
    "Conversions",
    "evse_from_row",
    "model_from_row",
    "model_values",
    "network_from_row",
    "network_values",
    "site_from_row",
    "site_values",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Conversions:
    time: Callable[[Any], datetime]
    stamp: Callable[[datetime], Any]
    json: Callable[[Any], Any]
    to_json: Callable[[Any], Any]


def _as_dict(record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    return {k: v for k, v in dataclasses.asdict(record).items() if v is not None}


NETWORK_COLUMNS = "id, name, type, physical_address, contact_details, created_at, updated_at"


def network_values(network: Network, c: Conversions) -> tuple[Any, ...]:
    return (
        network.id,
        network.name,
        network.type,
        c.to_json(_as_dict(network.physical_address)),
        c.to_json(_as_dict(network.contact_details)),
        c.stamp(network.created_at),
        c.stamp(network.updated_at),
    )


def network_from_row(row: Sequence[Any], c: Conversions) -> Network:
    address = c.json(row[3])
    contact = c.json(row[4])
    return Network(
        id=row[0],
        name=row[1],
        type=row[2],
        physical_address=None if address is None else Address(**address),
        contact_details=None if contact is None else ContactDetails(**contact),
        created_at=c.time(row[5]),
        updated_at=c.time(row[6]),
    )


SITE_COLUMNS = "id, name, type, network_id, parent_site_id, external_id, created_at, updated_at"


def site_values(site: Site, c: Conversions) -> tuple[Any, ...]:
    return (
        site.id,
        site.name,
        site.type,
        site.network_id,
        site.parent_site_id,
        site.external_id,
        c.stamp(site.created_at),
        c.stamp(site.updated_at),
    )


def site_from_row(row: Sequence[Any], c: Conversions) -> Site:
    return Site(
        id=row[0],
        name=row[1],
        type=row[2],
        network_id=row[3],
        parent_site_id=row[4],
        external_id=row[5],
        created_at=c.time(row[6]),
        updated_at=c.time(row[7]),
    )


MODEL_COLUMNS = (
    "id, vendor, model, friendly_name, power_type, image_url, is_archived, connectors, "
    "created_at, updated_at"
)


def model_values(model: ChargingStationModel, c: Conversions) -> tuple[Any, ...]:
    return (
        model.id,
        model.vendor,
        model.model,
        model.friendly_name,
        model.power_type.value,
        model.image_url,
        model.is_archived,
        c.to_json([dataclasses.asdict(connector) for connector in model.connectors]),
        c.stamp(model.created_at),
        c.stamp(model.updated_at),
    )


def model_from_row(row: Sequence[Any], c: Conversions) -> ChargingStationModel:
    return ChargingStationModel(
        id=row[0],
        vendor=row[1],
        model=row[2],
        friendly_name=row[3],
        power_type=PowerType(row[4]),
        image_url=row[5],
        is_archived=bool(row[6]),
        connectors=tuple(ModelConnector(**connector) for connector in c.json(row[7])),
        created_at=c.time(row[8]),
        updated_at=c.time(row[9]),
    )


EVSE_COLUMNS = (
    "charge_point_id, evse_id, label, physical_reference, current_type, max_power, max_voltage, "
    "max_amperage, phases, phase_rotation, connected_phase, updated_at"
)
EVSE_FIELDS = (
    "label",
    "physical_reference",
    "current_type",
    "max_power",
    "max_voltage",
    "max_amperage",
    "phases",
    "phase_rotation",
    "connected_phase",
)
"""The columns an EVSE PATCH may change, in EVSE_COLUMNS order."""


def evse_from_row(row: Sequence[Any], specs: Sequence[Sequence[Any]], c: Conversions) -> EvseRecord:
    """``specs``: (connector_id, type, format) rows of this EVSE's connectors."""
    return EvseRecord(
        charge_point_id=row[0],
        evse_id=row[1],
        label=row[2],
        physical_reference=row[3],
        current_type=None if row[4] is None else CurrentType(row[4]),
        max_power=row[5],
        max_voltage=row[6],
        max_amperage=row[7],
        phases=row[8],
        phase_rotation=row[9],
        connected_phase=row[10],
        updated_at=c.time(row[11]),
        connectors=tuple(ConnectorSpec(s[0], s[1], s[2]) for s in specs),
    )
