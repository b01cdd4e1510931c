"""KPI arithmetic, pure: connectivity and uptime over a window, their means and their series.

API.md "Monitoring". Everything here works on plain, in-memory history (the store loads it) and
takes "now" as a parameter: no I/O, no clock of its own. The rules, in one place:

- **Measured time.** A charger is measured over ``[max(start, registered_at), min(end, now))``:
  time before it was registered is left out, and time after ``now`` has not happened yet. When
  that is empty (a zero-length window, a charger registered after the window, a window wholly in
  the future) its value is ``None``, and means leave it out.
- **Connections.** A charger is connected over the union of its connection intervals (overlapping
  or unordered ones are merged). An interval with no end is open until ``now``, or until the next
  recorded connection begins when there is one (the disconnect itself went unrecorded).
- **Statuses.** A connector is *down* while its status is ``Faulted`` or ``Unavailable``
  (:data:`DOWN_STATUSES`). A status report is in force from its ``started_at`` until its
  ``ended_at`` (``now`` when open) or until the next report of the same connector begins,
  whichever is first: a newer report ends an older one, so overlapping history cannot count a
  moment twice.
- **Unknown status counts as up.** A moment that no status report of a connector covers (before
  its first report, or in a gap between reports) counts as up while the charger is connected:
  chargers report their status on boot, so such gaps are short, and a missing report is not a
  fault.
- **Sockets.** Only ``evse_id > 0 and connector_id > 0`` is a socket; the station-level status
  (1.6 connector 0, 2.0.1 EVSE 0) is left out, as in the site tree. A charger's sockets are the
  ones it has a status report for plus those listed in :attr:`ChargerHistory.connectors`.
- **Uptime.** A socket is up while its charger is connected and it is not down. A charger's
  uptime is the mean of its sockets' (:attr:`Kpi.UPTIME_BY_CONNECTOR`) or the fraction of time at
  least one socket was up (:attr:`Kpi.UPTIME_ANY_CONNECTOR`). **A charger with no socket known**
  counts as one socket that is up whenever the charger is connected: its uptime equals its
  connectivity, rather than dropping out of the means or counting as always down.
- **Groups.** A site's or network's value is the plain mean of its chargers' values (every
  charger weighs the same, whatever its measured time or number of sockets); no charger with a
  value gives ``None``. In a :func:`report`, the items are one per socket for
  ``UPTIME_BY_CONNECTOR`` (one per charger for a charger with no socket) and one per charger
  otherwise; chargers with no measured time are left out of the items too.
- **Series.** Buckets are aligned to the resolution in UTC (counted from the Unix epoch; every
  resolution divides a day). The first starts at ``start`` floored; each counts only its part
  inside ``[start, end)`` and before ``now``, and its value is the mean of the chargers' values
  over that part: a series of one bucket equals the plain value. A bucket with no measured time
  is ``None``.

A single window is computed exactly (timedelta arithmetic in microseconds, one division at the
end); series accumulate in float seconds. Every value is clamped to [0, 1]. The cost is linear in
the number of intervals: one sweep per charger (csms.domain.kpi_history; a sort only for a history
out of order), and each span is spread over the buckets of a series in constant time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, NamedTuple

from csms.domain.errors import Invalid
from csms.domain.kpi_history import (
    DOWN_STATUSES,
    ChargerHistory,
    ConnectionInterval,
    ConnectorKey,
    Measured,
    Span,
    StatusInterval,
    all_down,
    measure,
    total_length,
)

__all__ = [
    "DOWN_STATUSES",
    "MAX_SERIES_POINTS",
    "ChargerHistory",
    "ConnectionInterval",
    "ConnectorKey",
    "Kpi",
    "KpiItem",
    "KpiReport",
    "Resolution",
    "StatusInterval",
    "charger_uptime",
    "charger_value",
    "connectivity",
    "connector_uptime",
    "connector_uptimes",
    "mean_of",
    "report",
    "series",
]

MAX_SERIES_POINTS: Final = 50_000
"""More buckets are refused: a month at one minute fits, a year at one minute does not."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO: Final = timedelta(0)


class Kpi(StrEnum):
    CONNECTIVITY = "connectivity"
    UPTIME_BY_CONNECTOR = "uptime_by_connector"
    UPTIME_ANY_CONNECTOR = "uptime_any_connector"

    @classmethod
    def uptime(cls, by_connector: bool) -> Kpi:
        """The uptime KPI an ``aggregateByConnector`` flag asks for."""
        return cls.UPTIME_BY_CONNECTOR if by_connector else cls.UPTIME_ANY_CONNECTOR


class Resolution(StrEnum):
    MINUTE = "1m"
    QUARTER_HOUR = "15m"
    HOUR = "1h"
    DAY = "1d"

    @property
    def step(self) -> timedelta:
        return _STEPS[self]


_STEPS: Final = {
    Resolution.MINUTE: timedelta(minutes=1),
    Resolution.QUARTER_HOUR: timedelta(minutes=15),
    Resolution.HOUR: timedelta(hours=1),
    Resolution.DAY: timedelta(days=1),
}


class KpiItem(NamedTuple):
    # A named tuple, not a dataclass: a network's report builds one per socket, and a frozen
    # dataclass takes several times longer to build.
    charge_point_id: str
    value: float
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class KpiReport:
    value: float | None
    items: tuple[KpiItem, ...]


# ---------------------------------------------------------------- public functions


def connectivity(
    charger: ChargerHistory, start: datetime, end: datetime, now: datetime
) -> float | None:
    """The fraction of the charger's measured time it had a live OCPP connection."""
    return charger_value(Kpi.CONNECTIVITY, charger, start, end, now)


def charger_uptime(
    charger: ChargerHistory, start: datetime, end: datetime, now: datetime, *, by_connector: bool
) -> float | None:
    return charger_value(Kpi.uptime(by_connector), charger, start, end, now)


def charger_value(
    kpi: Kpi, charger: ChargerHistory, start: datetime, end: datetime, now: datetime
) -> float | None:
    _check_window(start, end, now)
    measured = measure(charger, start, end, now, kpi is not Kpi.CONNECTIVITY)
    return None if measured is None else _value(kpi, measured)


def connector_uptime(
    charger: ChargerHistory,
    evse_id: int,
    connector_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
) -> float | None:
    """One connector's uptime; a connector with no status report is up whenever connected."""
    _check_window(start, end, now)
    measured = measure(charger, start, end, now)
    if measured is None:
        return None
    lost = measured.lost.get((evse_id, connector_id), _ZERO)
    return _ratio(measured.up - lost, measured.hi - measured.lo)


def connector_uptimes(
    charger: ChargerHistory, start: datetime, end: datetime, now: datetime
) -> list[KpiItem]:
    """One item per socket, in (evse, connector) order; empty when nothing is measured."""
    _check_window(start, end, now)
    measured = measure(charger, start, end, now)
    return [] if measured is None else _socket_items(charger.charge_point_id, measured)


def mean_of(values: Iterable[float | None]) -> float | None:
    """The mean of the values that exist; ``None`` when none does."""
    total = 0.0
    count = 0
    for value in values:
        if value is not None:
            total += value
            count += 1
    return None if count == 0 else _clamp(total / count)


def report(
    kpi: Kpi, chargers: Iterable[ChargerHistory], start: datetime, end: datetime, now: datetime
) -> KpiReport:
    """A group's value (the mean of its chargers') with its items: what one KPI request returns
    for a charger, a site's subtree or a network."""
    _check_window(start, end, now)
    values: list[float] = []
    items: list[KpiItem] = []
    statuses = kpi is not Kpi.CONNECTIVITY
    for charger in chargers:
        measured = measure(charger, start, end, now, statuses)
        if measured is None:
            continue
        value = _value(kpi, measured)
        values.append(value)
        if kpi is Kpi.UPTIME_BY_CONNECTOR and measured.down:
            items.extend(_socket_items(charger.charge_point_id, measured))
        else:
            items.append(KpiItem(charger.charge_point_id, value))
    return KpiReport(mean_of(values), tuple(items))


def series(
    kpi: Kpi,
    chargers: Iterable[ChargerHistory],
    start: datetime,
    end: datetime,
    resolution: Resolution,
    now: datetime,
) -> list[tuple[datetime, float | None]]:
    """``(bucket start, value)`` for every bucket from ``start`` floored up to ``end``.

    One sweep: each charger is measured once over the whole window and its spans are spread over
    the buckets, so the cost grows with buckets plus intervals, not their product. A bucket's value
    is the sum of its chargers' fractions over their count. The chargers measured over the whole
    (clipped) bucket share its length as denominator, so only their up time is summed; the
    charger registered inside a bucket adds its own fraction for that bucket instead.
    """
    _check_window(start, end, now)
    if end == start:
        return []
    step = resolution.step
    step_s = step.total_seconds()
    first = _EPOCH + (start - _EPOCH) // step * step
    count = -((first - end) // step)
    if count > MAX_SERIES_POINTS:
        raise Invalid("resolution", f"{count} points; at most {MAX_SERIES_POINTS} per series")
    hi = min(end, now)
    times = [first + n * step for n in range(count)]
    # Each bucket's measured length: clipped to the window and to now.
    lengths = [max(_ZERO, min(t + step, hi) - max(t, start)).total_seconds() for t in times]
    # One slot more than buckets: a span may end exactly at the end of the last one.
    partial = [0.0] * (count + 1)
    cover = [0.0] * (count + 2)
    fractions = [0.0] * count
    joined = [0] * count
    statuses = kpi is not Kpi.CONNECTIVITY
    for charger in chargers:
        measured = measure(charger, start, end, now, statuses)
        if measured is None:
            continue
        lo = measured.lo
        home = (lo - first) // step
        joined[home] += 1
        before = partial[home]
        positive, negative, weight = _signal(kpi, measured)
        _spread(positive, 1.0, first, step_s, partial, cover)
        _spread(negative, -weight, first, step_s, partial, cover)
        if lo > times[home] and lo > start:
            # Registered inside this bucket: its fraction there has a denominator of its own.
            mine = partial[home] - before
            partial[home] = before
            fractions[home] += mine / (min(times[home] + step, hi) - lo).total_seconds()
    points: list[tuple[datetime, float | None]] = []
    running = 0.0
    members = 0
    for n in range(count):
        running += cover[n]
        members += joined[n]
        length = lengths[n]
        if length <= 0.0 or members == 0:
            points.append((times[n], None))
        else:
            shared = (partial[n] + running * step_s) / length
            points.append((times[n], _clamp((shared + fractions[n]) / members)))
    return points


# ---------------------------------------------------------------- one charger's value


def _value(kpi: Kpi, measured: Measured) -> float:
    window = measured.hi - measured.lo
    if kpi is Kpi.CONNECTIVITY or not measured.down:
        return _ratio(measured.up, window)
    if kpi is Kpi.UPTIME_BY_CONNECTOR:
        sockets = len(measured.down)
        lost = sum(measured.lost.values(), _ZERO)
        return _ratio(measured.up * sockets - lost, window * sockets)
    return _ratio(measured.up - total_length(all_down(measured)), window)


def _socket_items(charge_point_id: str, measured: Measured) -> list[KpiItem]:
    window = measured.hi - measured.lo
    up = measured.up
    lost = measured.lost
    return [
        KpiItem(charge_point_id, _ratio(up - lost[key], window), key[0], key[1])
        for key in sorted(lost)
    ]


def _signal(kpi: Kpi, measured: Measured) -> tuple[Iterable[Span], list[Span], float]:
    """The KPI's up time as spans counted once minus spans counted with a weight: a socket down
    weighs 1/sockets in the mean of sockets, all of them down weighs 1 for 'any socket up'."""
    connected = zip(measured.starts, measured.ends, strict=True)
    if kpi is Kpi.CONNECTIVITY or not measured.down:
        return connected, [], 0.0
    if kpi is Kpi.UPTIME_BY_CONNECTOR:
        lost = [span for spans in measured.down.values() for span in spans]
        return connected, lost, 1.0 / len(measured.down)
    return connected, all_down(measured), 1.0


# ---------------------------------------------------------------- spans and buckets


def _spread(
    spans: Iterable[Span],
    weight: float,
    first: datetime,
    step_s: float,
    partial: list[float],
    cover: list[float],
) -> None:
    """Adds the spans' weighted time to the buckets, in constant time per span.

    A span is two events, its start (+weight) and end (-weight). An event at ``x`` in bucket
    ``i`` adds ``weight`` for the rest of that bucket (``partial``) and for every bucket after it
    (``cover``, a difference array summed at the end), so a bucket holds exactly the part of the
    span inside it, at any length.
    """
    for a, b in spans:
        x = (a - first).total_seconds()
        i = int(x // step_s)
        partial[i] += weight * ((i + 1) * step_s - x)
        cover[i + 1] += weight
        x = (b - first).total_seconds()
        i = int(x // step_s)
        partial[i] -= weight * ((i + 1) * step_s - x)
        cover[i + 1] -= weight


def _ratio(part: timedelta, whole: timedelta) -> float:
    return _clamp(part / whole)


def _clamp(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    # Naive times would compare as some other zone's wall clock: refuse them at the door.
    for field, moment in (("start", start), ("end", end), ("now", now)):
        if moment.tzinfo is None:
            raise Invalid(field, f"{field} must carry a time zone")
    if end < start:
        raise Invalid("end", "end is before start")
