"""The KPI roll-up's rows, the same on both backends: a day's tally as rows, and what a read of a
range of days returns, as one :class:`~csms.domain.kpi_rollup.RolledUp` per charger.

``kpi_days`` holds one row per charger and day: the day's measured, connected and
all-sockets-down microseconds, the set of sockets its history knows as text (``"1/1 1/2"``,
``""`` for none), and running totals over the charger's rows before it (:class:`Running`). So
the sums over a range of days are its last row's running totals and own figures minus its first
row's running totals: two rows per charger, whatever the length of the range. The
all-sockets-down time sums only over days that knew the same sockets (csms.domain.kpi_tally):
``set_run`` says how many days in a row up to this one did, and the running total restarts when
the set changes; a range across a change (rare: a socket once reported stays known) is summed
per set by a second read.

``kpi_day_downtime`` holds a row per socket and day only when the socket was down while
connected (a socket without one was up whenever connected); reads sum them per socket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from csms.domain.kpi_rollup import RolledUp
from csms.domain.kpi_tally import Sockets, Tally

__all__ = [
    "FIRST",
    "RUNNING_COLUMNS",
    "SUMS",
    "DayRows",
    "Running",
    "day_rows",
    "decode_sockets",
    "encode_sockets",
    "rolled_up",
    "running_after",
]


def encode_sockets(sockets: Sockets) -> str:
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


class Running(NamedTuple):
    """A charger's running totals over its rows before a day, and the sockets of the day
    before it (None: there is none)."""

    days: int
    measured: int
    connected: int
    set_run: int  # the day before's
    all_down: int  # over the days in a row before this one knowing ``sockets``
    sockets: str | None


FIRST = Running(0, 0, 0, 0, 0, None)
"""Before a charger's first row."""


DayRows = tuple[tuple[object, ...], list[tuple[object, ...]], Running]
"""A ``kpi_days`` row and its ``kpi_day_downtime`` rows, in column order, and the running totals
before the next day."""


def day_rows(cp_id: str, day: object, tally: Tally, before: Running) -> DayRows:
    """The rows of one charger's day (``day`` as the backend stores it), after ``before``."""
    [(sockets, all_down)] = tally.all_down.items() or [(frozenset(), 0)]
    text = encode_sockets(sockets)
    if text == before.sockets:
        set_run, run_all_down = before.set_run + 1, before.all_down
    else:
        set_run, run_all_down = 1, 0
    row = (
        cp_id,
        day,
        tally.measured,
        tally.connected,
        text,
        all_down,
        before.days,
        before.measured,
        before.connected,
        set_run,
        run_all_down,
    )
    after = Running(
        before.days + 1,
        before.measured + tally.measured,
        before.connected + tally.connected,
        set_run,
        run_all_down + all_down,
        text,
    )
    return row, [(cp_id, day, key[0], key[1], value) for key, value in tally.lost.items()], after


def running_after(row: tuple[Any, ...]) -> Running:
    """The running totals after a stored day: ``row`` is its ``measured_us, connected_us,
    sockets, all_down_us, run_days, run_measured_us, run_connected_us, set_run,
    run_all_down_us``."""
    measured, connected, sockets, all_down, days, run_measured, run_connected, set_run, run = row
    return Running(
        days + 1,
        run_measured + measured,
        run_connected + connected,
        set_run,
        run + all_down,
        sockets,
    )


RUNNING_COLUMNS = (
    "measured_us, connected_us, sockets, all_down_us, run_days, run_measured_us,"
    " run_connected_us, set_run, run_all_down_us"
)
"""What :func:`running_after` reads, in order."""

SUMS = (
    "lo.day, hi.day, hi.run_days - lo.run_days + 1,"
    " hi.run_measured_us + hi.measured_us - lo.run_measured_us,"
    " hi.run_connected_us + hi.connected_us - lo.run_connected_us,"
    " CASE WHEN hi.set_run >= hi.run_days - lo.run_days + 1"
    " THEN hi.run_all_down_us + hi.all_down_us - lo.run_all_down_us END, hi.sockets"
)
"""A range's sums from its first row ``lo`` and last row ``hi``: first day, last day, rows,
measured, connected, all down (NULL when the sockets changed within the range), sockets."""


def rolled_up(
    sums: Iterable[tuple[Any, ...]],
    by_sockets: Iterable[tuple[str, str, int]],
    downtime: Iterable[tuple[str, int, int, int]],
    registered: Callable[[Any], datetime],
    to_date: Callable[[Any], date],
) -> list[RolledUp]:
    """One per charger, in the order of ``sums``: id, registered at, then :data:`SUMS` (a NULL
    count when the charger has no rows in the range). ``by_sockets`` (id, set, all down) for the
    chargers whose sockets changed within the range; ``downtime`` (id, EVSE, connector, down)
    per socket, maybe none read. ``registered`` and ``to_date`` convert the stored values."""
    out: list[RolledUp] = []
    dates: dict[Any, date] = {}  # a range has few distinct first and last days
    for cp_id, created, first, last, count, measured, connected, all_down, sockets in sums:
        if count is None:
            out.append(RolledUp(cp_id, registered(created)))
            continue
        every = {decode_sockets(sockets): all_down} if sockets and all_down is not None else {}
        if (lo := dates.get(first)) is None:
            lo = dates[first] = to_date(first)
        if (hi := dates.get(last)) is None:
            hi = dates[last] = to_date(last)
        counted = Tally(measured, connected, {}, every)
        out.append(RolledUp(cp_id, registered(created), count, lo, hi, counted))
    by_sockets = list(by_sockets)
    downtime = list(downtime)
    if by_sockets or downtime:
        found = {charger.charge_point_id.lower(): charger.tally for charger in out if charger.days}
        for cp_id, text, every_down in by_sockets:
            if text and (mixed := found.get(cp_id.lower())) is not None:
                mixed.all_down[decode_sockets(text)] = every_down
        for cp_id, evse_id, connector_id, down in downtime:
            if (lost := found.get(cp_id.lower())) is not None:
                lost.lost[(evse_id, connector_id)] = down
    return out
