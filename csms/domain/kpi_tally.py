"""A charger's KPIs as durations that add up over the pieces of a window: pure, exact.

Every KPI of a charger is a ratio of durations over its measured time (csms.domain.kpis states
the rules). Cut a window into pieces (the roll-up's whole UTC days, the partial days at its edges,
today until now), measure each piece on the history that overlaps it (:func:`tally`), add the
pieces up (:meth:`Tally.add`), and :func:`report_of` gives what csms.domain.kpis.report gives for
the whole window, to the last bit: the same integer microseconds divided once at the end.

Why the durations add up:

- **Measured and connected time.** The pieces cut ``[max(start, registered_at), min(end, now))``
  into parts, and a connection's span clipped to each part adds up to the span clipped to the
  whole.
- **A socket's time down while connected** adds up likewise. A piece in which the socket has no
  status report adds nothing: unknown counts as up.
- **The window's sockets** are the union of the pieces' sockets: a report that overlaps the window
  overlaps one of its pieces. So the mean over the window's sockets is computed from the sums.
- **The time every socket was down at once.** In a piece that does not know every socket of the
  window, the socket it does not know has no report there, is up, and nothing counts. In a piece
  that knows them all, the piece's own figure counts. So a piece keeps that time together with
  its set of sockets (:attr:`Tally.all_down`), and the sum counts only the pieces whose set is the
  window's.

The one assumption is that a piece's history is the intervals overlapping it, and that these cut
the charger's spans exactly as the whole window's do. That holds for the history the store
writes: per connector, a status interval ends where the next one begins and only the last is
open; per charger, connections come in order and only the last is open. (An older interval left
open under a newer one ends where the newer one begins, and a window that does not reach the
newer one would not see that: the exact computation itself would then depend on where a window
starts.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final

from csms.domain.kpi_history import (
    ChargerHistory,
    ConnectionInterval,
    ConnectorKey,
    StatusInterval,
    all_down,
    measure,
    total_length,
)
from csms.domain.kpis import Kpi, KpiItem, KpiReport, mean_of

__all__ = [
    "Sockets",
    "Tally",
    "report_of",
    "restrict",
    "split_by_day",
    "tally",
    "value_of",
]

Sockets = frozenset[ConnectorKey]

_NONE: Final[Sockets] = frozenset()
_MICROSECOND: Final = timedelta(microseconds=1)
_DAY: Final = timedelta(days=1)


@dataclass(slots=True)
class Tally:
    """One charger over some pieces of a window, in microseconds."""

    measured: int = 0
    connected: int = 0  # within the measured time
    lost: dict[ConnectorKey, int] = field(default_factory=dict)
    """Per socket, the time it was down while connected; only sockets with some."""
    all_down: dict[Sockets, int] = field(default_factory=dict)
    """Per set of sockets a piece knew (never empty), the time all of them were down at once while
    connected, summed over the pieces that knew exactly that set (maybe 0)."""

    def add(self, other: Tally) -> None:
        self.measured += other.measured
        self.connected += other.connected
        lost = self.lost
        for key, value in other.lost.items():
            lost[key] = lost.get(key, 0) + value
        every = self.all_down
        for sockets, value in other.all_down.items():
            every[sockets] = every.get(sockets, 0) + value

    def sockets(self) -> Sockets:
        """The sockets any piece knew: the window's."""
        every = self.all_down
        if len(every) == 1:
            for only in every:
                return only
        return _NONE.union(*every)


def tally(charger: ChargerHistory, start: datetime, end: datetime, now: datetime) -> Tally:
    """The charger's durations over ``[start, end)``, from a history that holds the intervals
    overlapping it (as the store reads them, or :func:`restrict` cuts them)."""
    measured = measure(charger, start, end, now)
    if measured is None:
        # Nothing measured, but the sockets it knows are still the window's.
        known = frozenset(
            key
            for key in [(s.evse_id, s.connector_id) for s in charger.statuses]
            + list(charger.connectors)
            if key[0] > 0 and key[1] > 0
        )
        return Tally(0, 0, {}, {known: 0} if known else {})
    sockets = frozenset(measured.down)
    return Tally(
        (measured.hi - measured.lo) // _MICROSECOND,
        measured.up // _MICROSECOND,
        {key: value // _MICROSECOND for key, value in measured.lost.items() if value},
        {sockets: total_length(all_down(measured)) // _MICROSECOND} if sockets else {},
    )


# ---------------------------------------------------------------- values, as kpis computes them


def value_of(kpi: Kpi, tally: Tally) -> float | None:
    """The charger's value over the pieces summed in ``tally``: csms.domain.kpis's ``_value``
    on integers (timedelta division is the same integer division of microseconds)."""
    if tally.measured == 0:
        return None
    return _value(kpi, tally, tally.sockets())


def _value(kpi: Kpi, tally: Tally, sockets: Sockets) -> float:
    measured = tally.measured
    if kpi is Kpi.CONNECTIVITY or not sockets:
        return _clamp(tally.connected / measured)
    if kpi is Kpi.UPTIME_BY_CONNECTOR:
        count = len(sockets)
        lost = sum(tally.lost.values())
        return _clamp((tally.connected * count - lost) / (measured * count))
    return _clamp((tally.connected - tally.all_down.get(sockets, 0)) / measured)


def report_of(kpi: Kpi, tallies: Iterable[tuple[str, Tally]]) -> KpiReport:
    """What csms.domain.kpis.report gives for these chargers (in this order), from their tallies
    over the whole window."""
    values: list[float] = []
    items: list[KpiItem] = []
    by_connector = kpi is Kpi.UPTIME_BY_CONNECTOR
    for cp_id, counted in tallies:
        measured = counted.measured
        if measured == 0:
            continue
        sockets = counted.sockets()
        value = _value(kpi, counted, sockets)
        values.append(value)
        if by_connector and sockets:
            lost = counted.lost
            up = counted.connected
            # Most sockets lost nothing: their value is the charger's connectivity.
            whole = _clamp(up / measured)
            for evse_id, connector_id in _in_order(sockets):
                down = lost.get((evse_id, connector_id))
                share = _clamp((up - down) / measured) if down else whole
                items.append(KpiItem(cp_id, share, evse_id, connector_id))
        else:
            items.append(KpiItem(cp_id, value))
    return KpiReport(mean_of(values), tuple(items))


@lru_cache(maxsize=1024)
def _in_order(sockets: Sockets) -> tuple[ConnectorKey, ...]:
    """Sorted once per set: a network's chargers share a few sets (the store's reads hand out
    one object per set)."""
    return tuple(sorted(sockets))


def _clamp(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


# ---------------------------------------------------------------- cutting a history into pieces


def restrict(history: ChargerHistory, start: datetime, end: datetime) -> ChargerHistory:
    """The intervals of ``history`` that overlap ``[start, end)``, by the store's rule (begun
    before ``end``, and open or ended after ``start``)."""
    return ChargerHistory(
        history.charge_point_id,
        history.registered_at,
        tuple(
            c
            for c in history.connections
            if c.connected_at < end and (c.disconnected_at is None or c.disconnected_at > start)
        ),
        tuple(
            s
            for s in history.statuses
            if s.started_at < end and (s.ended_at is None or s.ended_at > start)
        ),
        history.connectors,
    )


def split_by_day(history: ChargerHistory, first: date, days: int) -> list[ChargerHistory]:
    """:func:`restrict` to each UTC day from ``first`` on, in one pass: interval by interval, the
    days it overlaps (an interval of no length exactly at midnight overlaps none)."""
    connections: list[list[ConnectionInterval]] = [[] for _ in range(days)]
    for c in history.connections:
        for n in _days_overlapped(c.connected_at, c.disconnected_at, first, days):
            connections[n].append(c)
    statuses: list[list[StatusInterval]] = [[] for _ in range(days)]
    for s in history.statuses:
        for n in _days_overlapped(s.started_at, s.ended_at, first, days):
            statuses[n].append(s)
    return [
        ChargerHistory(
            history.charge_point_id,
            history.registered_at,
            tuple(connections[n]),
            tuple(statuses[n]),
            history.connectors,
        )
        for n in range(days)
    ]


def _days_overlapped(a: datetime, b: datetime | None, first: date, days: int) -> range:
    """The days ``n`` (counted from ``first``) whose ``[midnight, next midnight)`` overlaps
    ``[a, b)``: from the day of ``a`` to the last day beginning before ``b``."""
    origin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    lo = (a - origin) // _DAY
    hi = days if b is None else -((origin - b) // _DAY)  # ceil: past the last day begun before b
    return range(max(lo, 0), min(hi, days))
