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

Each row also keeps its hourly checkpoints (csms.domain.kpi_hours; SQLite 016, PostgreSQL 013):
``hours`` (NULL for a row written before them), the deficit of each hour in ``dis_00`` to
``dis_23``, the ``offline`` bits, ``set_from`` and the anchors as text in ``downs``
(:func:`encode_anchors`). Today's row covers the day up to the hour the last round began; its
own figures and downtime rows are over those hours. A window's read (:data:`WINDOW`) takes two
rows per charger, those of its start's and its end's checkpoints (csms.domain.kpi_window).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from csms.domain.kpi_history import ConnectorKey
from csms.domain.kpi_hours import Anchor, DayHours
from csms.domain.kpi_rollup import RolledUp
from csms.domain.kpi_tally import Tally, decode_sockets, encode_sockets
from csms.domain.kpi_window import RowAt

__all__ = [
    "COLUMNS",
    "FIRST",
    "RUNNING_COLUMNS",
    "SUMS",
    "WEEK_COLUMNS",
    "WEEK_SOURCE",
    "DayRows",
    "Running",
    "day_rows",
    "decode_anchors",
    "decode_lost",
    "decode_sockets",
    "deficit_at",
    "encode_anchors",
    "encode_sockets",
    "read_downtime",
    "rolled_up",
    "row_at",
    "running_after",
    "stored_at",
    "week_columns",
    "window_columns",
]


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

COLUMNS = (
    "charge_point_id",
    "day",
    "measured_us",
    "connected_us",
    "sockets",
    "all_down_us",
    "run_days",
    "run_measured_us",
    "run_connected_us",
    "set_run",
    "run_all_down_us",
    "hours",
    *(f"dis_{h:02d}" for h in range(24)),
    "offline",
    "set_from",
    "downs",
)
"""The columns of :func:`day_rows`' ``kpi_days`` row, in order."""


def day_rows(
    cp_id: str, day: object, row: DayHours, before: Running, zero: int | None = 0
) -> DayRows:
    """The rows of one charger's day (``day`` as the backend stores it), after ``before``.
    ``zero``: how the backend stores an hour with no deficit (PostgreSQL: NULL, for nothing)."""
    tally = row.tally
    [(sockets, all_down)] = tally.all_down.items() or [(frozenset(), 0)]
    text = encode_sockets(sockets)
    if text == before.sockets:
        set_run, run_all_down = before.set_run + 1, before.all_down
    else:
        set_run, run_all_down = 1, 0
    stored = (
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
        row.hours,
        *(value or zero for value in row.deficits),
        row.offline,
        row.set_from,
        encode_anchors(row.anchors),
    )
    after = Running(
        before.days + 1,
        before.measured + tally.measured,
        before.connected + tally.connected,
        set_run,
        run_all_down + all_down,
        text,
    )
    downs: list[tuple[object, ...]] = [
        (cp_id, day, key[0], key[1], value) for key, value in tally.lost.items()
    ]
    return stored, downs, after


def encode_anchors(anchors: Iterable[Anchor]) -> str | None:
    """``hour:deficit:all_down:every:down:lost`` per anchor, ``;`` between them, sockets as
    ``evse/connector`` (``,`` between), lost as ``evse/connector=us``; None for none. The hour
    comes first: a read casts the text to its first anchor's hour."""
    out = [
        f"{a.hour}:{a.deficit}:{a.all_down}:{int(a.every)}:"
        + ",".join(f"{e}/{c}" for e, c in sorted(a.down))
        + ":"
        + ",".join(f"{e}/{c}={v}" for (e, c), v in sorted(a.lost.items()))
        for a in anchors
    ]
    return ";".join(out) if out else None


@lru_cache(maxsize=65536)
def decode_anchors(text: str) -> tuple[Anchor, ...]:
    """:func:`encode_anchors` read back. Cached (the dicts inside are never changed), big enough
    for the rows of a network's window edges: within an hour, a report reads the same ones as
    the report before."""
    anchors = []
    for part in text.split(";"):
        hour, deficit, every, flag, down, lost = part.split(":")
        lost_by: dict[ConnectorKey, int] = {}
        if lost:
            for entry in lost.split(","):
                key, value = entry.split("=")
                lost_by[_key(key)] = int(value)
        anchors.append(
            Anchor(
                int(hour),
                int(deficit),
                int(every),
                flag == "1",
                frozenset(_key(k) for k in down.split(",")) if down else frozenset(),
                lost_by,
            )
        )
    return tuple(anchors)


def _key(text: str) -> ConnectorKey:
    evse, connector = text.split("/")
    return int(evse), int(connector)


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


# ---------------------------------------------------------------- a window's read


def deficit_at(alias: str, hour: int, nulls: bool = False) -> str:
    """SQL: the deficit of row ``alias`` at checkpoint ``hour``, the sum of its first hours
    (PostgreSQL stores a zero as NULL: ``nulls``)."""
    terms = [f"{alias}.dis_{h:02d}" for h in range(hour)]
    if nulls:
        terms = [f"coalesce({term}, 0)" for term in terms]
    return "(" + (" + ".join(terms) or "0") + ")"


def window_columns(
    first_hour: int,
    last_hour: int,
    days_apart: int,
    statuses: bool,
    first_anchor: str,
    before_first_day: str,
    nulls: bool,
) -> str:
    """SQL: what a window reads per charger ``cp`` from its rows ``a`` (the first checkpoint's
    day) and ``b`` (the last one's), the fields of csms.domain.kpi_window.EdgeRow in order: the
    checkpoints' hours and how many days apart their rows are are constants. A value of no use
    is NULL (nothing to fetch): the registration when the charger was registered before the
    window's first day (``before_first_day``, a condition on ``cp.created_at``; or it has rows
    before that day), A's sockets when B's, anchors after the checkpoint or for connectivity.
    ``first_anchor``: the hour of a row's first anchor, from ``downs`` (``{}``)."""
    ca = deficit_at("a", first_hour, nulls)
    cb = deficit_at("b", last_hour, nulls)
    if statuses:
        anchors_a = f"CASE WHEN {first_anchor.format('a.downs')} <= {first_hour} THEN a.downs END"
        anchors_b = f"CASE WHEN {first_anchor.format('b.downs')} <= {last_hour} THEN b.downs END"
    else:  # connectivity needs no state but the connection's
        anchors_a = anchors_b = "NULL"
    return (
        f"CASE WHEN a.run_days > 0 OR {before_first_day} THEN NULL ELSE cp.created_at END,"
        f" b.hours >= {last_hour} AND b.set_from <= {last_hour} AND (a.charge_point_id IS NULL"
        f" OR (a.hours >= {first_hour} AND b.run_days - a.run_days = {days_apart})),"
        " a.charge_point_id IS NOT NULL,"
        " CASE WHEN a.charge_point_id IS NULL THEN b.day - b.run_days END,"
        " b.run_measured_us - b.run_connected_us"
        " - coalesce(a.run_measured_us - a.run_connected_us, 0),"
        " b.run_all_down_us - CASE WHEN a.sockets = b.sockets THEN a.run_all_down_us ELSE 0 END,"
        " a.sockets = b.sockets,"
        " b.sockets, CASE WHEN a.sockets = b.sockets THEN NULL ELSE a.sockets END,"
        f" a.set_from <= {first_hour},"
        f" coalesce({ca}, 0), {cb},"
        f" (a.offline >> {first_hour}) & 1, (b.offline >> {last_hour}) & 1,"
        f" {anchors_a}, {anchors_b}, NULL"
    )


# ---------------------------------------------------------------- a week in one row

WEEK_COLUMNS = (
    "week_flags",
    "week_deficit",
    "week_all_down",
    "week_first_sockets",
    "week_first_deficit",
    "week_first_anchors",
    "week_lost",
)
"""csms.domain.kpi_window.Week's fields, in order."""

WEEK_SOURCE = (
    "charge_point_id, day, run_days, run_measured_us - run_connected_us, run_all_down_us,"
    " sockets, hours, set_from, offline, downs, " + ", ".join(f"dis_{h:02d}" for h in range(24))
)
"""What :func:`row_at` reads of a stored row, after the charger's id."""


def row_at(values: Sequence[Any], day: date) -> RowAt:
    """A stored row of ``day`` as csms.domain.kpi_window.week_of reads it: ``values`` in
    :data:`WEEK_SOURCE`'s order after the charger's id and the day."""
    run_days, run_deficit, run_all_down, sockets, hours, set_from, offline, downs = values[:8]
    return RowAt(
        day,
        run_days,
        run_deficit,
        run_all_down,
        sockets,
        hours,
        set_from,
        offline,
        [value or 0 for value in values[8:]],
        downs,
    )


def stored_at(day: date, stored: Sequence[Any], hours: DayHours) -> RowAt:
    """A row of ``day`` :func:`day_rows` just made, as csms.domain.kpi_window.week_of reads
    it."""
    return RowAt(
        day,
        stored[6],
        stored[7] - stored[8],
        stored[10],
        stored[4],
        hours.hours,
        hours.set_from,
        hours.offline,
        hours.deficits,
        stored[COLUMNS.index("downs")],
    )


def read_downtime(
    week: bool, rows: Iterable[Sequence[Any]], downs: Iterable[Sequence[Any]] | None
) -> dict[str, dict[ConnectorKey, int]]:
    """The sockets' downtime a window's read found, per charger (id lower-cased) that lost any:
    a week's from its rows (:func:`week_columns`, the last column), another's from the downtime
    rows between its checkpoints, ``(charger, evse, connector, microseconds)`` (None: none)."""
    if week:
        return {row[0].lower(): decode_lost(row[17]) for row in rows if row[17]}
    lost: dict[str, dict[ConnectorKey, int]] = {}
    for cp, evse_id, connector_id, value in downs or ():
        lost.setdefault(cp.lower(), {})[(evse_id, connector_id)] = value
    return lost


@lru_cache(maxsize=65536)
def decode_lost(text: str) -> dict[ConnectorKey, int]:
    """Week.lost read back. Cached as :func:`decode_anchors` is (the dict is never changed:
    csms.domain.kpi_window_sums copies it before adding to it)."""
    lost: dict[ConnectorKey, int] = {}
    for entry in text.split(" "):
        key, value = entry.split("=")
        lost[_key(key)] = int(value)
    return lost


def week_columns(hour: int) -> str:
    """SQL: what a window over the week ending at the checkpoint ``hour`` of the rows ``b``
    reads from them alone (their :class:`~csms.domain.kpi_window.Week`), the fields of
    csms.domain.kpi_window.EdgeRow in order as :func:`window_columns` reads them from two rows,
    then the week's downtime. A row at another hour holds another week: not usable."""
    return (
        "CASE WHEN b.week_flags & 32 <> 0 THEN NULL ELSE cp.created_at END,"
        f" b.hours = {hour} AND b.set_from <= {hour} AND b.week_flags & 1 <> 0,"
        " b.week_flags & 2 <> 0,"
        " CASE WHEN b.week_flags & 2 = 0 THEN b.day - b.run_days END,"
        " b.week_deficit, b.week_all_down, b.week_flags & 4 <> 0, b.sockets,"
        " b.week_first_sockets, b.week_flags & 8 <> 0, b.week_first_deficit,"
        f" b.measured_us - b.connected_us, b.week_flags & 16 <> 0, (b.offline >> {hour}) & 1,"
        " b.week_first_anchors, b.downs, b.week_lost"
    )
