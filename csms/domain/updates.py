"""Partial updates: which fields a PATCH changes, and which it leaves alone."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from csms.domain.assets import Address, ContactDetails
from csms.domain.circuits import CircuitMode, CircuitPhases

__all__ = [
    "UNSET",
    "ChargePointChanges",
    "CircuitChanges",
    "ConnectorSpecChanges",
    "EvseChanges",
    "IdTagChanges",
    "NetworkChanges",
    "SiteChanges",
    "Unset",
    "changed_fields",
]


class Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Unset = Unset()
"""Marks a field a partial update leaves alone (None means: clear it)."""


@dataclass(frozen=True, slots=True)
class ChargePointChanges:
    name: str | Unset | None = UNSET
    password_hash: str | Unset | None = UNSET
    security_profile: int | Unset = UNSET
    site_id: str | Unset | None = UNSET
    boot_answer: str | Unset | None = UNSET
    model_id: str | Unset | None = UNSET
    external_id: str | Unset | None = UNSET
    auto_registered: bool | Unset = UNSET


@dataclass(frozen=True, slots=True)
class IdTagChanges:
    """What a PATCH changes; the store also sets ``last_updated_at`` on every update."""

    status: str | Unset = UNSET
    type: str | Unset | None = UNSET  # None: the record matches any 2.0.1 type again
    expire_at: datetime | Unset | None = UNSET
    parent_id_tag: str | Unset | None = UNSET
    label: str | Unset | None = UNSET
    user_id: str | Unset | None = UNSET
    external_id: str | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class NetworkChanges:
    name: str | Unset = UNSET
    type: str | Unset | None = UNSET
    physical_address: Address | Unset | None = UNSET
    contact_details: ContactDetails | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class SiteChanges:
    name: str | Unset = UNSET
    type: str | Unset = UNSET
    network_id: str | Unset | None = UNSET
    parent_site_id: str | Unset | None = UNSET
    external_id: str | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class CircuitChanges:
    name: str | Unset = UNSET
    site_id: str | Unset | None = UNSET
    parent_circuit_id: str | Unset | None = UNSET
    phases: CircuitPhases | Unset = UNSET
    phase_rotation: str | Unset | None = UNSET
    connected_phase: str | Unset | None = UNSET
    max_current: float | Unset = UNSET
    max_voltage: float | Unset | None = UNSET
    min_charge_point_current: float | Unset = UNSET
    set_session_limit_to_zero_on_idle: bool | Unset = UNSET
    offline_reserved_current: float | Unset = UNSET
    mode: CircuitMode | Unset = UNSET


@dataclass(frozen=True, slots=True)
class EvseChanges:
    label: str | Unset | None = UNSET
    physical_reference: str | Unset | None = UNSET
    current_type: str | Unset | None = UNSET
    max_power: float | Unset | None = UNSET
    max_voltage: float | Unset | None = UNSET
    max_amperage: float | Unset | None = UNSET
    phases: int | Unset | None = UNSET
    phase_rotation: str | Unset | None = UNSET
    connected_phase: str | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class ConnectorSpecChanges:
    type: str | Unset | None = UNSET
    format: str | Unset | None = UNSET


def changed_fields(changes: Any) -> dict[str, Any]:
    """The fields of a ``*Changes`` record that are set (to a value or to None)."""
    return {
        f.name: getattr(changes, f.name)
        for f in fields(changes)
        if getattr(changes, f.name) is not UNSET
    }
