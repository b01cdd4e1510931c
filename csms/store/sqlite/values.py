"""Conversions between Python values and this backend's columns.

Timestamps of small tables are TEXT in one fixed-width UTC format (``YYYY-MM-DDTHH:MM:SS.mmmZ``)
so they sort as text; the large append-mostly tables (meter values, the message log) keep
milliseconds since the epoch as INTEGER, a third of the bytes in the row and in its indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.store.asset_rows import Conversions

__all__ = ["CONVERSIONS", "dt", "epoch_ms", "from_epoch_ms", "from_json", "json_text", "ts"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def dt(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)


def epoch_ms(moment: datetime) -> int:
    utc = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    delta = utc - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_epoch_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def from_json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _time(text: str) -> datetime:
    return parse_timestamp(text)


CONVERSIONS = Conversions(time=_time, stamp=format_timestamp, json=from_json, to_json=json_text)
"""This backend's conversions for csms.store.asset_rows."""
