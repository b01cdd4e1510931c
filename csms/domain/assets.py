"""The operator's estate: networks, sites, the charging-station model catalogue, EVSE records.

A network is a root of the site tree; a site (or area, or group) belongs to at most one network and
nests under at most one parent site; a charge point belongs to at most one site. The catalogue
describes what a model can deliver; an EVSE record what one EVSE of one charger is wired for.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "Address",
    "ChargingStationModel",
    "ConnectorSpec",
    "ContactDetails",
    "CurrentType",
    "EvseRecord",
    "ModelConnector",
    "Network",
    "PowerType",
    "Site",
    "new_id",
]


def new_id(prefix: str) -> str:
    """An id for a record the operator did not name (``net_…``, ``site_…``, ``model_…``): the
    prefix and 64 random bits, so it says nothing about how many there are."""
    return f"{prefix}_{secrets.token_hex(8)}"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class CurrentType(StrEnum):
    AC = "ac"
    DC = "dc"


@dataclass(frozen=True, slots=True)
class Address:
    street_name: str
    city: str
    postal_code: str
    country_code: str
    street_number: str | None = None
    street_details: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class ContactDetails:
    phone: str | None = None
    website: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    type: str | None = None
    physical_address: Address | None = None
    contact_details: ContactDetails | None = None


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    type: str  # "site" | "area" | "group", or the operator's own word
    created_at: datetime
    updated_at: datetime
    network_id: str | None = None
    parent_site_id: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class ModelConnector:
    """One outlet of a catalogue model (the charge-point platforms' model connector)."""

    id: int
    connection_type: str  # type2, ccs2, chademo, ...
    format: str  # SOCKET | CABLE
    max_amperage: float | None = None
    max_voltage: float | None = None
    max_power_watts: float | None = None


@dataclass(frozen=True, slots=True)
class ChargingStationModel:
    id: str
    vendor: str
    model: str
    power_type: PowerType
    is_archived: bool
    created_at: datetime
    updated_at: datetime
    friendly_name: str | None = None
    image_url: str | None = None
    connectors: tuple[ModelConnector, ...] = ()


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What the operator recorded about one connector of an EVSE."""

    connector_id: int
    type: str | None = None
    format: str | None = None


@dataclass(frozen=True, slots=True)
class EvseRecord:
    """What the operator recorded about one EVSE. None: not recorded (the model's value, or the
    documented default, applies; csms.domain.evses resolves them)."""

    charge_point_id: str
    evse_id: int
    updated_at: datetime
    label: str | None = None
    physical_reference: str | None = None
    current_type: CurrentType | None = None
    max_power: float | None = None
    max_voltage: float | None = None
    max_amperage: float | None = None
    phases: int | None = None
    phase_rotation: str | None = None
    connected_phase: str | None = None
    connectors: tuple[ConnectorSpec, ...] = ()
