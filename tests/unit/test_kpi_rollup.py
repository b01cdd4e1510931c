"""The KPI roll-up, pure: a report made of whole days' tallies plus intervals for the rest equals
the exact computation over the whole window (differential, hypothesis), and the day arithmetic,
plans and rounds it rests on (tables)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.domain.kpi_history import ChargerHistory, ConnectionInterval, StatusInterval
from csms.domain.kpi_hours import DayHours
from csms.domain.kpi_rollup import (
    RolledUp,
    RollupProgress,
    RollupRun,
    day_of,
    day_start,
    missing_runs,
    plan,
    whole_days,
)
from csms.domain.kpi_tally import Tally, report_of, restrict, split_by_day, tally, value_of
from csms.domain.kpis import Kpi, KpiReport, report
from csms.store.kpi_rollup_horizon import RollupHorizon
from csms.store.kpi_rollup_rows import (
    FIRST,
    day_rows,
    decode_sockets,
    encode_sockets,
    rolled_up,
    running_after,
)
from tests.unit.kpi_scenarios import BASE, DAYS, Event, Model, events, minute, moments

DAY = timedelta(days=1)


# ---------------------------------------------------------------- the differential test


@st.composite
def fleets(draw: st.DrawFn) -> list[ChargerHistory]:
    """One to four chargers, registered at any moment (before, inside or after a window)."""
    fleet = []
    for n in range(draw(st.integers(1, 4))):
        model = Model(f"CP{n}", draw(st.one_of(st.just(minute(-1440)), moments)))
        if draw(st.booleans()):
            model.apply(Event("connect", minute(-1440)))  # connected since before it all
        for event in draw(events()):
            model.apply(event)
        fleet.append(model.history())
    return fleet


@st.composite
def windows(draw: st.DrawFn) -> tuple[datetime, datetime, datetime]:
    """Windows with whole days in them and partial first and last days (or none), ``now``
    before, inside or after."""
    start = draw(st.one_of(st.integers(-720, 2 * 1440).map(minute), moments))
    days, minutes = draw(st.integers(0, DAYS)), draw(st.integers(0, 1439))
    end = start + timedelta(days=days, minutes=max(minutes, 1 - 1440 * days))
    now = draw(st.one_of(moments, st.just(end), st.just(end + DAY)))
    return start, end, now


def rows_of(
    history: ChargerHistory, now: datetime, cut: int, hole: int | None = None
) -> dict[date, Tally]:
    """The roll-up's rows for the charger as a round at the end of each day writes them (so
    before ``now``), from its registration day on, but at most ``cut`` days: the days after were
    not rolled up yet, or a late change deleted them. ``hole``: a day missing in between, which
    the store never leaves but the read must not trust."""
    first = day_of(history.registered_at)
    days = max(0, min((day_of(now) - first).days, cut))
    pieces = split_by_day(history, first, days)
    rows = {}
    for n, piece in enumerate(pieces):
        day = first + n * DAY
        assert piece == restrict(history, day_start(day), day_start(day + DAY))
        if n != hole:
            rows[day] = tally(piece, day_start(day), day_start(day + DAY), day_start(day + DAY))
    return rows


def read_sums(history: ChargerHistory, rows: dict[date, Tally], first: date, end: date) -> RolledUp:
    """What the store's read returns for the charger: its rows of ``[first, end)`` summed."""
    chosen = sorted(day for day in rows if first <= day < end)
    if not chosen:
        return RolledUp(history.charge_point_id, history.registered_at)
    total = Tally()
    for day in chosen:
        total.add(rows[day])
    return RolledUp(
        history.charge_point_id, history.registered_at, len(chosen), chosen[0], chosen[-1], total
    )


def through_rollup(
    kpi: Kpi,
    fleet: list[ChargerHistory],
    cuts: list[tuple[int, int | None]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> KpiReport:
    first, last = whole_days(start, end, now)
    tallies = []
    for history, (cut, hole) in zip(fleet, cuts, strict=True):
        total = Tally()
        pieces: tuple[tuple[datetime, datetime], ...] = ((start, end),)
        if first < last:
            sums = read_sums(history, rows_of(history, now, cut, hole), first, last)
            planned = plan(sums, start, end, first, last)
            total, pieces = planned.rolled, planned.pieces
        for a, b in pieces:
            total.add(tally(restrict(history, a, b), a, b, now))
        tallies.append((history.charge_point_id, total))
    return report_of(kpi, tallies)


def assert_same(got: KpiReport, expected: KpiReport) -> None:
    if expected.value is None:
        assert got.value is None
    else:
        assert got.value == pytest.approx(expected.value, abs=1e-9)
    assert [(i.charge_point_id, i.evse_id, i.connector_id) for i in got.items] == [
        (i.charge_point_id, i.evse_id, i.connector_id) for i in expected.items
    ]
    for mine, theirs in zip(got.items, expected.items, strict=True):
        assert mine.value == pytest.approx(theirs.value, abs=1e-9), mine


@settings(max_examples=200, deadline=None)
@given(
    fleets(),
    windows(),
    st.lists(
        st.tuples(st.integers(0, DAYS + 2), st.one_of(st.none(), st.integers(0, DAYS))),
        min_size=4,
        max_size=4,
    ),
)
def test_whole_days_from_the_rollup_and_the_rest_from_intervals_give_the_exact_report(
    fleet: list[ChargerHistory],
    window: tuple[datetime, datetime, datetime],
    cuts: list[tuple[int, int | None]],
) -> None:
    """``cuts``: per charger, how many days it has rows for (the rest not rolled up yet, or
    deleted by a late change), and maybe a day missing in between."""
    start, end, now = window
    for kpi in Kpi:
        exact = report(kpi, [restrict(h, start, end) for h in fleet], start, end, now)
        assert_same(through_rollup(kpi, fleet, cuts[: len(fleet)], start, end, now), exact)


def test_a_late_status_changes_the_days_from_its_own_on_and_only_those() -> None:
    """Why a late change deletes the rows from its day on: the days before keep their figures."""
    model = Model("CP", minute(-1440))
    model.apply(Event("connect", minute(-60)))
    model.apply(Event("status", minute(0), (1, 1), "Available"))
    before = rows_of(model.history(), minute(5 * 1440), 5)
    model.apply(Event("status", minute(2 * 1440 + 600), (1, 1), "Faulted"))  # late, day two
    after = rows_of(model.history(), minute(5 * 1440), 5)
    days = sorted(before)
    assert [(day - BASE.date()).days for day in days] == [-1, 0, 1, 2, 3]
    assert [before[day] == after[day] for day in days] == [True, True, True, False, False]


# ---------------------------------------------------------------- tallies


def test_a_charger_with_no_socket_known_counts_as_one_socket_up_while_connected() -> None:
    history = ChargerHistory("CP", minute(0), (ConnectionInterval("CP", minute(60), None),), ())
    counted = tally(history, minute(0), minute(240), minute(240))
    assert counted == Tally(240 * 60_000_000, 180 * 60_000_000, {}, {})
    for kpi in Kpi:
        assert value_of(kpi, counted) == 0.75


def test_nothing_measured_still_names_the_sockets_known() -> None:
    registered_later = ChargerHistory(
        "CP", minute(500), (), (StatusInterval("CP", 1, 2, "Faulted", None, minute(0), None),)
    )
    counted = tally(registered_later, minute(0), minute(100), minute(100))
    assert counted == Tally(0, 0, {}, {frozenset({(1, 2)}): 0})
    assert value_of(Kpi.CONNECTIVITY, counted) is None


def test_all_sockets_down_counts_only_where_a_piece_knew_every_socket() -> None:
    """Day one knows socket A only, down all day; day two knows A and B. Over both, B was up on
    day one (no report: unknown counts as up), so 'any socket up' holds on day one."""
    a_only = Tally(10, 10, {(1, 1): 10}, {frozenset({(1, 1)}): 10})
    both = Tally(10, 10, {(1, 1): 4}, {frozenset({(1, 1), (2, 2)}): 2})
    total = Tally()
    total.add(a_only)
    total.add(both)
    assert total.sockets() == {(1, 1), (2, 2)}
    assert value_of(Kpi.UPTIME_ANY_CONNECTOR, total) == (20 - 2) / 20
    assert value_of(Kpi.UPTIME_BY_CONNECTOR, total) == (20 * 2 - 14) / (20 * 2)
    assert value_of(Kpi.CONNECTIVITY, total) == 1.0


@pytest.mark.parametrize(
    ("a", "b", "days"),
    [
        (minute(30), minute(40), [0]),
        (minute(1440), minute(1440), []),  # no length, at midnight: overlaps no day
        (minute(1441), minute(1441), [1]),
        (minute(-10), minute(1440), [0]),  # ends at midnight: not the next day
        (minute(-10), minute(1441), [0, 1]),
        (minute(100), None, [0, 1, 2]),  # open: to the last day
        (minute(-3000), minute(-2000), []),
    ],
)
def test_split_by_day_puts_an_interval_in_the_days_it_overlaps(
    a: datetime, b: datetime | None, days: list[int]
) -> None:
    history = ChargerHistory("CP", minute(0), (ConnectionInterval("CP", a, b),))
    split = split_by_day(history, BASE.date(), 3)
    assert [n for n, piece in enumerate(split) if piece.connections] == days


# ---------------------------------------------------------------- days and plans


@pytest.mark.parametrize(
    ("start", "end", "now", "expected"),
    [
        (minute(0), minute(3 * 1440), minute(9999), (0, 3)),
        (minute(1), minute(3 * 1440 - 1), minute(9999), (1, 2)),
        (minute(0), minute(3 * 1440), minute(1440 + 5), (0, 1)),  # today has not ended
        (minute(5), minute(600), minute(9999), (1, 0)),  # none
    ],
)
def test_whole_days(
    start: datetime, end: datetime, now: datetime, expected: tuple[int, int]
) -> None:
    first, last = whole_days(start, end, now)
    assert ((first - BASE.date()).days, (last - BASE.date()).days) == expected


def _day(n: int) -> date:
    return BASE.date() + n * DAY


@pytest.mark.parametrize(
    ("registered", "days", "first", "last", "pieces"),
    [
        # Every whole day rolled up: the partial edges only.
        (minute(-9999), 3, 0, 2, [(minute(-60), minute(0)), (minute(3 * 1440), minute(3 * 1500))]),
        # The last day not rolled up yet: from its start on.
        (minute(-9999), 2, 0, 1, [(minute(-60), minute(0)), (minute(2 * 1440), minute(3 * 1500))]),
        # Registered on day one: its rows begin there; before, intervals.
        (
            minute(1500),
            2,
            1,
            2,
            [(minute(-60), minute(1440)), (minute(3 * 1440), minute(3 * 1500))],
        ),
        # Rows with a gap, or not from its first day: none of them is used.
        (minute(-9999), 2, 0, 2, [(minute(-60), minute(3 * 1500))]),
        (minute(-9999), 2, 1, 2, [(minute(-60), minute(3 * 1500))]),
        (minute(-9999), 0, None, None, [(minute(-60), minute(3 * 1500))]),
    ],
)
def test_plan_uses_rows_only_as_one_run_from_the_chargers_first_day(
    registered: datetime,
    days: int,
    first: int | None,
    last: int | None,
    pieces: list[tuple[datetime, datetime]],
) -> None:
    rolled = RolledUp(
        "CP",
        registered,
        days,
        None if first is None else _day(first),
        None if last is None else _day(last),
        Tally(1, 1),
    )
    planned = plan(rolled, minute(-60), minute(3 * 1500), _day(0), _day(3))
    assert list(planned.pieces) == pieces
    assert planned.rolled == (Tally(1, 1) if len(pieces) == 2 else Tally())


def test_missing_runs_fill_each_chargers_gaps_oldest_first_in_bounded_runs() -> None:
    old = datetime(2025, 1, 1, tzinfo=UTC)
    progress = [
        RollupProgress("A", old, None, None),  # nothing yet
        RollupProgress("B", old, _day(2), _day(5)),  # a prefix and a suffix missing
        RollupProgress("C", old, _day(0), _day(6)),  # up to date
        RollupProgress("D", minute(4 * 1440 + 5), None, None),  # registered on day four
        RollupProgress("E", minute(8 * 1440), None, None),  # registered today
    ]
    runs = missing_runs(progress, _day(0), _day(7), 3)
    # By first day, then length: the runs one batch can read together come together.
    assert runs == [
        RollupRun("B", _day(0), 2),
        RollupRun("A", _day(0), 3),
        RollupRun("A", _day(3), 3),
        RollupRun("D", _day(4), 3),
        RollupRun("A", _day(6), 1),
        RollupRun("B", _day(6), 1),
    ]


# ---------------------------------------------------------------- the store's shared parts


def test_the_horizon_is_unknown_until_set_and_only_moves_forward() -> None:
    horizon = RollupHorizon()
    assert horizon.covers(minute(10**6))  # unknown: every change checks
    assert horizon.extend(minute(1440))
    assert horizon.covers(minute(1439)) and not horizon.covers(minute(1440))
    assert not horizon.extend(minute(0))
    assert not horizon.covers(minute(1440))


def test_running_totals_make_a_range_of_days_two_rows() -> None:
    """Three days; a range reads its first and last row: their running totals and own figures
    give the sums, and the all-sockets-down time only while the sockets stayed the same."""
    assert encode_sockets(frozenset({(2, 1), (1, 1)})) == "1/1 2/1"
    assert decode_sockets("1/1 2/1") == {(1, 1), (2, 1)} and decode_sockets("") == frozenset()
    both = frozenset({(1, 1), (2, 1)})
    days = [
        Tally(100, 90, {(1, 1): 5}, {frozenset({(1, 1)}): 5}),
        Tally(100, 80, {}, {both: 3}),
        Tally(100, 70, {(2, 1): 9}, {both: 4}),
    ]
    running, rows = FIRST, list[tuple[Any, ...]]()
    for n, counted in enumerate(days):
        whole = DayHours(counted, 24, [0] * 24, 0, 0, [])
        row, downs, running = day_rows("CP", n, whole, running)
        rows.append(row[:11])  # then the checkpoints' columns
        assert downs == [("CP", n, k[0], k[1], v) for k, v in counted.lost.items()]
    assert rows[2] == ("CP", 2, 100, 70, "1/1 2/1", 4, 2, 200, 170, 2, 3)
    assert running_after(rows[2][2:]) == running

    def read(lo: int, hi: int) -> tuple[object, ...]:
        """What the SQL of SUMS computes from rows ``lo`` and ``hi``."""
        a, b = rows[lo], rows[hi]
        count = b[6] - a[6] + 1
        every = b[10] + b[5] - a[10] if b[9] >= count else None
        return ("CP", minute(0), lo, hi, count, b[7] + b[2] - a[7], b[8] + b[3] - a[8], every, b[4])

    [one] = rolled_up([read(1, 2)], [], [("cp", 2, 1, 9)], lambda t: t, _day)
    assert one == RolledUp(
        "CP", minute(0), 2, _day(1), _day(2), Tally(200, 150, {(2, 1): 9}, {both: 7})
    )
    # Across the change of sockets: summed per set by the second read.
    [mixed] = rolled_up(
        [read(0, 2)], [("CP", "1/1", 5), ("CP", "1/1 2/1", 7)], [], lambda t: t, _day
    )
    assert mixed.tally == Tally(300, 240, {}, {frozenset({(1, 1)}): 5, both: 7})
    assert mixed.days == 3
    # No row in the range: the charger, with nothing.
    nothing = ("CP2", minute(5), None, None, None, None, None, None, None)
    assert rolled_up([nothing], [], [], lambda t: t, _day) == [RolledUp("CP2", minute(5))]
