"""KPI arithmetic, properties over random histories (hypothesis): values stay in [0, 1], windows
add up, uptime never exceeds connectivity, the sweeps agree with a moment-by-moment oracle, and a
series agrees with its buckets computed one by one.

Histories are drawn on a minute grid around one day, unordered and overlapping, with open
intervals, station-level reports and chargers registered at any time: what real chargers write."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.domain.kpis import (
    DOWN_STATUSES,
    ChargerHistory,
    ConnectionInterval,
    ConnectorKey,
    Kpi,
    Resolution,
    StatusInterval,
    charger_value,
    connector_uptime,
    mean_of,
    series,
)

BASE = datetime(2026, 1, 1, tzinfo=UTC)
SOCKETS = [(0, 0), (1, 1), (1, 2), (2, 1)]
STATUSES = ["Available", "Charging", "Faulted", "Unavailable", "Occupied"]


def minute(n: int) -> datetime:
    return BASE + timedelta(minutes=n)


moments = st.integers(-120, 720).map(minute)
lengths = st.one_of(st.none(), st.integers(0, 400))


@st.composite
def connections(draw: st.DrawFn) -> ConnectionInterval:
    start, length = draw(st.integers(-120, 720)), draw(lengths)
    return ConnectionInterval(
        "CP", minute(start), None if length is None else minute(start + length)
    )


@st.composite
def statuses(draw: st.DrawFn) -> StatusInterval:
    evse, connector = draw(st.sampled_from(SOCKETS))
    start, length = draw(st.integers(-120, 720)), draw(lengths)
    end = None if length is None else minute(start + length)
    return StatusInterval(
        "CP", evse, connector, draw(st.sampled_from(STATUSES)), None, minute(start), end
    )


@st.composite
def histories(draw: st.DrawFn) -> ChargerHistory:
    return ChargerHistory(
        draw(st.text("ABC", min_size=1, max_size=3)),
        draw(moments),
        tuple(draw(st.lists(connections(), max_size=6))),
        tuple(draw(st.lists(statuses(), max_size=10))),
        tuple(draw(st.lists(st.sampled_from(SOCKETS), max_size=2))),
    )


@st.composite
def windows(draw: st.DrawFn) -> tuple[datetime, datetime, datetime]:
    start = draw(st.integers(-60, 600))
    end = start + draw(st.integers(0, 600))
    return minute(start), minute(end), draw(moments)


# ---------------------------------------------------------------- the oracle


def _sockets(history: ChargerHistory) -> set[ConnectorKey]:
    known = {(s.evse_id, s.connector_id) for s in history.statuses} | set(history.connectors)
    return {key for key in known if key[0] > 0 and key[1] > 0}


def _connected_at(history: ChargerHistory, t: datetime, now: datetime) -> bool:
    ordered = sorted(history.connections, key=lambda c: c.connected_at)
    for n, c in enumerate(ordered):
        end = c.disconnected_at
        if end is None:
            end = ordered[n + 1].connected_at if n + 1 < len(ordered) else now
        if c.connected_at <= t < end:
            return True
    return False


def _down_at(history: ChargerHistory, socket: ConnectorKey, t: datetime) -> bool:
    """The report in force is the newest one begun by t, unless it has ended."""
    reports = sorted(
        (s for s in history.statuses if (s.evse_id, s.connector_id) == socket),
        key=lambda s: s.started_at,
    )
    begun = [s for s in reports if s.started_at <= t]
    if not begun or (begun[-1].ended_at is not None and begun[-1].ended_at <= t):
        return False
    return begun[-1].status in DOWN_STATUSES


def _up_share(kpi: Kpi, history: ChargerHistory, t: datetime, now: datetime) -> float:
    if not _connected_at(history, t, now):
        return 0.0
    sockets = _sockets(history)
    if kpi is Kpi.CONNECTIVITY or not sockets:
        return 1.0
    ups = [not _down_at(history, socket, t) for socket in sockets]
    if kpi is Kpi.UPTIME_BY_CONNECTOR:
        return sum(ups) / len(ups)
    return 1.0 if any(ups) else 0.0


def oracle(
    kpi: Kpi, history: ChargerHistory, start: datetime, end: datetime, now: datetime
) -> float | None:
    """Moment by moment: the state is constant between any two interval edges, so one look in
    the middle of each piece is exact."""
    lo, hi = max(start, history.registered_at), min(end, now)
    if hi <= lo:
        return None
    edges = {lo, hi}
    for c in history.connections:
        edges |= {c.connected_at, c.disconnected_at or lo}
    for s in history.statuses:
        edges |= {s.started_at, s.ended_at or lo}
    cuts = sorted(e for e in edges if lo <= e <= hi)
    up = sum(
        (b - a) / (hi - lo) * _up_share(kpi, history, a + (b - a) / 2, now)
        for a, b in pairwise(cuts)
    )
    return up


def _measured(history: ChargerHistory, start: datetime, end: datetime, now: datetime) -> timedelta:
    return max(timedelta(0), min(end, now) - max(start, history.registered_at))


# ---------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(histories(), windows())
def test_values_match_the_oracle_and_stay_in_range(
    history: ChargerHistory, window: tuple[datetime, datetime, datetime]
) -> None:
    for kpi in Kpi:
        value = charger_value(kpi, history, *window)
        expected = oracle(kpi, history, *window)
        if expected is None:
            assert value is None
        else:
            assert value is not None and 0.0 <= value <= 1.0
            assert value == pytest.approx(expected, abs=1e-9), kpi


@settings(max_examples=150, deadline=None)
@given(histories(), windows())
def test_uptime_never_exceeds_connectivity(
    history: ChargerHistory, window: tuple[datetime, datetime, datetime]
) -> None:
    connected = charger_value(Kpi.CONNECTIVITY, history, *window)
    by_connector = charger_value(Kpi.UPTIME_BY_CONNECTOR, history, *window)
    any_connector = charger_value(Kpi.UPTIME_ANY_CONNECTOR, history, *window)
    if connected is None:
        assert by_connector is None and any_connector is None
        return
    assert by_connector is not None and any_connector is not None
    # The mean of the sockets cannot beat the best socket, which 'any' counts.
    assert by_connector <= any_connector + 1e-12
    assert any_connector <= connected + 1e-12
    for socket in _sockets(history):
        one = connector_uptime(history, *socket, *window)
        assert one is not None and one <= any_connector + 1e-12


@settings(max_examples=200, deadline=None)
@given(histories(), windows(), st.integers(0, 600), st.sampled_from(list(Kpi)))
def test_adjacent_windows_add_up_weighted_by_their_measured_time(
    history: ChargerHistory,
    window: tuple[datetime, datetime, datetime],
    extra: int,
    kpi: Kpi,
) -> None:
    start, middle, now = window
    end = middle + timedelta(minutes=extra)
    whole = charger_value(kpi, history, start, end, now)
    parts = [(start, middle), (middle, end)]
    weighted = [
        (charger_value(kpi, history, a, b, now), _measured(history, a, b, now)) for a, b in parts
    ]
    if whole is None:
        assert all(value is None for value, _ in weighted)
        return
    total = _measured(history, start, end, now)
    combined = sum(value * (weight / total) for value, weight in weighted if value is not None)
    assert whole == pytest.approx(combined, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(histories(), windows())
def test_the_order_of_the_intervals_does_not_matter(
    history: ChargerHistory, window: tuple[datetime, datetime, datetime]
) -> None:
    mirrored = replace(
        history,
        connections=history.connections[::-1],
        statuses=tuple(sorted(history.statuses, key=lambda s: s.started_at)),
    )
    for kpi in Kpi:
        assert charger_value(kpi, history, *window) == pytest.approx(
            charger_value(kpi, mirrored, *window), abs=1e-12
        )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(histories(), max_size=4),
    windows(),
    st.sampled_from([Resolution.QUARTER_HOUR, Resolution.HOUR, Resolution.DAY]),
    st.sampled_from(list(Kpi)),
)
def test_a_series_agrees_with_its_buckets_one_by_one(
    group: list[ChargerHistory],
    window: tuple[datetime, datetime, datetime],
    resolution: Resolution,
    kpi: Kpi,
) -> None:
    start, end, now = window
    points = series(kpi, group, start, end, resolution, now)
    step = resolution.step
    for n, (time, value) in enumerate(points):
        assert time == (points[0][0] + n * step)
        a, b = max(time, start), min(time + step, end)
        expected = mean_of(charger_value(kpi, history, a, b, now) for history in group)
        if expected is None:
            assert value is None, (time, value)
        else:
            assert value == pytest.approx(expected, abs=1e-9), time
    if points:
        assert points[0][0] <= start < points[0][0] + step
        assert points[-1][0] < end <= points[-1][0] + step
