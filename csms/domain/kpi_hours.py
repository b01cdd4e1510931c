"""A charger's UTC day hour by hour, pure: the checkpoints the KPI roll-up keeps with each day,
and the piece of a window between a checkpoint and a moment after it.

A roll-up row (csms.domain.kpi_rollup) covers ``[midnight, midnight + hours)`` of one charger's
day: every hour of a day that has ended, today's up to the hour the last round began. At each
hour boundary ``t`` of it (a *checkpoint*, ``hour`` 0 to ``hours``) the row keeps what a piece
of a window ending at ``t`` needs (:func:`day_hours` computes them):

- the durations since midnight, as :func:`csms.domain.kpi_tally.tally` counts them over
  ``[midnight, t)``: the time not connected while measured (the *deficit*: the hour by hour
  values are stored, nearly all zero), each socket's time down while connected, and the time all
  of the row's sockets were down at once while connected;
- the state just before ``t`` (its left limit): connected or not, which of the row's sockets were
  down, and whether every one of them was.

Most of it barely changes from one hour to the next: a socket down and the charger connected
all hour adds an hour to its downtime. So the downtime figures and the state are kept only at
*anchors*, the hours where :func:`extrapolate` from the anchor before would give something
else (the writer checks every hour), and a day where nothing was ever down keeps none.

**Why a checkpoint and the state just before it are enough** (ADR 009). Under the store's shape
(per socket, a status interval ends where the next begins and only the last is open; per
charger, connections come in order, one in force at a time, only the last open), the intervals
overlapping a piece ``[t, x)`` are: those in force just before ``t`` that go on past it, and
those beginning in ``[t, x)`` (or ending there: the one in force, cut). :func:`piece_history`
rebuilds them from the state and the intervals that begin or end inside, with a made-up start at
``t`` for the ones in force (a piece clips them at ``t`` anyway) and a made-up status (only down
or not matters), so :func:`~csms.domain.kpi_tally.tally` gives the piece exactly. When nothing
that matters changes inside (no socket goes down or comes back, none is reported for the first
time), the piece is the state held for ``x - t``, connected time moved by the connections that
begin or end inside: :func:`connection_gains`. And the sockets a piece knows depend only on its
end: a socket once reported stays covered (its last interval is open), so a piece ending at
``x`` knows exactly the sockets first reported before ``x``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, NamedTuple

from csms.domain.kpi_history import (
    DOWN_STATUSES,
    ChargerHistory,
    ConnectionInterval,
    ConnectorKey,
    Measured,
    Span,
    StatusInterval,
    all_down,
    connected_spans,
    down_spans,
    measure,
)
from csms.domain.kpi_tally import Sockets, Tally, restrict, tally_measured

__all__ = [
    "HOUR",
    "HOUR_US",
    "NO_PIECE",
    "ZERO_ANCHOR",
    "Anchor",
    "ConnectionRow",
    "DayHours",
    "Piece",
    "StatusRow",
    "at_hour",
    "connection_gains",
    "day_hours",
    "extrapolate",
    "from_us",
    "matters",
    "piece_history",
    "piece_of",
    "split_for_hours",
    "to_us",
]

HOUR: Final = timedelta(hours=1)
HOUR_US: Final = 3_600_000_000
_DAY: Final = timedelta(days=1)
_MICROSECOND: Final = timedelta(microseconds=1)
_DAWN: Final = datetime.min.replace(tzinfo=UTC)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NONE: Final[Sockets] = frozenset()
# What a made-up interval in force reports: only down or not matters.
_DOWN, _UP = "Faulted", "Available"


class Anchor(NamedTuple):
    """A checkpoint's downtime figures and state, kept where :func:`extrapolate` from the anchor
    before would be wrong. Durations in microseconds since midnight."""

    hour: int
    deficit: int  # not connected while measured (also in the row's hourly columns)
    all_down: int  # all the row's sockets down at once while connected
    every: bool  # just before: the row knows a socket, and all of them were down
    down: Sockets  # just before: the row's sockets that were down
    lost: dict[ConnectorKey, int]  # per socket, down while connected (only those with some)


ZERO_ANCHOR: Final = Anchor(0, 0, 0, False, _NONE, {})
"""The anchor every row starts from, never stored: nothing down at midnight, nothing counted."""


def extrapolate(anchor: Anchor, hour: int, deficit: int) -> Anchor:
    """The figures at ``hour`` (whose deficit is ``deficit``) if nothing changed since the
    anchor: the time connected meanwhile counts for every socket down, and for all of them when
    every one is. Exact for every hour up to the next anchor: the writer stores one wherever it
    would not be."""
    if hour == anchor.hour:
        return anchor
    gained = (hour - anchor.hour) * HOUR_US - (deficit - anchor.deficit)
    if not anchor.down or gained <= 0:
        return Anchor(hour, deficit, anchor.all_down, anchor.every, anchor.down, anchor.lost)
    lost = dict(anchor.lost)
    for key in anchor.down:
        lost[key] = lost.get(key, 0) + gained
    every = anchor.all_down + gained if anchor.every else anchor.all_down
    return Anchor(hour, deficit, every, anchor.every, anchor.down, lost)


def at_hour(anchors: Sequence[Anchor], hour: int, deficit: int) -> Anchor:
    """A row's figures and state at a checkpoint, from its anchors (sorted by hour)."""
    found = ZERO_ANCHOR
    for anchor in anchors:
        if anchor.hour > hour:
            break
        found = anchor
    return extrapolate(found, hour, deficit)


# ---------------------------------------------------------------- writing a day's checkpoints


@dataclass(frozen=True, slots=True)
class DayHours:
    """One charger's roll-up row: its own figures over ``[midnight, midnight + hours)`` and its
    checkpoints."""

    tally: Tally
    hours: int
    deficits: list[int]  # per hour of the day (24), zero past ``hours``
    offline: int  # bit h (0 to hours): not connected just before midnight + h
    set_from: int  # the first checkpoint whose sockets are the row's (0: none was new)
    anchors: list[Anchor]


def split_for_hours(history: ChargerHistory, first: date, days: int) -> list[ChargerHistory]:
    """What :func:`day_hours` takes, for each day from ``first`` on, in one pass: the intervals
    overlapping the day and those ending at its midnight (the state just before it)."""
    origin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    connections: list[list[ConnectionInterval]] = [[] for _ in range(days)]
    for c in history.connections:
        for n in _days_touched(c.connected_at, c.disconnected_at, origin, days):
            connections[n].append(c)
    statuses: list[list[StatusInterval]] = [[] for _ in range(days)]
    for s in history.statuses:
        for n in _days_touched(s.started_at, s.ended_at, origin, days):
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


def _days_touched(a: datetime, b: datetime | None, origin: datetime, days: int) -> range:
    """The days ``n`` with ``a < midnight(n + 1)`` and ``b >= midnight(n)``."""
    lo = (a - origin) // _DAY
    hi = days if b is None else (b - origin) // _DAY + 1
    return range(max(lo, 0), min(hi, days))


def day_hours(history: ChargerHistory, day: date, hours: int, now: datetime) -> DayHours:
    """The row of ``day`` through ``hours`` (0 to 24; ``midnight + hours <= now``), from the
    intervals overlapping it and those ending at its midnight (:func:`split_for_hours`)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = midnight + hours * HOUR
    piece = restrict(history, midnight, end)
    measured = measure(piece, midnight, end, now)
    if hours == 0:
        # No time yet: the row only carries the state at midnight, and the sockets reported by
        # then (a piece of no length overlaps none of their intervals).
        known = frozenset(
            (s.evse_id, s.connector_id)
            for s in history.statuses
            if s.started_at < midnight and s.evse_id > 0 and s.connector_id > 0
        )
        own = Tally(0, 0, {}, {known: 0} if known else {})
    else:
        own = tally_measured(piece, measured)
    sockets = _sockets_of(own)
    deficits = [0] * 24
    if measured is not None:
        # Not connected while measured: the gaps between the connected spans, a few a day.
        gaps = []
        at = measured.lo
        for a, b in zip(measured.starts, measured.ends, strict=True):
            if a > at:
                gaps.append((at, a))
            at = b
        if at < measured.hi:
            gaps.append((at, measured.hi))
        _spread(gaps, midnight, deficits)
    # The states just before each checkpoint, from the history as it is (registered or not).
    everything = (1 << (hours + 1)) - 1
    starts, ends = connected_spans(history.connections, _DAWN, end, now)
    offline = everything & ~_before_checkpoints(zip(starts, ends, strict=True), midnight, hours)
    down_before = {
        key: mask
        for key, spans in down_spans(history.statuses, _DAWN, end).items()
        if key in sockets and (mask := _before_checkpoints(spans, midnight, hours))
    }
    set_from = _set_from(history.statuses, sockets, midnight, hours)
    anchors: list[Anchor] = []
    if down_before or (measured is not None and any(measured.lost.values())):
        anchors = _anchors(measured, deficits, down_before, sockets, midnight, hours)
    return DayHours(own, hours, deficits, offline, set_from, anchors)


def _anchors(
    measured: Measured | None,
    deficits: list[int],
    down_before: dict[ConnectorKey, int],
    sockets: Sockets,
    midnight: datetime,
    hours: int,
) -> list[Anchor]:
    """The checkpoints where :func:`extrapolate` from the anchor before is wrong."""
    zeros = [0] * (hours + 1)
    lost_cum: dict[ConnectorKey, list[int]] = {}
    every_cum = zeros
    if measured is not None:
        lost_cum = {
            key: _cumulative(spans, midnight, hours)
            for key, spans in measured.down.items()
            if spans
        }
        every_cum = _cumulative(all_down(measured), midnight, hours) if lost_cum else zeros
    anchors: list[Anchor] = []
    last = ZERO_ANCHOR
    deficit = 0
    downs: dict[tuple[ConnectorKey, ...], Sockets] = {}
    for h in range(hours + 1):
        if h:
            deficit += deficits[h - 1]
        bits = tuple(key for key, mask in down_before.items() if mask >> h & 1)
        down = downs.get(bits)
        if down is None:
            down = downs[bits] = frozenset(bits)
        actual = Anchor(
            h,
            deficit,
            every_cum[h],
            bool(sockets) and down == sockets,
            down,
            {key: cum[h] for key, cum in lost_cum.items() if cum[h]},
        )
        if extrapolate(last, h, deficit) != actual:
            anchors.append(actual)
            last = actual
    return anchors


def _sockets_of(own: Tally) -> Sockets:
    [sockets] = own.all_down or [_NONE]
    return sockets


def _spread(spans: Iterable[Span], midnight: datetime, per_hour: list[int]) -> None:
    """Adds the microseconds of spans (inside the day) to the hours they fall in."""
    for a, b in spans:
        x = (a - midnight) // _MICROSECOND
        y = (b - midnight) // _MICROSECOND
        while x < y:
            h = x // HOUR_US
            stop = (h + 1) * HOUR_US
            if stop > y:
                stop = y
            per_hour[h] += stop - x
            x = stop


def _cumulative(spans: Iterable[Span], midnight: datetime, hours: int) -> list[int]:
    """The microseconds of sorted disjoint spans inside ``[midnight, midnight + hours)`` before
    each checkpoint: ``hours + 1`` values, the first 0. One merge of spans and checkpoints."""
    out = [0] * (hours + 1)
    total = 0
    h = 1
    t = HOUR_US
    for a, b in spans:
        x = (a - midnight) // _MICROSECOND
        y = (b - midnight) // _MICROSECOND
        while h <= hours and t <= x:
            out[h] = total
            h += 1
            t += HOUR_US
        while h <= hours and t < y:
            out[h] = total + t - x
            h += 1
            t += HOUR_US
        total += y - x
    while h <= hours:
        out[h] = total
        h += 1
    return out


def _set_from(
    statuses: Iterable[StatusInterval], sockets: Sockets, midnight: datetime, hours: int
) -> int:
    """The first checkpoint by which every socket of the row had been reported."""
    first: dict[ConnectorKey, datetime] = {}
    for s in statuses:
        key = (s.evse_id, s.connector_id)
        if key in sockets and (key not in first or s.started_at < first[key]):
            first[key] = s.started_at
    latest = max(first.values(), default=_DAWN)
    if latest < midnight:
        return 0
    return min(hours, (latest - midnight) // HOUR + 1)


def _before_checkpoints(spans: Iterable[Span], midnight: datetime, hours: int) -> int:
    """Bit h set when the spans cover the moments just before checkpoint h (0 to hours)."""
    mask = 0
    for a, b in spans:
        first = (a - midnight) // HOUR + 1  # the first checkpoint after a
        last = (b - midnight) // HOUR  # the last one at or before b
        if first < 0:
            first = 0
        if last > hours:
            last = hours
        if first <= last:
            mask |= ((1 << (last - first + 1)) - 1) << first
    return mask


# ---------------------------------------------------------------- a piece after a checkpoint


class Piece(NamedTuple):
    """A charger over ``[t, x)`` after a checkpoint, as the parts of a window add it: the
    deficit, the time all of ``sockets`` were down at once while connected, each socket's time
    down while connected (only those with some)."""

    deficit: int
    all_down: int
    lost: dict[ConnectorKey, int]


NO_PIECE: Final = Piece(0, 0, {})


ConnectionRow = tuple[str, int, int | None]
"""A connection as a window's read hands it over: charger, began and ended (None: open), in
microseconds since the epoch (:func:`to_us`)."""

StatusRow = tuple[str, int, int, str, int, int | None]
"""A status report likewise: charger, EVSE, connector, status, began, ended."""


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch."""
    return (moment - _EPOCH) // _MICROSECOND


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def connection_gains(connections: Iterable[ConnectionRow], start: int, x: int) -> dict[str, int]:
    """Per charger (id lower-cased), the connected time inside ``[start, x)`` (microseconds
    since the epoch) that the connections beginning or ending there add to the state held just
    before ``start``: a connection beginning at ``c`` adds ``x - c``, one ending at ``d`` takes
    ``x - d`` away. ``connections``: each one beginning or ending inside, once."""
    gains: dict[str, int] = {}
    for cp_id, began, ended in connections:
        gain = x - began if start <= began < x else 0
        if ended is not None and start <= ended < x:
            gain -= x - ended
        key = cp_id.lower()
        gains[key] = gains.get(key, 0) + gain
    return gains


def piece_of(state: Anchor, start: datetime, x: datetime, connected: bool, gain: int) -> Piece:
    """``[start, x)`` when nothing that matters changes inside (:func:`matters`): the state
    just before ``start`` held, connected ``connected`` plus what the connections inside change
    (``gain``, :func:`connection_gains`); the charger registered by ``start``. Its all-down time
    is for the sockets of the row ``state`` comes from."""
    length = (x - start) // _MICROSECOND
    up = (length if connected else 0) + gain
    if not state.down or up == 0:
        return Piece(length - up, 0, {})
    return Piece(length - up, up if state.every else 0, dict.fromkeys(state.down, up))


def piece_history(
    charger: ChargerHistory,
    state: Anchor,
    connected: bool,
    sockets: Sockets,
    start: datetime,
    x: datetime,
) -> ChargerHistory:
    """The history of ``[start, x)`` as the store would read it, up to the starts of the
    intervals in force at ``start``: ``charger`` holds the intervals beginning or ending inside,
    the state says what was in force just before (``sockets``: those reported by then)."""
    connections = sorted(charger.connections, key=_connected_at)
    if connected and not any(c.connected_at < start for c in connections):
        connections.insert(0, ConnectionInterval(charger.charge_point_id, start, None))
    cp_id = charger.charge_point_id
    statuses = [
        StatusInterval(cp_id, k[0], k[1], _DOWN if k in state.down else _UP, None, start, None)
        for k in sorted(sockets)
    ]
    statuses.extend(sorted(charger.statuses, key=_started_at))
    history = ChargerHistory(
        charger.charge_point_id, charger.registered_at, tuple(connections), tuple(statuses)
    )
    return restrict(history, start, x)


def _connected_at(c: ConnectionInterval) -> datetime:
    return c.connected_at


def _started_at(s: StatusInterval) -> datetime:
    return s.started_at


def matters(statuses: Iterable[StatusRow], state: Anchor, sockets: Sockets) -> bool:
    """Whether a piece's status reports change what :func:`piece_of` assumes held: a socket
    going down, one down coming back, one not known before."""
    down = state.down
    for _, evse, connector, status, _, _ in statuses:
        if evse <= 0 or connector <= 0:
            continue
        if status in DOWN_STATUSES or (evse, connector) in down or (evse, connector) not in sockets:
            return True
    return False
