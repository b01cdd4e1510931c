"""Partial updates: which fields a PATCH changes, and which it leaves alone."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

__all__ = ["UNSET", "ChargePointChanges", "IdTagChanges", "Unset", "changed_fields"]


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
    registration_status: str | Unset | None = UNSET


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


def changed_fields(changes: Any) -> dict[str, Any]:
    """The fields of a ``*Changes`` record that are set (to a value or to None)."""
    return {
        f.name: getattr(changes, f.name)
        for f in fields(changes)
        if getattr(changes, f.name) is not UNSET
    }
