"""An event a change causes, and its data as JSON: the live event stream and the webhooks tell
the same events with the same data.

In process, an event's data keeps meter samples as they are (``MeterSample``): the load manager
reads a few of them, and they are rendered (``data_json``) only where they leave the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from csms.domain.clock import format_timestamp
from csms.domain.models import MeterSample

__all__ = ["CausedEvent", "data_json", "sample_json"]


@dataclass(frozen=True, slots=True)
class CausedEvent:
    type: str
    charge_point_id: str | None
    data: Mapping[str, Any]


def sample_json(sample: MeterSample) -> dict[str, object]:
    return {
        "timestamp": format_timestamp(sample.timestamp),
        "measurand": sample.measurand,
        "phase": sample.phase,
        "unit": sample.unit,
        "value": sample.value,
        "context": sample.context,
    }


def data_json(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The data as JSON: its meter samples rendered, everything else as it is."""
    samples = data.get("samples")
    if not samples:
        return data
    return {
        **data,
        "samples": [sample_json(s) if isinstance(s, MeterSample) else s for s in samples],
    }
