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
from functools import lru_cache, partial
from typing import Final, NamedTuple

from csms.domain.kpi_history import (
    ChargerHistory,
    ConnectionInterval,
    ConnectorKey,
    Measured,
    StatusInterval,
    all_down,
    measure,
    total_length,
)
from csms.domain.kpis import Kpi, KpiItem, KpiReport, mean_of

__all__ = [
    "Sockets",
    "Sums",
    "SumsRow",
    "Tally",
    "decode_sockets",
    "encode_sockets",
    "report_of",
    "report_of_sums",
    "restrict",
    "split_by_day",
    "sums_of",
    "tally",
    "tally_measured",
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
    return tally_measured(charger, measure(charger, start, end, now))


def tally_measured(charger: ChargerHistory, measured: Measured | None) -> Tally:
    """:func:`tally` from the charger measured over the piece (``None``: nothing measured)."""
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


class Sums(NamedTuple):
    """One charger over a whole window, reduced to what its values are made of: the measured and
    connected microseconds, the window's sockets, the time all of them were down at once while
    connected, and per socket its time down while connected (only sockets with some; ``None``
    when none was read: only uptime by connector needs them)."""

    charge_point_id: str
    measured: int
    connected: int
    sockets: str  # encode_sockets
    all_down: int
    lost: dict[ConnectorKey, int] | None


SumsRow = tuple[str, int, int, str, int, dict[ConnectorKey, int] | None]
"""What a report is made of, per charger, as a plain tuple (a network's report builds ten
thousand): :class:`Sums` with its sockets as text (:func:`encode_sockets`). A tuple holding a
set stays tracked by the garbage collector, and ten thousand of them made every report run a
full collection."""


def encode_sockets(sockets: Sockets) -> str:
    """A set of sockets as text, ``"1/1 1/2"`` (``""``: none), as the roll-up's rows keep it."""
    return " ".join(f"{evse}/{connector}" for evse, connector in sorted(sockets))


@lru_cache(maxsize=1024)
def decode_sockets(text: str) -> Sockets:
    """Cached: a network has few distinct sets of sockets, and each is read once per charger."""
    if not text:
        return frozenset()
    keys = []
    for key in text.split(" "):
        evse, connector = key.split("/")
        keys.append((int(evse), int(connector)))
    return frozenset(keys)


@lru_cache(maxsize=1024)
def _in_order(text: str) -> tuple[ConnectorKey, ...]:
    """A set of sockets (as text) in order, once per set."""
    return tuple(sorted(decode_sockets(text)))


def sums_of(cp_id: str, counted: Tally) -> Sums:
    """A tally summed over the pieces of a whole window, reduced: its all-sockets-down time is
    the one of the pieces that knew the window's sockets."""
    sockets = counted.sockets()
    return Sums(
        cp_id,
        counted.measured,
        counted.connected,
        encode_sockets(sockets),
        counted.all_down.get(sockets, 0),
        counted.lost,
    )


def report_of(kpi: Kpi, tallies: Iterable[tuple[str, Tally]]) -> KpiReport:
    """What csms.domain.kpis.report gives for these chargers (in this order), from their tallies
    over the whole window."""
    return report_of_sums(kpi, [sums_of(cp_id, counted) for cp_id, counted in tallies])


def report_of_sums(kpi: Kpi, chargers: Iterable[SumsRow]) -> KpiReport:
    """:func:`report_of` from the chargers' sums (in this order); one with nothing measured is
    left out, as csms.domain.kpis.report leaves it out."""
    values: list[float] = []
    items: list[KpiItem] = []
    add = values.append
    item = items.append
    any_connector = kpi is Kpi.UPTIME_ANY_CONNECTOR
    connectivity = kpi is Kpi.CONNECTIVITY
    for cp_id, measured, up, sockets, every, lost in chargers:
        if measured == 0:
            continue
        # csms.domain.kpis._value on integers (timedelta division is the same integer division
        # of microseconds).
        whole = up / measured
        whole = 0.0 if whole < 0.0 else 1.0 if whole > 1.0 else whole
        if connectivity or not sockets:
            add(whole)
            item(_item((cp_id, whole, None, None)))
            continue
        if any_connector:
            value = _clamp((up - every) / measured)
            add(value)
            item(_item((cp_id, value, None, None)))
            continue
        # Uptime by connector: the mean of the sockets', an item each.
        keys = _in_order(sockets)
        count = len(keys)
        down = sum(lost.values()) if lost else 0
        add(_clamp((up * count - down) / (measured * count)))
        # Most sockets lost nothing: their value is the charger's connectivity.
        if not lost:
            items.extend([_item((cp_id, whole, evse, connector)) for evse, connector in keys])
            continue
        for evse_id, connector_id in keys:
            gone = lost.get((evse_id, connector_id))
            share = _clamp((up - gone) / measured) if gone else whole
            item(_item((cp_id, share, evse_id, connector_id)))
    return KpiReport(mean_of(values), tuple(items))


# A KpiItem from its four fields without the named tuple's Python-level constructor: a network's
# report by connector builds one per socket.
_item = partial(tuple.__new__, KpiItem)


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
