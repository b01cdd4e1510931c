"""KPI arithmetic, pure: worked examples as tables (connectivity, a connector's and a charger's
uptime, group means, series). Properties over random histories: test_kpis_properties.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from csms.domain.errors import Invalid
from csms.domain.kpis import (
    ChargerHistory,
    ConnectionInterval,
    ConnectorKey,
    Kpi,
    KpiItem,
    KpiReport,
    Resolution,
    StatusInterval,
    charger_uptime,
    charger_value,
    connectivity,
    connector_uptime,
    connector_uptimes,
    mean_of,
    report,
    series,
)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


MIDNIGHT = at(0)


def up(a: datetime, b: datetime | None = None) -> ConnectionInterval:
    return ConnectionInterval("CP", a, b)


def st(socket: ConnectorKey, status: str, a: datetime, b: datetime | None = None) -> StatusInterval:
    return StatusInterval("CP", socket[0], socket[1], status, None, a, b)


def charger(
    connections: list[ConnectionInterval],
    statuses: list[StatusInterval] | None = None,
    *,
    registered: datetime = MIDNIGHT,
    connectors: tuple[ConnectorKey, ...] = (),
    cp_id: str = "CP",
) -> ChargerHistory:
    return ChargerHistory(cp_id, registered, tuple(connections), tuple(statuses or ()), connectors)


S, E = at(10), at(12)  # the usual window
PLUS_TWO = timezone(timedelta(hours=2))
ALWAYS = [up(at(9), at(13))]
A, B = (1, 1), (2, 2)  # two sockets


# ---------------------------------------------------------------- connectivity


@pytest.mark.parametrize(
    ("connections", "registered", "start", "end", "now", "expected"),
    [
        # The example of the brief: offline 10:00-10:30, then connected and still so.
        ([up(at(10, 30))], at(0), S, E, E, 0.75),
        ([up(at(10, 30))], at(0), S, E, at(15), 0.75),  # now after the window: no change
        (ALWAYS, at(0), S, E, E, 1.0),  # begins before start, ends after end
        ([], at(0), S, E, E, 0.0),
        ([up(at(9), at(10, 30)), up(at(11, 30), at(13))], at(0), S, E, E, 0.5),
        ([up(at(10), at(11)), up(at(10, 30), at(11, 30))], at(0), S, E, E, 0.75),  # overlap
        ([up(at(11), at(12)), up(at(10), at(10, 30))], at(0), S, E, E, 0.75),  # out of order
        ([up(at(10), at(11))] * 2, at(0), S, E, E, 0.5),  # a duplicate counts once
        ([up(at(10), at(11)), up(at(11), at(11, 30))], at(0), S, E, E, 0.75),  # touching
        # An open interval that is not the last ends where the next connection begins.
        ([up(at(10)), up(at(11), at(11, 30))], at(0), S, E, E, 0.75),
        ([up(at(11), at(11, 30)), up(at(10))], at(0), S, E, E, 0.75),
        # Registered mid-window: measured from registration on.
        ([up(at(11, 30))], at(11), S, E, E, 0.5),
        (ALWAYS, at(11), S, E, E, 1.0),
        # now inside the window: the window is clipped to now.
        ([up(at(10, 30))], at(0), S, E, at(11), 0.5),
        ([up(at(10), at(15))], at(0), S, E, at(11), 1.0),  # an end after now is clipped too
        ([up(at(11, 30))], at(0), S, E, at(11), 0.0),  # a connection only after now
        ([up(at(11), at(10, 30))], at(0), S, E, E, 0.0),  # ends before it begins: ignored
        ([up(at(10, 30).astimezone(PLUS_TWO))], at(0), S, E, E, 0.75),  # any zone
    ],
)
def test_connectivity(
    connections: list[ConnectionInterval],
    registered: datetime,
    start: datetime,
    end: datetime,
    now: datetime,
    expected: float,
) -> None:
    assert connectivity(charger(connections, registered=registered), start, end, now) == expected


@pytest.mark.parametrize(
    ("registered", "start", "end", "now"),
    [
        (at(12), S, E, E),  # registered at the window's end
        (at(13), S, E, E),  # registered after it
        (at(0), S, S, E),  # a zero-length window
        (at(0), S, E, at(10)),  # now at the window's start
        (at(0), S, E, at(9)),  # a window wholly in the future
    ],
)
def test_nothing_measured_is_none(
    registered: datetime, start: datetime, end: datetime, now: datetime
) -> None:
    history = charger(ALWAYS, [st(A, "Faulted", at(9))], registered=registered)
    assert connectivity(history, start, end, now) is None
    for kpi in Kpi:
        assert charger_value(kpi, history, start, end, now) is None
    assert connector_uptime(history, *A, start, end, now) is None
    assert connector_uptimes(history, start, end, now) == []


# ---------------------------------------------------------------- one connector's uptime


@pytest.mark.parametrize(
    ("connections", "statuses", "now", "expected"),
    [
        (ALWAYS, [st(A, "Faulted", at(10, 30), at(11))], E, 0.75),
        (ALWAYS, [st(A, "Unavailable", at(10), at(10, 30))], E, 0.75),
        (ALWAYS, [st(A, "Faulted", at(9), at(13))], E, 0.0),  # both edges outside
        (ALWAYS, [st(A, "Faulted", at(11))], E, 0.5),  # open: down until now
        (ALWAYS, [st(A, "Faulted", at(11))], at(11, 30), 2 / 3),  # ... and now is mid-window
        # Before a connector's first report its status is unknown: up while connected.
        (ALWAYS, [st(A, "Faulted", at(11), at(11, 30))], E, 0.75),
        # After a closed report with no successor: unknown again, so up.
        (ALWAYS, [st(A, "Faulted", at(10), at(10, 30))], E, 0.75),
        # A newer report ends an older one left open, or one that overlaps it.
        (ALWAYS, [st(A, "Faulted", at(10)), st(A, "Available", at(11))], E, 0.5),
        (ALWAYS, [st(A, "Available", at(11)), st(A, "Faulted", at(10))], E, 0.5),
        (ALWAYS, [st(A, "Faulted", at(10), at(11, 30)), st(A, "Available", at(11))], E, 0.5),
        (ALWAYS, [st(A, "Available", at(10), at(11, 30)), st(A, "Faulted", at(11))], E, 0.5),
        # Down while disconnected costs nothing more: 11:00-11:30 down, 11:30-12:00 up.
        ([up(at(9), at(10)), up(at(11))], [st(A, "Faulted", at(10, 30), at(11, 30))], E, 0.25),
        ([], [st(A, "Available", at(9))], E, 0.0),  # never connected
        ([up(at(10, 30))], [], E, 0.75),  # no report at all: its connectivity
        (ALWAYS, [st(B, "Faulted", at(9))], E, 1.0),  # another socket's fault
        (ALWAYS, [st((0, 0), "Unavailable", at(9))], E, 1.0),  # the station's status
        (ALWAYS, [st(A, "Faulted", at(11), at(10, 30))], E, 1.0),  # ends before it begins
    ],
)
def test_connector_uptime(
    connections: list[ConnectionInterval],
    statuses: list[StatusInterval],
    now: datetime,
    expected: float,
) -> None:
    value = connector_uptime(charger(connections, statuses), *A, S, E, now)
    assert value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("status", "counts_as_up"),
    [
        ("Faulted", False),
        ("Unavailable", False),
        ("Available", True),
        ("Occupied", True),
        ("Reserved", True),
        ("Preparing", True),
        ("Charging", True),
        ("SuspendedEV", True),
        ("SuspendedEVSE", True),
        ("Finishing", True),
        ("faulted", True),  # chargers send the enum's spelling; nothing else is down
    ],
)
def test_only_faulted_and_unavailable_are_down(status: str, counts_as_up: bool) -> None:
    history = charger(ALWAYS, [st(A, status, at(11))])
    assert connector_uptime(history, *A, S, E, E) == (1.0 if counts_as_up else 0.5)


# ---------------------------------------------------------------- a charger's uptime


@pytest.mark.parametrize(
    ("statuses", "connectors", "by_connector", "any_connector"),
    [
        # Designed to tell the two apart: never both down at once.
        ([st(A, "Faulted", at(10), at(11)), st(B, "Faulted", at(11), at(12))], (), 0.5, 1.0),
        # Down together half of the time.
        ([st(A, "Faulted", at(10), at(11)), st(B, "Faulted", at(10), at(11))], (), 0.5, 0.5),
        # Overlapping for half an hour.
        (
            [st(A, "Faulted", at(10), at(11)), st(B, "Unavailable", at(10, 30), at(11, 30))],
            (),
            0.5,
            0.75,
        ),
        # One socket down all along, the other with no report: known from the EVSE records.
        ([st(A, "Faulted", at(9))], (A, B), 0.5, 1.0),
        ([st(A, "Faulted", at(9))], (A,), 0.0, 0.0),
        ([st(A, "Faulted", at(9))], ((0, 0),), 0.0, 0.0),  # the station is no socket
        ([st(A, "Available", at(9)), st(B, "Available", at(9))], (), 1.0, 1.0),
    ],
)
def test_charger_uptime_by_connector_or_any(
    statuses: list[StatusInterval],
    connectors: tuple[ConnectorKey, ...],
    by_connector: float,
    any_connector: float,
) -> None:
    history = charger(ALWAYS, statuses, connectors=connectors)
    assert charger_uptime(history, S, E, E, by_connector=True) == by_connector
    assert charger_uptime(history, S, E, E, by_connector=False) == any_connector


@pytest.mark.parametrize(
    "statuses",
    [[], [st((0, 0), "Faulted", at(10))], [st((1, 0), "Faulted", at(10))]],
    ids=["no report", "the station only", "EVSE level only"],
)
def test_a_charger_with_no_socket_is_up_whenever_connected(
    statuses: list[StatusInterval],
) -> None:
    history = charger([up(at(10, 30))], statuses)
    assert connectivity(history, S, E, E) == 0.75
    assert charger_uptime(history, S, E, E, by_connector=True) == 0.75
    assert charger_uptime(history, S, E, E, by_connector=False) == 0.75
    assert connector_uptimes(history, S, E, E) == []


def test_connector_items_name_every_socket_in_order() -> None:
    history = charger(
        [up(at(10, 30))],
        [st(B, "Faulted", at(11)), st(A, "Charging", at(10))],
        connectors=((1, 2),),
    )
    assert connector_uptimes(history, S, E, E) == [
        KpiItem("CP", 0.75, 1, 1),
        KpiItem("CP", 0.75, 1, 2),
        KpiItem("CP", 0.25, 2, 2),
    ]


# ---------------------------------------------------------------- sites and networks


def test_mean_of() -> None:
    assert mean_of([]) is None
    assert mean_of([None, None]) is None
    assert mean_of([1.0, None, 0.5]) == 0.75
    assert mean_of(iter([0.2])) == 0.2


def test_a_site_is_the_plain_mean_of_its_chargers() -> None:
    site = [
        charger([up(at(10, 30))], cp_id="CP1"),  # 0.75
        charger([up(at(11, 30))], registered=at(11), cp_id="CP2"),  # 0.5 of its one hour
        charger(ALWAYS, registered=at(13), cp_id="CP3"),  # registered later: left out
    ]
    result = report(Kpi.CONNECTIVITY, site, S, E, E)
    assert result == KpiReport(0.625, (KpiItem("CP1", 0.75), KpiItem("CP2", 0.5)))


def test_uptime_by_connector_reports_one_item_per_socket() -> None:
    site = [
        charger(ALWAYS, [st(A, "Faulted", at(11)), st(B, "Available", at(9))], cp_id="CP1"),
        charger([up(at(10, 30))], cp_id="CP2"),  # no socket known: one item, its connectivity
    ]
    by_connector = report(Kpi.UPTIME_BY_CONNECTOR, site, S, E, E)
    assert by_connector.value == pytest.approx((0.75 + 0.75) / 2)  # chargers, not sockets
    assert by_connector.items == (
        KpiItem("CP1", 0.5, 1, 1),
        KpiItem("CP1", 1.0, 2, 2),
        KpiItem("CP2", 0.75),
    )
    any_connector = report(Kpi.UPTIME_ANY_CONNECTOR, site, S, E, E)
    assert any_connector == KpiReport(0.875, (KpiItem("CP1", 1.0), KpiItem("CP2", 0.75)))


@pytest.mark.parametrize("kpi", list(Kpi))
def test_an_empty_group_has_no_value(kpi: Kpi) -> None:
    assert report(kpi, [], S, E, E) == KpiReport(None, ())
    assert report(kpi, [charger(ALWAYS, registered=at(13))], S, E, E) == KpiReport(None, ())


# ---------------------------------------------------------------- series

H, Q, D = Resolution.HOUR, Resolution.QUARTER_HOUR, Resolution.DAY


@pytest.mark.parametrize(
    ("chargers", "start", "end", "resolution", "now", "expected"),
    [
        ([charger([up(at(10, 30))])], S, E, H, E, [(at(10), 0.5), (at(11), 1.0)]),
        # Unaligned edges: the first bucket starts at start floored, each counts its inside.
        (
            [charger([up(at(10, 30))])],
            at(10, 20),
            at(12, 10),
            H,
            at(13),
            [(at(10), 0.75), (at(11), 1.0), (at(12), 1.0)],
        ),
        # now inside the window: buckets after it have no value.
        (
            [charger([up(at(10, 30))])],
            S,
            at(13),
            H,
            at(11, 30),
            [(at(10), 0.5), (at(11), 1.0), (at(12), None)],
        ),
        # Before registration: no value; the bucket of registration counts from it.
        (
            [charger([up(at(11, 30))], registered=at(11, 15))],
            S,
            E,
            H,
            E,
            [(at(10), None), (at(11), 2 / 3)],
        ),
        # Two chargers, one registered inside a bucket: each weighs the same in the mean.
        (
            [charger(ALWAYS), charger([up(at(10, 45))], registered=at(10, 30))],
            S,
            E,
            H,
            E,
            [(at(10), 0.75), (at(11), 1.0)],
        ),
        (
            [charger([up(at(10), at(10, 20)), up(at(10, 40), at(11, 10))])],
            S,
            at(11, 30),
            Q,
            E,
            [
                (at(10), 1.0),
                (at(10, 15), 1 / 3),
                (at(10, 30), 1 / 3),
                (at(10, 45), 1.0),
                (at(11), 2 / 3),
                (at(11, 15), 0.0),
            ],
        ),
        # Days are UTC days, whatever the zone of the times given.
        (
            [charger([up(at(10, 30))])],
            S.astimezone(PLUS_TWO),
            at(6, day=2),
            D,
            at(6, day=2),
            [(at(0), 1 - 0.5 / 14), (at(0, day=2), 1.0)],
        ),
        ([charger(ALWAYS)], S, S, H, E, []),
        ([], S, E, H, E, [(at(10), None), (at(11), None)]),
    ],
)
def test_connectivity_series(
    chargers: list[ChargerHistory],
    start: datetime,
    end: datetime,
    resolution: Resolution,
    now: datetime,
    expected: list[tuple[datetime, float | None]],
) -> None:
    points = series(Kpi.CONNECTIVITY, chargers, start, end, resolution, now)
    assert [time for time, _ in points] == [time for time, _ in expected]
    assert [time.utcoffset() for time, _ in points] == [timedelta(0)] * len(expected)
    assert [value for _, value in points] == [
        None if value is None else pytest.approx(value) for _, value in expected
    ]


def test_uptime_series_by_connector_or_any() -> None:
    history = charger(ALWAYS, [st(A, "Faulted", at(10), at(11)), st(B, "Faulted", at(11, 30))])
    by = series(Kpi.UPTIME_BY_CONNECTOR, [history], S, E, H, E)
    assert by == [(at(10), 0.5), (at(11), pytest.approx(0.75))]
    assert series(Kpi.UPTIME_ANY_CONNECTOR, [history], S, E, H, E) == [
        (at(10), 1.0),
        (at(11), 1.0),
    ]


def test_a_series_of_one_bucket_is_the_plain_value() -> None:
    history = charger([up(at(0, 30), at(3)), up(at(5))], [st(A, "Faulted", at(4), at(7))])
    for kpi in Kpi:
        [(_, value)] = series(kpi, [history], at(0), at(0, day=2), D, at(12))
        assert value == pytest.approx(charger_value(kpi, history, at(0), at(0, day=2), at(12)))


# ---------------------------------------------------------------- refusals and names


def test_refusals_name_their_field() -> None:
    history = charger(ALWAYS)
    with pytest.raises(Invalid) as caught:
        connectivity(history, E, S, E)
    assert caught.value.field == "end"
    with pytest.raises(Invalid) as caught:
        connectivity(history, S.replace(tzinfo=None), E, E)
    assert caught.value.field == "start"
    with pytest.raises(Invalid) as caught:
        report(Kpi.CONNECTIVITY, [history], S, E, E.replace(tzinfo=None))
    assert caught.value.field == "now"
    with pytest.raises(Invalid) as caught:  # a minute's resolution over 60 days
        series(Kpi.CONNECTIVITY, [history], S, S + timedelta(days=60), Resolution.MINUTE, E)
    assert caught.value.field == "resolution"


def test_names_as_the_api_spells_them() -> None:
    assert Kpi.uptime(True) is Kpi.UPTIME_BY_CONNECTOR
    assert Kpi.uptime(False) is Kpi.UPTIME_ANY_CONNECTOR
    assert [r.value for r in Resolution] == ["1m", "15m", "1h", "1d"]
    assert Resolution("15m").step == timedelta(minutes=15)
    assert Resolution("1d").step == timedelta(days=1)
