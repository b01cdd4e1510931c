"""The KPI roll-up's hourly checkpoints on both backends: today's row covers the day up to the
hour of the round and is written again as the day goes on, a late change deletes it in the
change's commit while a change after the horizon costs nothing, the frontier says how far the
rows reach, rows written before checkpoints still answer exactly and are written again newest
first, and reports whose edges fall anywhere equal the exact computation to the last bit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import asyncpg
import pytest

from csms.domain.kpi_rollup import day_of
from csms.domain.kpis import Kpi, report
from csms.services.kpi_rollup import KpiRollup
from csms.services.kpis import KpiScope, KpiService
from csms.services.sites import SiteService
from csms.services.socket_index import SocketIndex
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from csms.store.sqlite.history import day_number
from tests.store.test_kpi_rollup_contract import _charger, _connect, _fleet, _status, at, d
from tests.unit.test_kpi_hours import assert_exact

NOW = at(3, 9, 20)  # March 3rd, 09:20
TODAY = day_of(NOW)


@pytest.fixture(autouse=True)
def unknown_horizon(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts as a process that has not rolled anything up yet."""
    monkeypatch.setattr(HORIZON, "_before", None)
    yield


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _task(store: Store, clock: _Clock) -> KpiRollup:
    return KpiRollup(store.kpi_rollup, clock, retention=timedelta(days=400), settle=0.0)


async def _progress(store: Store) -> dict[str, tuple[date | None, date | None, int]]:
    first = d(-30)
    return {
        p.charge_point_id: (p.first, p.last, p.hours)
        for p in await store.kpi_rollup.progress(first=first)
    }


def _service(store: Store, clock: _Clock) -> KpiService:
    return KpiService(
        store.history,
        store.kpi_rollup,
        store.chargers,
        SiteService(store.sites, store.chargers, SocketIndex(), clock),
        clock,
    )


async def _exact_reports(
    store: Store, clock: _Clock, windows: list[tuple[datetime, datetime]]
) -> None:
    service = _service(store, clock)
    for start, end in windows:
        for scope, site_ids in ((KpiScope(network_id="n1"), {"s1"}), (KpiScope(), None)):
            histories = await store.history.histories(start=start, end=end, site_ids=site_ids)
            for kpi in Kpi:
                got, _, _ = await service.report(kpi, scope, start, end)
                assert_exact(got, report(kpi, histories, start, end, clock.now))


async def test_todays_row_reaches_the_hour_of_the_round_and_grows_with_the_day(
    store: Store,
) -> None:
    await _fleet(store)
    clock = _Clock(NOW)
    task = _task(store, clock)
    await task.start()
    await task.roll_up()
    assert await _progress(store) == {
        "CP-1": (d(-2), TODAY, 9),
        "CP-2": (d(0), TODAY, 9),
        "CP-3": (d(-8), TODAY, 9),
    }
    assert sorted(await store.kpi_rollup.frontier()) == [(d(2), 3, 24, 24), (TODAY, 3, 9, 9)]
    # Whole days only: today's row is not one.
    [cp3] = await store.kpi_rollup.rolled_up(
        first=d(2), end=TODAY + timedelta(days=1), cp_id="CP-3"
    )
    assert (cp3.days, cp3.last) == (1, d(2))
    # An hour later: today's row again, up to 10:00; nothing else.
    clock.now = NOW + timedelta(hours=1)
    assert await task.roll_up() == 3
    assert {cp: hours for cp, (_, _, hours) in (await _progress(store)).items()} == {
        "CP-1": 10,
        "CP-2": 10,
        "CP-3": 10,
    }
    assert await task.roll_up() == 0
    # Past midnight: today's row whole, and tomorrow's up to its first hour.
    clock.now = at(4, 1, 5)
    assert await task.roll_up() == 6
    assert (await _progress(store))["CP-1"] == (d(-2), d(4), 1)
    await _exact_reports(
        store,
        clock,
        [
            (at(3, 9, 20), at(4, 1, 5)),
            (clock.now - timedelta(days=7), clock.now),
            (at(-1, 12, 34) + timedelta(seconds=56.789), at(3, 23, 59)),
        ],
    )


async def test_a_change_before_the_horizon_deletes_todays_row_one_after_costs_nothing(
    store: Store,
) -> None:
    await _fleet(store)
    clock = _Clock(NOW)
    task = _task(store, clock)
    await task.start()
    await task.roll_up()
    # Stamped after 09:00 (the horizon): today's row stays.
    await _status(store, "CP-2", 1, "Faulted", at(3, 9, 10))
    assert (await _progress(store))["CP-2"] == (d(0), TODAY, 9)
    # Stamped at 08:30, delivered now: today's row goes, in the change's commit.
    await _connect(store, "CP-1", at(3, 8, 30), connected=False)
    assert (await _progress(store))["CP-1"] == (d(-2), d(2), 24)
    await _exact_reports(store, clock, [(NOW - timedelta(days=7), NOW), (at(3, 8), NOW)])
    # The next round writes it again.
    assert await task.roll_up() == 1
    assert (await _progress(store))["CP-1"] == (d(-2), TODAY, 9)
    await _exact_reports(store, clock, [(NOW - timedelta(days=7), NOW), (at(3, 8), NOW)])


async def test_rows_written_before_checkpoints_answer_exactly_and_are_written_again(
    store: Store,
) -> None:
    await _fleet(store)
    clock = _Clock(NOW)
    task = _task(store, clock)
    await task.start()
    await task.roll_up()
    await _forget_checkpoints(store, d(-1))
    progress = {
        p.charge_point_id: p.unpointed for p in await store.kpi_rollup.progress(first=d(-30))
    }
    assert progress == {"CP-1": (d(-1), d(2)), "CP-2": (d(0), d(2)), "CP-3": (d(-1), d(2))}
    windows = [(NOW - timedelta(days=7), NOW), (at(0, 12, 34) + timedelta(seconds=56.789), NOW)]
    await _exact_reports(store, clock, windows)
    # The next round writes them again, and they answer the same.
    assert await task.roll_up() == 4 + 3 + 4
    progress = {
        p.charge_point_id: p.unpointed for p in await store.kpi_rollup.progress(first=d(-30))
    }
    assert progress == {"CP-1": None, "CP-2": None, "CP-3": None}
    await _exact_reports(store, clock, windows)


async def _forget_checkpoints(store: Store, since: date) -> None:
    """The whole days from ``since`` on, as a release before checkpoints left them."""
    sql = "UPDATE kpi_days SET hours = NULL WHERE day >= {} AND hours = 24"
    if isinstance(store, SqliteStore):
        number = day_number(since)
        await store.database.write(lambda conn: conn.execute(sql.format("?"), (number,)))
    else:
        assert isinstance(store, PostgresStore)

        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(sql.format("$1"), since)

        await store.database.write(op)


@pytest.mark.parametrize(
    ("start", "end", "now"),
    [
        # The default window, its start inside an hour.
        (NOW - timedelta(days=7), NOW, NOW),
        (NOW - timedelta(days=7, minutes=25, seconds=3.5), NOW, NOW),
        # Edges on hours and midnights, a window inside one day, one inside one hour.
        (at(0, 0), at(3, 0), NOW),
        (at(1, 6), at(1, 18), NOW),
        (at(3, 9, 5), at(3, 9, 15), NOW),
        # Now hours after the last round: the frontier's hour, then the history.
        (at(-4, 3, 33), at(3, 23), at(3, 17, 45)),
        # Ending in the future, and before every registration.
        (at(2, 21, 0), at(4, 12), NOW),
        (at(-12, 5), at(-9, 7), NOW),
    ],
)
async def test_a_report_read_at_the_checkpoints_is_the_exact_one(
    store: Store, start: datetime, end: datetime, now: datetime
) -> None:
    await _fleet(store)
    clock = _Clock(NOW)
    task = _task(store, clock)
    await task.start()
    await task.roll_up()
    await _status(store, "CP-1", 2, "Faulted", at(2, 20))  # late: CP-1 from March 2nd on
    await _status(store, "CP-2", 2, "Unavailable", at(3, 9, 12))  # after the last round
    await _connect(store, "CP-3", at(3, 9, 14), connected=False)
    clock.now = now
    await _exact_reports(store, clock, [(start, end)])


async def test_a_reports_items_come_by_charger_id(store: Store) -> None:
    """Whatever order the chargers were registered in, or the database returns rows in: by id,
    through the checkpoints and from the intervals alike (a report's mean sums in this order)."""
    await _fleet(store)
    for cp_id in ("CP-9", "CP-0", "CP-5"):
        await _charger(store, cp_id, at(-3, 0), "s1")
        await _connect(store, cp_id, at(-3, 1))
    clock = _Clock(NOW)
    task = _task(store, clock)
    await task.start()
    await task.roll_up()
    service = _service(store, clock)
    for start, end in ((None, None), (at(-1, 0), at(2, 0)), (at(0, 7, 30), at(2, 9, 5))):
        for kpi in Kpi:
            got, since, until = await service.report(kpi, KpiScope(network_id="n1"), start, end)
            ids = [item.charge_point_id for item in got.items]
            assert ids == sorted(ids) and ids[0] == "CP-0"
            histories = await store.history.histories(start=since, end=until, site_ids={"s1"})
            assert_exact(got, report(kpi, histories, since, until, NOW))
