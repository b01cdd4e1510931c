"""KPI windows' reads of the roll-up's rows on both backends (the default window, the week the
newest rows end; whole days; edges inside hours): kept between requests while nothing that
could change them has changed (csms.store.kpi_window_cache), read again after a late change, a
round, a charger registered, moved or deleted; every report the exact one either way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta

import pytest

from csms.domain.kpi_window import WEEK, Window, WindowRows, frontier_of
from csms.domain.updates import ChargePointChanges
from csms.services.kpi_rollup import KpiRollup
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.repositories import Store
from tests.store.test_kpi_hours_contract import NOW, _Clock, _exact_reports, _task
from tests.store.test_kpi_rollup_contract import _charger, _connect, _fleet, _status, at


@pytest.fixture(autouse=True)
def unknown_horizon(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts as a process that has not rolled anything up yet."""
    monkeypatch.setattr(HORIZON, "_before", None)
    yield


def _windows(now: datetime) -> list[tuple[datetime, datetime]]:
    return [(now - WEEK, now), (at(-2, 0), at(2, 0)), (at(0, 7, 30), at(2, 9, 5))]


async def _reads(store: Store, now: datetime) -> list[WindowRows]:
    """What the windows read at ``now`` for site s1, the default one first."""
    frontier = frontier_of(await store.kpi_rollup.frontier())
    windows = [Window.of(start, end, now, frontier) for start, end in _windows(now)]
    assert [window.week for window in windows] == [True, False, False]
    return [await store.kpi_rollup.window(window, site_ids={"s1"}) for window in windows]


async def _rolled_up(store: Store) -> tuple[_Clock, KpiRollup]:
    await _fleet(store)
    clock = _Clock(NOW)
    task = _task(store, clock)
    await task.start()
    await task.roll_up()
    return clock, task


async def test_the_rows_are_read_once_while_nothing_changes_them(store: Store) -> None:
    clock, _ = await _rolled_up(store)
    first = await _reads(store, NOW)
    # What chargers send after the last round changes no row.
    await _status(store, "CP-2", 1, "Faulted", at(3, 9, 10))
    await _connect(store, "CP-1", at(3, 9, 12), connected=False)
    await store.chargers.record_last_seen([("CP-2", at(3, 9, 15))])
    await store.chargers.update_charge_point("CP-1", ChargePointChanges(name="Renamed"))
    again = await _reads(store, NOW)
    for before, after in zip(first, again, strict=True):
        assert after.rows is before.rows and after.downtime == before.downtime
    await _exact_reports(store, clock, _windows(NOW))


Change = Callable[[Store, _Clock, KpiRollup], Awaitable[None]]


async def _late(store: Store, clock: _Clock, task: KpiRollup) -> None:
    # Before the last checkpoint: CP-1's row goes, and until the round writes it again the
    # window is read from two rows per charger.
    await _connect(store, "CP-1", at(3, 8, 30), connected=False)
    await _exact_reports(store, clock, _windows(NOW))
    assert await task.roll_up() == 1


async def _round(store: Store, clock: _Clock, task: KpiRollup) -> None:
    await _status(store, "CP-2", 1, "Faulted", at(3, 9, 10))
    clock.now = NOW + timedelta(minutes=45)  # the next round, at 10:05
    assert await task.roll_up() > 0
    clock.now = NOW


async def _moved(store: Store, clock: _Clock, task: KpiRollup) -> None:
    await store.chargers.update_charge_point("CP-2", ChargePointChanges(site_id=None))


async def _registered(store: Store, clock: _Clock, task: KpiRollup) -> None:
    await _charger(store, "CP-4", at(-5, 0), "s1")


async def _deleted(store: Store, clock: _Clock, task: KpiRollup) -> None:
    await store.chargers.delete_charge_point("CP-1")


@pytest.mark.parametrize(
    "change",
    [_late, _round, _moved, _registered, _deleted],
    ids=["late change", "next round", "moved off the site", "registered", "deleted"],
)
async def test_a_change_to_the_rows_or_the_scope_is_read_again(
    store: Store, change: Change
) -> None:
    clock, task = await _rolled_up(store)
    await _exact_reports(store, clock, _windows(NOW))  # read, and kept
    first = await _reads(store, NOW)
    await change(store, clock, task)
    # The clock on to the next round's (the default window has another key), the same else.
    now = NOW + timedelta(minutes=45) if change is _round else NOW
    clock.now = now
    again = await _reads(store, now)
    for before, after in zip(first, again, strict=True):
        assert after.rows is not before.rows
    if change is not _round:  # the rows or the scope changed (the round: only today's hours)
        assert list(again[0].rows) != list(first[0].rows)
    await _exact_reports(store, clock, _windows(now))
