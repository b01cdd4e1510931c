"""Time: an injectable clock and the one timestamp format we store and send."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "format_timestamp", "parse_timestamp", "system_clock"]

Clock = Callable[[], datetime]

_LONG_FRACTION = re.compile(r"^(.*T\d\d:\d\d:\d\d\.)(\d+)(.*)$")


def system_clock() -> datetime:
    return datetime.now(UTC)


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp as chargers send it; naive times are taken as UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        # Some chargers send nanoseconds; Python takes at most microseconds.
        match = _LONG_FRACTION.match(text)
        if match is None:
            raise
        parsed = datetime.fromisoformat(match.group(1) + match.group(2)[:6] + match.group(3))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z`` suffix: what chargers and the API get, and what we store.

    Fixed width, so stored timestamps sort correctly as text.
    """
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    # isoformat is several times faster than strftime, and this runs for every stored sample.
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
