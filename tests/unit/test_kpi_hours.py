"""The KPI roll-up's hourly checkpoints, pure: a report over any window (edges at any moment
inside days, ``now`` inside the current hour, the rows' frontier lagging, rows missing or
written before checkpoints existed, chargers registered mid-hour) read from the checkpoints
equals the exact computation to the last bit (differential, hypothesis); the checkpoints equal
the durations measured up to each hour; and the pieces they rest on (tables)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.domain.kpi_history import ChargerHistory, ConnectionInterval, StatusInterval
from csms.domain.kpi_hours import (
    HOUR,
    HOUR_US,
    ZERO_ANCHOR,
    Anchor,
    at_hour,
    connection_gains,
    day_hours,
    extrapolate,
    piece_history,
    split_for_hours,
    to_us,
)
from csms.domain.kpi_rollup import day_of, day_start
from csms.domain.kpi_tally import Tally, report_of_sums, restrict, sums_of, tally
from csms.domain.kpi_window import (
    Checkpoint,
    Frontier,
    Window,
    WindowRows,
    checkpoint_before,
    frontier_of,
)
from csms.domain.kpi_window_sums import window_sums
from csms.domain.kpis import Kpi, KpiReport, report
from csms.store.kpi_rollup_rows import decode_lost
from tests.unit.kpi_rows import CODEC, changes_of, downtime_of, edge_row, rows_of, week_row
from tests.unit.kpi_scenarios import (
    BASE,
    DAYS,
    SOCKETS,
    STATUSES,
    Event,
    Model,
    events,
    minute,
    moments,
)

DAY = timedelta(days=1)
FIRST = BASE.date() - 9 * DAY  # the retention's first day: rows a week before every window
LONG_AGO = minute(-12 * 1440)
_SOCKETS = frozenset({(1, 1), (1, 2), (2, 1)})

# Moments at any millisecond, hour boundaries and midnights often.
fine = st.one_of(
    st.builds(
        lambda at, ms: at + timedelta(milliseconds=ms),
        moments,
        st.one_of(st.just(0), st.integers(0, 3_599_999)),
    ),
    st.builds(lambda h: BASE + h * HOUR, st.integers(-24, (DAYS + 1) * 24)),
)


def assert_exact(got: KpiReport, expected: KpiReport) -> None:
    """Equal to the last bit: the same chargers and sockets, the same floats."""
    assert got.value == expected.value
    assert got.items == expected.items


@st.composite
def fleets(draw: st.DrawFn) -> list[ChargerHistory]:
    fleet = []
    for n in range(draw(st.integers(1, 4))):
        model = Model(f"CP{n}", draw(st.one_of(st.just(LONG_AGO), st.just(minute(-2880)), fine)))
        if draw(st.booleans()):
            model.apply(Event("connect", minute(-2880)))
        if draw(st.booleans()):
            status = draw(st.sampled_from(["Faulted", "Available"]))
            model.apply(Event("status", minute(-2880), (1, 1), status))
        for event in draw(events()):
            model.apply(event)
        fleet.append(model.history())
    return fleet


@st.composite
def situations(
    draw: st.DrawFn,
) -> tuple[datetime, datetime, datetime, Frontier | None]:
    """A window, now, and the latest checkpoint the rows have (lagging now by up to two
    hours, or the day before's end when the day's first round has not run; settled or in the
    middle of a round)."""
    now = draw(fine)
    lengths = st.one_of(
        st.integers(0, (DAYS + 1) * 86_400_000),
        st.integers(0, 2 * 3_600_000),
        st.just(7 * 86_400_000),
    )
    # Mostly windows that end by now (the default one ends at now), some anywhere.
    start = draw(st.one_of(fine, st.builds(lambda ms: now - timedelta(milliseconds=ms), lengths)))
    if start <= now and draw(st.booleans()):
        end = now
    else:
        end = start + timedelta(milliseconds=draw(lengths))
    hours = (now - BASE) // HOUR - draw(st.integers(0, 2))
    at = BASE + hours * HOUR
    frontier = Checkpoint(day_of(at), (at - day_start(day_of(at))) // HOUR)
    if frontier.hour == 0 and draw(st.booleans()):
        frontier = Checkpoint(frontier.day - DAY, 24)
    if frontier.day < FIRST:
        return start, end, now, None
    return start, end, now, Frontier(frontier, draw(st.booleans()))


def through_checkpoints(
    kpi: Kpi,
    fleet: list[ChargerHistory],
    start: datetime,
    end: datetime,
    now: datetime,
    frontier: Frontier | None,
    cuts: list[tuple[date | None, frozenset[date]]],
) -> KpiReport:
    window = Window.of(start, end, now, frontier)
    if window.empty:
        return report_of_sums(kpi, [])
    if frontier is None:  # no rows at all: every charger from its intervals
        counted = [tally(restrict(h, start, end), start, end, now) for h in fleet]
        return report_of_sums(
            kpi, [sums_of(h.charge_point_id, t) for h, t in zip(fleet, counted, strict=True)]
        )
    rows = {
        h.charge_point_id: rows_of(
            h, FIRST, (frontier.checkpoint.day, frontier.checkpoint.hour), cut, old
        )
        for h, (cut, old) in zip(fleet, cuts, strict=True)
    }
    first = changes_of(fleet, window.first.at, start)
    last = changes_of(fleet, window.last.at, window.b, statuses_until=end)
    downtime: dict[str, dict[tuple[int, int], int]] | None
    downtime = downtime_of(fleet, rows, window.downtime_days)
    if window.week:  # the newest row's week
        edge_rows = [week_row(h, rows[h.charge_point_id], window, downtime) for h in fleet]
        downtime = {
            row[0].lower(): decode_lost(row[17]) for row in edge_rows if row[17] is not None
        }
    else:
        edge_rows = [edge_row(h, rows[h.charge_point_id], window) for h in fleet]
    if kpi is not Kpi.UPTIME_BY_CONNECTOR:
        downtime = None
    read = WindowRows(edge_rows, CODEC, first, last, downtime)
    sums, fallback = window_sums(window, read, kpi is not Kpi.CONNECTIVITY)
    exact = {
        h.charge_point_id: sums_of(
            h.charge_point_id, tally(restrict(h, start, end), start, end, now)
        )
        for h in fleet
        if h.charge_point_id in fallback
    }
    return report_of_sums(kpi, [exact.get(s[0], s) for s in sums])


@st.composite
def cuts(draw: st.DrawFn) -> list[tuple[date | None, frozenset[date]]]:
    days = [BASE.date() + n * DAY for n in range(-1, DAYS + 2)]
    return [
        (
            draw(st.one_of(st.none(), st.none(), st.sampled_from(days))),
            frozenset(draw(st.lists(st.sampled_from(days), max_size=1)))
            if draw(st.integers(0, 4)) == 0
            else frozenset(),
        )
        for _ in range(4)
    ]


@settings(max_examples=400, deadline=None)
@given(fleets(), situations(), cuts())
def test_a_report_from_the_checkpoints_is_the_exact_one(
    fleet: list[ChargerHistory],
    situation: tuple[datetime, datetime, datetime, Frontier | None],
    missing: list[tuple[date | None, frozenset[date]]],
) -> None:
    start, end, now, frontier = situation
    for kpi in Kpi:
        exact = report(kpi, [restrict(h, start, end) for h in fleet], start, end, now)
        got = through_checkpoints(kpi, fleet, start, end, now, frontier, missing[: len(fleet)])
        assert_exact(got, exact)


@st.composite
def busy(
    draw: st.DrawFn,
) -> tuple[list[ChargerHistory], tuple[datetime, datetime, datetime, Frontier | None]]:
    """A window, then chargers whose changes crowd around its start and now: connections
    dropping and coming back, sockets going down and up, first reported, chargers registered,
    all within the hour around them, to the second."""
    situation = draw(situations())
    start, _, now, _ = situation
    near = st.builds(
        lambda focus, s: focus + timedelta(seconds=s),
        st.sampled_from([start, now]),
        st.integers(-5400, 5400),
    )
    before = min(minute(-2880), start - 2 * HOUR, now - 2 * HOUR)  # before every change
    fleet = []
    for n in range(draw(st.integers(1, 4))):
        model = Model(f"CP{n}", draw(st.one_of(st.just(LONG_AGO), st.just(before), near)))
        if draw(st.booleans()):
            model.apply(Event("connect", before))
        if draw(st.booleans()):
            status = draw(st.sampled_from(["Faulted", "Available"]))
            model.apply(Event("status", before, (1, 1), status))
        server = sorted(draw(st.lists(near, max_size=6)))
        kinds = st.sampled_from(["connect", "disconnect"])
        changes = [Event(draw(kinds), at) for at in server]
        reports = [
            Event("status", at, draw(st.sampled_from(SOCKETS)), draw(st.sampled_from(STATUSES)))
            for at in draw(st.lists(near, max_size=6))
        ]
        while changes or reports:
            if changes and (not reports or draw(st.booleans())):
                model.apply(changes.pop(0))
            else:
                model.apply(reports.pop(0))
        fleet.append(model.history())
    return fleet, situation


@settings(max_examples=400, deadline=None)
@given(busy(), cuts())
def test_changes_around_the_edges_read_from_the_checkpoints_are_exact(
    scenario: tuple[list[ChargerHistory], tuple[datetime, datetime, datetime, Frontier | None]],
    missing: list[tuple[date | None, frozenset[date]]],
) -> None:
    fleet, (start, end, now, frontier) = scenario
    for kpi in Kpi:
        exact = report(kpi, [restrict(h, start, end) for h in fleet], start, end, now)
        got = through_checkpoints(kpi, fleet, start, end, now, frontier, missing[: len(fleet)])
        assert_exact(got, exact)


# ---------------------------------------------------------------- the checkpoints themselves


@settings(max_examples=200, deadline=None)
@given(fleets(), st.integers(-1, DAYS), st.integers(0, 24))
def test_each_checkpoint_holds_the_durations_up_to_its_hour_and_the_state_just_before(
    fleet: list[ChargerHistory], n: int, hours: int
) -> None:
    day = BASE.date() + n * DAY
    midnight = day_start(day)
    now = midnight + hours * HOUR
    for history in fleet:
        [piece] = split_for_hours(history, day, 1)
        row = day_hours(piece, day, hours, now)
        [sockets] = row.tally.all_down or [frozenset()]
        if hours:
            assert row.tally == tally(restrict(history, midnight, now), midnight, now, now)
        else:  # no time yet: the sockets reported by midnight
            assert row.tally.measured == 0
            assert sockets == _reported_before(history, _SOCKETS, midnight)
        for h in range(hours + 1):
            t = midnight + h * HOUR
            upto = tally(restrict(history, midnight, t), midnight, t, now)
            deficit = sum(row.deficits[:h])
            assert deficit == upto.measured - upto.connected
            found = at_hour(row.anchors, h, deficit)
            assert found.lost == upto.lost
            if h > 0 and upto.sockets() == sockets:
                assert found.all_down == upto.all_down.get(sockets, 0)
            assert bool(row.offline >> h & 1) == (not _connected_before(history, t, now))
            assert found.down == {key for key in sockets if _down_before(history, key, t)}
            assert found.every == (bool(sockets) and found.down == sockets)
            assert (h >= row.set_from) == (_reported_before(history, sockets, t) == sockets)


def _connected_before(history: ChargerHistory, t: datetime, now: datetime) -> bool:
    """Oracle: a connection (open: until now or the next one) covers the microsecond before t."""
    moment = t - timedelta(microseconds=1)
    ordered = sorted(history.connections, key=lambda c: c.connected_at)
    for n, c in enumerate(ordered):
        ended = c.disconnected_at
        if ended is None:
            ended = ordered[n + 1].connected_at if n + 1 < len(ordered) else now
        if c.connected_at <= moment < ended:
            return True
    return False


def _down_before(history: ChargerHistory, key: tuple[int, int], t: datetime) -> bool:
    """Oracle: the socket's latest report begun by the microsecond before t, if not ended by
    then, is a down one."""
    moment = t - timedelta(microseconds=1)
    begun = sorted(
        (
            s
            for s in history.statuses
            if (s.evse_id, s.connector_id) == key and s.started_at <= moment
        ),
        key=lambda s: s.started_at,
    )
    if not begun:
        return False
    last = begun[-1]
    return last.status in ("Faulted", "Unavailable") and (
        last.ended_at is None or last.ended_at > moment
    )


def _reported_before(
    history: ChargerHistory, sockets: frozenset[tuple[int, int]], t: datetime
) -> frozenset[tuple[int, int]]:
    return frozenset(
        (s.evse_id, s.connector_id)
        for s in history.statuses
        if (s.evse_id, s.connector_id) in sockets and s.started_at < t
    )


# ---------------------------------------------------------------- the pieces, tables


def test_extrapolation_adds_the_time_connected_to_every_socket_down() -> None:
    anchor = Anchor(2, 100, 50, True, frozenset({(1, 1)}), {(1, 1): 50})
    # Three hours on, 1,000 µs more not connected.
    later = extrapolate(anchor, 5, 1_100)
    gained = 3 * HOUR_US - 1_000
    assert later == Anchor(5, 1_100, 50 + gained, True, anchor.down, {(1, 1): 50 + gained})
    assert extrapolate(ZERO_ANCHOR, 7, 42) == Anchor(7, 42, 0, False, frozenset(), {})
    # The anchors of a row: the last at or before the hour, extrapolated.
    assert at_hour([anchor, Anchor(9, 0, 0, False, frozenset(), {})], 4, 100).lost == {
        (1, 1): 50 + 2 * HOUR_US
    }
    assert at_hour([anchor], 1, 0) == ZERO_ANCHOR._replace(hour=1)


def test_a_day_without_anything_down_keeps_no_anchor() -> None:
    history = ChargerHistory(
        "CP",
        minute(-5000),
        (
            ConnectionInterval("CP", minute(-60), minute(90)),
            ConnectionInterval("CP", minute(100), None),
        ),
        (StatusInterval("CP", 1, 1, "Available", None, minute(-600), None),),
    )
    [piece] = split_for_hours(history, BASE.date(), 1)
    row = day_hours(piece, BASE.date(), 24, BASE + DAY)
    assert row.anchors == []
    assert row.deficits[1] == 10 * 60_000_000 and sum(row.deficits) == 10 * 60_000_000
    assert row.offline == 0  # connected just before every hour boundary, 01:40 aside
    assert row.set_from == 0


def test_connection_gains_count_what_begins_or_ends_inside() -> None:
    start, x = to_us(minute(60)), to_us(minute(120))
    gains = connection_gains(
        [
            ("CP", to_us(minute(0)), to_us(minute(70))),  # in force, ends: -50 min
            ("CP", to_us(minute(80)), to_us(minute(90))),  # inside: +10 min
            ("cp2", to_us(minute(110)), None),  # begins: +10 min
        ],
        start,
        x,
    )
    assert gains == {"cp": -40 * 60_000_000, "cp2": 10 * 60_000_000}


def test_a_piece_is_rebuilt_from_the_state_and_what_begins_inside() -> None:
    state = Anchor(0, 0, 0, False, frozenset({(1, 1)}), {})
    changes = ChargerHistory(
        "CP",
        minute(0),
        (ConnectionInterval("CP", minute(-10), minute(30)),),
        (StatusInterval("CP", 1, 1, "Available", None, minute(20), None),),
    )
    history = piece_history(
        changes, state, True, frozenset({(1, 1), (1, 2)}), minute(0), minute(60)
    )
    counted = tally(history, minute(0), minute(60), minute(60))
    # Connected until 00:30, socket 1/1 down until 00:20, 1/2 up.
    assert counted == Tally(
        60 * 60_000_000,
        30 * 60_000_000,
        {(1, 1): 20 * 60_000_000},
        {frozenset({(1, 1), (1, 2)}): 0},
    )


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        ([], None),
        (
            [(date(2026, 1, 2), 10, 5, 5), (date(2026, 1, 1), 10, 24, 24)],
            Frontier(Checkpoint(date(2026, 1, 2), 5), True),
        ),
        # An hour's round half done: the hour before, the newest rows not all at it.
        (
            [(date(2026, 1, 2), 10, 5, 6), (date(2026, 1, 1), 10, 24, 24)],
            Frontier(Checkpoint(date(2026, 1, 2), 5), False),
        ),
        # Midnight's round half done: the day before is the one every charger has.
        (
            [(date(2026, 1, 2), 4, 0, 0), (date(2026, 1, 1), 10, 23, 24)],
            Frontier(Checkpoint(date(2026, 1, 1), 23), False),
        ),
    ],
)
def test_the_frontier_is_the_checkpoint_every_row_has(
    latest: list[tuple[date, int, int, int]], expected: Frontier | None
) -> None:
    assert frontier_of(latest) == expected


def test_a_moment_reads_from_the_latest_checkpoint_the_rows_have() -> None:
    noon = datetime(2026, 1, 8, 12, 34, 56, 789_000, tzinfo=UTC)
    assert checkpoint_before(noon, Checkpoint(date(2026, 1, 8), 12)) == Checkpoint(
        date(2026, 1, 8), 12
    )
    assert checkpoint_before(noon, Checkpoint(date(2026, 1, 8), 11)) == Checkpoint(
        date(2026, 1, 8), 11
    )
    # Midnight with the day's rows not written yet: the day before, at its hour 24.
    midnight = datetime(2026, 1, 8, tzinfo=UTC)
    assert checkpoint_before(midnight, Checkpoint(date(2026, 1, 7), 24)) == Checkpoint(
        date(2026, 1, 7), 24
    )
    assert checkpoint_before(midnight - HOUR, None) == Checkpoint(date(2026, 1, 7), 23)
