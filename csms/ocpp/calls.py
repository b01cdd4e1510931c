"""Helpers shared by the per-version command translators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from csms.domain.clock import format_timestamp
from csms.domain.commands import CommandContext, OcppCall

__all__ = ["CommandContext", "OcppCall", "Translation", "compact", "number", "stamp"]

Translation = Callable[[Any, CommandContext], OcppCall]


def stamp(moment: datetime) -> str:
    return format_timestamp(moment)


def number(value: Decimal) -> float | int:
    """A schema number from a validated Decimal (orjson has no Decimal)."""
    as_int = int(value)
    return as_int if value == as_int else float(value)


def compact(**fields: Any) -> dict[str, Any]:
    """An OCPP payload without its unset optional fields (they are omitted, never null)."""
    return {key: value for key, value in fields.items() if value is not None}
