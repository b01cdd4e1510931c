"""The KPI roll-up on both backends: rows written from the days' history and read back summed,
deleted from a day on by a late change in the change's commit, purged with the history, gone
with their charger; and a report through them equal to the exact one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from csms.domain.assets import Network, Site
from csms.domain.kpi_rollup import RolledUp, RollupRun, day_of, day_start, missing_runs
from csms.domain.kpi_tally import Tally, split_by_day, tally
from csms.domain.kpis import Kpi, report
from csms.domain.models import ConnectorState
from csms.domain.updates import ChargePointChanges
from csms.services.kpis import KpiScope, KpiService
from csms.services.sites import SiteService
from csms.services.socket_index import SocketIndex
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.repositories import Store
from tests.unit.test_kpi_rollup import assert_same

DAY = timedelta(days=1)
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TODAY = day_of(NOW)
FIRST = day_of(NOW - timedelta(days=400))  # the retention's first day


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` of March 2026 (0: February 28, -1: the 27th...)."""
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC) + (day - 1) * DAY


def d(day: int) -> date:
    return at(day, 0).date()


@pytest.fixture(autouse=True)
def unknown_horizon(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts as a process that has not rolled anything up yet."""
    monkeypatch.setattr(HORIZON, "_before", None)
    yield


async def _charger(store: Store, cp_id: str, registered: datetime, site: str | None) -> None:
    await store.chargers.add_charge_point(
        cp_id,
        name=None,
        password_hash=None,
        security_profile=0,
        site_id=None,
        created_at=registered,
    )
    if site is not None:
        await store.chargers.update_charge_point(cp_id, ChargePointChanges(site_id=site))


async def _connect(store: Store, cp_id: str, moment: datetime, connected: bool = True) -> None:
    await store.chargers.record_connection(
        cp_id, ocpp_version="1.6", connected=connected, at=moment
    )


async def _status(store: Store, cp_id: str, socket: int, status: str, moment: datetime) -> None:
    await store.chargers.record_connector_status(
        cp_id, ConnectorState(1, socket, status, None, moment)
    )


async def _fleet(store: Store) -> None:
    """CP-1 on site s1 since before the window, two sockets, faults and a disconnection; CP-2 on
    s1, registered in the afternoon of February 28; CP-3 on no site, no socket known."""
    await store.sites.add_network(Network("n1", "N1", NOW, NOW))
    await store.sites.add_site(Site("s1", "S1", "site", NOW, NOW, network_id="n1"))
    await _charger(store, "CP-1", at(-2, 10), "s1")
    await _charger(store, "CP-2", at(0, 15, 30), "s1")
    await _charger(store, "CP-3", at(-8, 0), None)
    await _connect(store, "CP-1", at(-2, 11))
    await _status(store, "CP-1", 1, "Available", at(-2, 11))
    await _status(store, "CP-1", 2, "Available", at(-2, 11))
    await _status(store, "CP-1", 1, "Faulted", at(0, 8))
    await _connect(store, "CP-1", at(0, 20), connected=False)
    await _connect(store, "CP-1", at(1, 2))
    await _status(store, "CP-1", 1, "Available", at(1, 6))
    await _status(store, "CP-1", 2, "Unavailable", at(2, 10))
    await _connect(store, "CP-2", at(0, 16))
    await _status(store, "CP-2", 1, "Faulted", at(0, 16))
    await _status(store, "CP-2", 1, "Available", at(1, 12))
    await _connect(store, "CP-3", at(-7, 0))


async def _roll_up(store: Store, now: datetime = NOW) -> int:
    today = day_of(now)
    runs = missing_runs(await store.kpi_rollup.progress(first=FIRST), FIRST, today, 31)
    return await store.kpi_rollup.roll_up(runs, first=FIRST, now=now)


async def _expected(store: Store, first: date, end: date) -> dict[str, RolledUp]:
    """The rows' sums as the domain computes them from the history the store holds now."""
    days = (end - first).days
    out = {}
    for history in await store.history.histories(start=day_start(first), end=day_start(end)):
        own = max(first, day_of(history.registered_at))
        total, count = Tally(), 0
        for n, piece in enumerate(split_by_day(history, first, days)):
            day = first + n * DAY
            if day >= own:
                total.add(tally(piece, day_start(day), day_start(day + DAY), NOW))
                count += 1
        cp = history.charge_point_id
        out[cp] = RolledUp(cp, history.registered_at, count, own, end - DAY, total)
    return out


async def _progress(store: Store) -> dict[str, tuple[date | None, date | None]]:
    return {
        p.charge_point_id: (p.first, p.last) for p in await store.kpi_rollup.progress(first=FIRST)
    }


async def test_rows_hold_each_days_tally_and_read_back_summed(store: Store) -> None:
    await _fleet(store)
    assert await _roll_up(store) == 5 + 3 + 11  # from each registration day to yesterday
    assert await _progress(store) == {
        "CP-1": (d(-2), d(2)),
        "CP-2": (d(0), d(2)),
        "CP-3": (d(-8), d(2)),
    }
    got = await store.kpi_rollup.rolled_up(first=d(-1), end=TODAY)
    assert {r.charge_point_id: r for r in got} == await _expected(store, d(-1), TODAY)
    # By site, in the order the interval read lists the chargers.
    on_site = await store.kpi_rollup.rolled_up(first=d(-1), end=TODAY, site_ids={"s1"})
    listed = await store.history.histories(start=NOW, end=NOW + DAY, site_ids={"s1"})
    assert [r.charge_point_id for r in on_site] == [h.charge_point_id for h in listed]
    [one] = await store.kpi_rollup.rolled_up(first=d(1), end=d(2), cp_id="cp-2")
    assert (one.charge_point_id, one.days, one.first, one.last) == ("CP-2", 1, d(1), d(1))
    assert one.tally.lost == {(1, 1): 12 * 3600 * 10**6}  # faulted until noon
    # A day with no downtime leaves no downtime row, a socket-less charger no socket set.
    [one] = await store.kpi_rollup.rolled_up(first=d(2), end=d(3), cp_id="cp-2")
    assert (
        one.tally.lost == {} and (await _expected(store, d(-1), TODAY))["CP-3"].tally.all_down == {}
    )
    # Nothing missing: a second round writes nothing.
    assert await _roll_up(store) == 0


async def test_a_late_status_deletes_the_chargers_rows_from_its_day_on(store: Store) -> None:
    await _fleet(store)
    await store.kpi_rollup.hold_horizon(at(3, 0))
    await _roll_up(store)
    # A status queued offline on March 1st, delivered now (newer than the socket's last one).
    await _status(store, "CP-2", 2, "Faulted", at(1, 18))
    assert await _progress(store) == {
        "CP-1": (d(-2), d(2)),
        "CP-2": (d(0), d(0)),
        "CP-3": (d(-8), d(2)),
    }
    [left] = await store.kpi_rollup.rolled_up(first=d(1), end=TODAY, cp_id="CP-2")
    assert left.days == 0 and left.tally == Tally()  # its downtime rows went too
    # The next round writes them again, from the history as it is now.
    assert await _roll_up(store) == 2
    got = await store.kpi_rollup.rolled_up(first=d(-1), end=TODAY)
    assert {r.charge_point_id: r for r in got} == await _expected(store, d(-1), TODAY)
    # A change at today's time (after the horizon) deletes nothing.
    await _status(store, "CP-2", 2, "Available", at(3, 8))
    await _connect(store, "CP-1", at(3, 8), connected=False)
    assert (await _progress(store))["CP-2"] == (d(0), d(2))
    assert (await _progress(store))["CP-1"] == (d(-2), d(2))


async def test_a_late_connection_and_a_stop_that_wrote_nothing_invalidate_too(
    store: Store,
) -> None:
    await _fleet(store)
    await store.kpi_rollup.hold_horizon(at(3, 0))
    await _roll_up(store)
    await _connect(store, "CP-3", at(2, 7), connected=False)  # stamped in a rolled-up day
    assert (await _progress(store))["CP-3"] == (d(-8), d(1))
    # CP-1 and CP-2 are still connected; the server stops without writing anything, having
    # last heard from CP-1 on March 1st and from CP-2 today (persisted once a minute). The next
    # start closes their connections there.
    await store.chargers.record_last_seen([("CP-1", at(1, 9)), ("CP-2", at(3, 8))])
    await store.chargers.mark_all_disconnected()
    assert (await _progress(store))["CP-1"] == (d(-2), d(0))
    assert (await _progress(store))["CP-2"] == (d(0), d(2))  # ends today: nothing rolled up
    await _roll_up(store)
    got = await store.kpi_rollup.rolled_up(first=d(-1), end=TODAY)
    assert {r.charge_point_id: r for r in got} == await _expected(store, d(-1), TODAY)


async def test_purge_takes_the_days_before_the_retention_and_rows_go_with_their_charger(
    store: Store,
) -> None:
    await _fleet(store)
    await _roll_up(store)
    await store.history.purge_history(at(0, 12))
    progress = {
        p.charge_point_id: (p.first, p.last) for p in await store.kpi_rollup.progress(first=d(-30))
    }
    assert progress == {"CP-1": (d(0), d(2)), "CP-2": (d(0), d(2)), "CP-3": (d(0), d(2))}
    await store.chargers.delete_charge_point("CP-1")
    left = await store.kpi_rollup.rolled_up(first=d(0), end=TODAY)
    assert sorted(r.charge_point_id for r in left) == ["CP-2", "CP-3"]


async def test_a_run_that_would_leave_a_gap_is_not_written(store: Store) -> None:
    await _fleet(store)
    await store.kpi_rollup.hold_horizon(at(3, 0))
    rollup = store.kpi_rollup
    assert await rollup.roll_up([RollupRun("CP-1", d(-2), 3)], first=FIRST, now=NOW) == 3
    # As a round that looked before a late change deleted March 1st onwards: its run for
    # March 2nd alone would leave March 1st missing between the rows.
    assert await rollup.roll_up([RollupRun("CP-1", d(2), 1)], first=FIRST, now=NOW) == 0
    # Nor does a run start after the charger's first day with nothing before it.
    assert await rollup.roll_up([RollupRun("CP-2", d(1), 2)], first=FIRST, now=NOW) == 0
    assert (await _progress(store))["CP-1"] == (d(-2), d(0))
    assert (await _progress(store))["CP-2"] == (None, None)


# ---------------------------------------------------------------- through the service


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(
    ("start", "end", "now"),
    [
        (at(-1, 0), at(3, 0), NOW),  # whole days only (and today, not ended)
        (at(-1, 7, 30), at(2, 18), NOW),  # partial first and last days
        (at(0, 9), at(5, 0), NOW),  # now inside the window
        (at(-10, 0), at(3, 0), NOW),  # before every registration
    ],
)
async def test_a_report_through_the_rollup_is_the_exact_one(
    store: Store, start: datetime, end: datetime, now: datetime
) -> None:
    await _fleet(store)
    await store.kpi_rollup.hold_horizon(at(3, 0))
    await _roll_up(store)
    await _status(store, "CP-1", 2, "Faulted", at(2, 20))  # late: CP-1 from March 2nd on
    clock = _Clock(now)
    service = KpiService(
        store.history,
        store.kpi_rollup,
        store.chargers,
        SiteService(store.sites, store.chargers, SocketIndex(), clock),
        clock,
    )
    for scope, site_ids, cp_id in (
        (KpiScope(network_id="n1"), {"s1"}, None),
        (KpiScope(), None, None),
        (KpiScope(charge_point_id="CP-2"), None, "CP-2"),
    ):
        histories = await store.history.histories(
            start=start, end=end, site_ids=site_ids, cp_id=cp_id
        )
        for kpi in Kpi:
            got, _, _ = await service.report(kpi, scope, start, end)
            assert_same(got, report(kpi, histories, start, end, now))
