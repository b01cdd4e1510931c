"""The history the KPIs read, its cleaning into spans, and one charger measured: pure, no clock.

What a store hands over per charger (:class:`ChargerHistory`), the sweeps that turn it into
sorted disjoint spans, robust to a history written by real chargers (unordered, overlapping,
left open), and :func:`measure`, which every KPI value starts from (csms.domain.kpis computes
values and series from it, csms.domain.kpi_tally the durations a roll-up keeps). The rules
they follow are those of csms.domain.kpis (its docstring lists them all): an open connection
lasts until now or the next recorded connection; a status report lasts until its end or the
next report of the same connector; only ``Faulted`` and ``Unavailable`` are down; only
``evse_id > 0 and connector_id > 0`` is a socket.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import attrgetter, sub
from typing import Final

from csms.domain.history import ConnectionInterval, StatusInterval

__all__ = [
    "DOWN_STATUSES",
    "ChargerHistory",
    "ConnectionInterval",
    "ConnectorKey",
    "Measured",
    "Span",
    "StatusInterval",
    "all_down",
    "connected_spans",
    "down_spans",
    "intersect",
    "measure",
    "total_length",
    "while_connected",
]

DOWN_STATUSES: Final = frozenset({"Faulted", "Unavailable"})
"""The statuses (1.6 and 2.0.1 spell them alike) during which a connector is not up."""

ConnectorKey = tuple[int, int]
"""``(evse_id, connector_id)``; a 1.6 connector n is ``(n, n)``."""

Span = tuple[datetime, datetime]

_ZERO: Final = timedelta(0)
_CONNECTED_AT = attrgetter("connected_at")
_FROM = attrgetter("started_at")


@dataclass(frozen=True, slots=True)
class ChargerHistory:
    """What the store knows of one charger. Intervals may overlap and come in any order. The
    store passes at least those that overlap the window asked about, open ones included (more
    history is harmless); times are aware, in any zone."""

    charge_point_id: str
    registered_at: datetime
    connections: tuple[ConnectionInterval, ...] = ()
    statuses: tuple[StatusInterval, ...] = ()
    connectors: tuple[ConnectorKey, ...] = ()  # sockets known even with no status report


# The sweeps are plain loops, not map/attrgetter: on 3.11 a slot read in a loop is specialised
# and beats attrgetter, and one pass touches each interval once (a network has half a million).
_DAWN: Final = datetime.min.replace(tzinfo=UTC)


def connected_spans(
    connections: Sequence[ConnectionInterval], lo: datetime, hi: datetime, now: datetime
) -> tuple[list[datetime], list[datetime]]:
    """The union of the connections clipped to ``[lo, hi)``, as sorted disjoint spans."""
    starts: list[datetime] = []
    ends: list[datetime] = []
    previous = reach = _DAWN  # the last start seen, the end of the last span kept
    last = len(connections) - 1
    for n, interval in enumerate(connections):
        a = interval.connected_at
        if a < previous:  # out of order: sort once and start again
            return connected_spans(sorted(connections, key=_CONNECTED_AT), lo, hi, now)
        previous = a
        b = interval.disconnected_at
        if b is None:
            b = connections[n + 1].connected_at if n < last else now
        if a < lo:
            a = lo
        if b > hi:
            b = hi
        if a >= b:
            continue
        if a > reach:
            starts.append(a)
            ends.append(b)
            reach = b
        elif b > reach:  # overlaps or touches the span before: extends it
            ends[-1] = reach = b
    return starts, ends


def down_spans(
    statuses: Sequence[StatusInterval], lo: datetime, hi: datetime
) -> dict[ConnectorKey, list[Span]]:
    """Per socket, when it was down, clipped to ``[lo, hi)``, as sorted disjoint spans. Only a
    down report makes a socket down: a moment no report covers is not (unknown counts as up)."""
    down: dict[ConnectorKey, list[Span]] = {}
    # A socket whose latest report is a down one: that report's span waits for the next
    # report of the same socket, which ends it.
    waiting: dict[ConnectorKey, tuple[datetime, datetime | None]] = {}
    previous = _DAWN
    for report in statuses:
        a = report.started_at
        if a < previous:  # out of order: sort once and start again
            return down_spans(sorted(statuses, key=_FROM), lo, hi)
        previous = a
        key = (report.evse_id, report.connector_id)
        if key not in down:
            down[key] = []
        elif waiting and key in waiting:
            _close(down[key], *waiting.pop(key), a, lo, hi)
        if report.status in DOWN_STATUSES:
            waiting[key] = (a, report.ended_at)
    for key, (a, b) in waiting.items():
        _close(down[key], a, b, None, lo, hi)
    # The station itself (EVSE or connector 0) is no socket: dropped once, not tested per report.
    return {key: spans for key, spans in down.items() if key[0] > 0 and key[1] > 0}


def _close(
    spans: list[Span],
    a: datetime,
    b: datetime | None,
    newer: datetime | None,
    lo: datetime,
    hi: datetime,
) -> None:
    """Appends a down report's span: it ends at its own end or the newer report, if earlier."""
    if newer is not None and (b is None or b > newer):
        b = newer
    if b is None or b > hi:
        b = hi
    if a < lo:
        a = lo
    if a < b:
        spans.append((a, b))


def while_connected(
    spans: list[Span], starts: list[datetime], ends: list[datetime]
) -> tuple[list[Span], timedelta]:
    """Sorted disjoint spans intersected with the connected ones (found by bisection), and
    their length."""
    out: list[Span] = []
    total = _ZERO
    count = len(starts)
    for a, b in spans:
        k = bisect_right(ends, a)
        while k < count and starts[k] < b:
            s = starts[k]
            e = ends[k]
            x0 = a if a > s else s
            x1 = b if b < e else e
            if x0 < x1:
                out.append((x0, x1))
                total += x1 - x0
            k += 1
    return out, total


def intersect(xs: list[Span], ys: list[Span]) -> list[Span]:
    """Two lists of sorted disjoint spans, intersected in one merge."""
    out: list[Span] = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        x0, x1 = xs[i]
        y0, y1 = ys[j]
        a = x0 if x0 > y0 else y0
        b = x1 if x1 < y1 else y1
        if a < b:
            out.append((a, b))
        if x1 < y1:
            i += 1
        else:
            j += 1
    return out


# ---------------------------------------------------------------- one charger, measured


@dataclass(slots=True)
class Measured:
    """One charger over its measured time ``[lo, hi)``: when it was connected (parallel lists of
    sorted disjoint spans, ``up`` long) and per socket when it was down while connected (spans,
    ``lost`` long). Every known socket has an entry in both, maybe empty."""

    lo: datetime
    hi: datetime
    starts: list[datetime]
    ends: list[datetime]
    up: timedelta
    down: dict[ConnectorKey, list[Span]]
    lost: dict[ConnectorKey, timedelta]


def measure(
    charger: ChargerHistory, start: datetime, end: datetime, now: datetime, statuses: bool = True
) -> Measured | None:
    """The charger over ``[max(start, registered_at), min(end, now))``; None when that is empty.
    ``statuses=False`` leaves them unread: connectivity needs none."""
    lo = start if start > charger.registered_at else charger.registered_at
    hi = end if end < now else now
    if hi <= lo:
        return None
    starts, ends = connected_spans(charger.connections, lo, hi, now)
    up = sum(map(sub, ends, starts), _ZERO)
    if not statuses:
        return Measured(lo, hi, starts, ends, up, {}, {})
    down = down_spans(charger.statuses, lo, hi)
    for key in charger.connectors:
        if key[0] > 0 and key[1] > 0 and key not in down:
            down[key] = []
    lost = dict.fromkeys(down, _ZERO)
    for key, spans in down.items():
        if spans:
            down[key], lost[key] = while_connected(spans, starts, ends)
    return Measured(lo, hi, starts, ends, up, down, lost)


def all_down(measured: Measured) -> list[Span]:
    """When every socket was down at once (while connected)."""
    lists = list(measured.down.values())
    if not lists or not all(lists):
        return []
    return reduce(intersect, lists)


def total_length(spans: Iterable[Span]) -> timedelta:
    total = _ZERO
    for a, b in spans:
        total += b - a
    return total
