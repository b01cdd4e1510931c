"""The monitoring history: when a charger was connected, and what each connector reported, as
intervals. The store writes them in the commit of the change that causes them; the KPIs
(csms.domain.kpis) are computed from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from csms.domain.errors import Invalid

__all__ = [
    "DEFAULT_WINDOW",
    "REPLACED",
    "SERVER_STOPPED",
    "ConnectionInterval",
    "StatusInterval",
    "close_reason",
    "window",
]

SERVER_STOPPED = "server_stopped"
"""The reason of an interval the server closed at its next start, at the moment it last heard
from the charger (it stopped without closing the connection: a crash, a kill)."""

REPLACED = "replaced"
"""The reason of an interval closed because a newer connection of the same charger arrived."""

# RFC 6455 close codes the gateway sees, as words an operator reads.
_CLOSE_CODES = {
    1000: "normal_closure",
    1001: "going_away",
    1002: "protocol_error",
    1003: "unsupported_data",
    1006: "connection_lost",
    1007: "invalid_payload",
    1008: "policy_violation",
    1009: "message_too_big",
    1011: "internal_error",
    1012: "service_restart",
}


@dataclass(frozen=True, slots=True)
class ConnectionInterval:
    charge_point_id: str
    connected_at: datetime
    disconnected_at: datetime | None  # None: still connected
    reason: str | None = None  # why it ended


@dataclass(frozen=True, slots=True)
class StatusInterval:
    charge_point_id: str
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    started_at: datetime
    ended_at: datetime | None  # None: still the connector's status


def close_reason(close_code: int | None) -> str:
    """Why a connection ended, from the websocket close code (None: no close frame arrived)."""
    if close_code is None:
        return _CLOSE_CODES[1006]
    return _CLOSE_CODES.get(close_code, f"close_code_{close_code}")


DEFAULT_WINDOW = timedelta(days=7)


def window(
    start: datetime | None, end: datetime | None, now: datetime, span: timedelta = DEFAULT_WINDOW
) -> tuple[datetime, datetime]:
    """The [start, end) a history or KPI request reads: the last ``span`` by default, ``start``
    alone means ``start`` + ``span``, ``end`` alone the ``span`` before it. A moment without
    an offset is UTC."""
    start, end = _utc(start), _utc(end)
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - span
    if end is None:
        end = start + span
    if end <= start:
        raise Invalid("end", "end must be after start")
    return start, end


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
