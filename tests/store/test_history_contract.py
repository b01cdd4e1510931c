"""The connection and status history, on both backends: written by the chargers repository in
the commit of the change, read by window, purged by age."""

from __future__ import annotations

from datetime import timedelta

from csms.domain.assets import Site
from csms.domain.history import REPLACED, SERVER_STOPPED, ConnectionInterval
from csms.domain.models import ConnectorState
from csms.domain.paging import Page
from csms.domain.updates import ChargePointChanges
from csms.store.repositories import Store
from tests.store.conftest import NOW, add_charge_point, intervals

MIN = timedelta(minutes=1)
DAY = timedelta(days=1)


async def _connections(store: Store, cp_id: str) -> list[ConnectionInterval]:
    paged = await store.history.list_connections(cp_id, Page(100), start=NOW - DAY, end=NOW + DAY)
    return [interval for _, interval in paged.items]


async def _status(
    store: Store, cp_id: str, status: str, at: timedelta, error: str = "NoError"
) -> None:
    await store.chargers.record_connector_status(
        cp_id, ConnectorState(1, 1, status, error, NOW + at)
    )


async def test_connections_open_and_close_with_their_reason(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    record = store.chargers.record_connection
    await record("CP-1", ocpp_version="1.6", connected=True, at=NOW)
    await record("CP-1", ocpp_version="1.6", connected=False, at=NOW + MIN, reason="going_away")
    await record("CP-1", ocpp_version="1.6", connected=True, at=NOW + 2 * MIN)
    # A newer connection before the older one's close: the older ends when it was replaced.
    await record("cp-1", ocpp_version="1.6", connected=True, at=NOW + 3 * MIN)
    assert await _connections(store, "cp-1") == [
        ConnectionInterval("CP-1", NOW, NOW + MIN, "going_away"),
        ConnectionInterval("CP-1", NOW + 2 * MIN, NOW + 3 * MIN, REPLACED),
        ConnectionInterval("CP-1", NOW + 3 * MIN, None, None),
    ]


async def test_a_stop_that_wrote_nothing_closes_at_the_last_moment_heard(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    await add_charge_point(store, "CP-2")
    chargers = store.chargers
    await chargers.record_connection("CP-1", ocpp_version="1.6", connected=True, at=NOW)
    await chargers.record_connection("CP-2", ocpp_version="2.0.1", connected=True, at=NOW)
    await chargers.record_last_seen([("CP-1", NOW + 5 * MIN)])
    await chargers.mark_all_disconnected()  # what the next start does first
    assert await _connections(store, "CP-1") == [
        ConnectionInterval("CP-1", NOW, NOW + 5 * MIN, SERVER_STOPPED)
    ]
    # Last heard when it connected: an interval of no length, not a negative one.
    [only] = await _connections(store, "CP-2")
    assert only.disconnected_at == NOW and only.reason == SERVER_STOPPED


async def test_status_intervals_follow_changes_not_repeats_nor_stale_reports(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    await _status(store, "CP-1", "Available", timedelta(0))
    await _status(store, "CP-1", "Available", MIN)  # a repeat
    await _status(store, "CP-1", "Faulted", 2 * MIN, "GroundFailure")
    await _status(store, "CP-1", "Faulted", 3 * MIN, "HighTemperature")  # a new error
    await _status(store, "CP-1", "Charging", MIN)  # older than what is known: ignored
    await _status(store, "CP-1", "Available", 4 * MIN)
    paged = await store.history.list_statuses("CP-1", Page(100), start=NOW, end=NOW + DAY)
    got = [
        (i.status, i.error_code, i.started_at - NOW, i.ended_at and i.ended_at - NOW)
        for _, i in paged.items
    ]
    assert got == [
        ("Available", "NoError", timedelta(0), 2 * MIN),
        ("Faulted", "GroundFailure", 2 * MIN, 3 * MIN),
        ("Faulted", "HighTemperature", 3 * MIN, 4 * MIN),
        ("Available", "NoError", 4 * MIN, None),
    ]
    ids = [i for i, _ in paged.items]
    second = await store.history.list_statuses("CP-1", Page(2, ids[1]), start=NOW, end=NOW + DAY)
    assert [i for i, _ in second.items] == ids[2:4] and not second.has_more
    other_evse = await store.history.list_statuses(
        "CP-1", Page(100), start=NOW, end=NOW + DAY, evse_id=2
    )
    assert other_evse.items == []


async def test_windows_keep_what_overlaps_them_and_intervals_read_every_charger(
    store: Store,
) -> None:
    await add_charge_point(store, "CP-1")
    await add_charge_point(store, "CP-2")
    record = store.chargers.record_connection
    await record("CP-1", ocpp_version="1.6", connected=True, at=NOW)
    await record("CP-1", ocpp_version="1.6", connected=False, at=NOW + 10 * MIN)
    await record("CP-1", ocpp_version="1.6", connected=True, at=NOW + 20 * MIN)
    await record("CP-2", ocpp_version="1.6", connected=True, at=NOW + 30 * MIN)
    window = await store.history.list_connections(
        "CP-1", Page(100), start=NOW + 10 * MIN, end=NOW + 20 * MIN
    )
    assert window.items == []  # touching at the edges is not overlapping
    window = await store.history.list_connections(
        "CP-1", Page(100), start=NOW + 5 * MIN, end=NOW + 25 * MIN
    )
    assert [i.connected_at for _, i in window.items] == [NOW, NOW + 20 * MIN]
    connections, statuses = await intervals(store, NOW + 15 * MIN, NOW + DAY)
    assert sorted(c.charge_point_id for c in connections) == ["CP-1", "CP-2"]
    assert statuses == []
    connections, _ = await intervals(store, NOW, NOW + DAY, "cp-2")
    assert [c.charge_point_id for c in connections] == ["CP-2"]


async def test_purge_removes_only_intervals_that_ended_before(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    record = store.chargers.record_connection
    await record("CP-1", ocpp_version="1.6", connected=True, at=NOW - 3 * DAY)
    await record("CP-1", ocpp_version="1.6", connected=False, at=NOW - 2 * DAY)
    await record("CP-1", ocpp_version="1.6", connected=True, at=NOW - 2 * DAY + MIN)
    await _status(store, "CP-1", "Available", -3 * DAY)
    await _status(store, "CP-1", "Charging", -2 * DAY)
    assert await store.history.purge_history(NOW - DAY) == 2
    connections, statuses = await intervals(store, NOW - 9 * DAY, NOW)
    assert [c.disconnected_at for c in connections] == [None]
    assert [s.status for s in statuses] == ["Charging"]


async def test_histories_for_the_kpis_by_charger_site_or_all(store: Store) -> None:
    await store.sites.add_site(Site("s1", "S1", "site", NOW, NOW))
    await add_charge_point(store, "CP-1")
    await add_charge_point(store, "CP-2")
    await store.chargers.update_charge_point("CP-2", ChargePointChanges(site_id="s1"))
    record = store.chargers.record_connection
    await record("CP-1", ocpp_version="1.6", connected=True, at=NOW)
    await record("CP-1", ocpp_version="1.6", connected=False, at=NOW + MIN)
    await record("CP-2", ocpp_version="1.6", connected=True, at=NOW + 2 * MIN)
    await _status(store, "CP-2", "Faulted", 3 * MIN)
    start, end = NOW + 30 * timedelta(seconds=1), NOW + DAY
    every = {h.charge_point_id: h for h in await store.history.histories(start=start, end=end)}
    assert set(every) == {"CP-1", "CP-2"}
    assert every["CP-1"].registered_at == NOW
    assert every["CP-1"].connections == (ConnectionInterval("CP-1", NOW, NOW + MIN),)
    assert [s.status for s in every["CP-2"].statuses] == ["Faulted"]
    [one] = await store.history.histories(cp_id="cp-2", start=start, end=end)
    assert one.charge_point_id == "CP-2" and len(one.connections) == 1
    on_site = await store.history.histories(site_ids={"s1"}, start=start, end=end)
    assert [h.charge_point_id for h in on_site] == ["CP-2"]
    assert await store.history.histories(site_ids=set(), start=start, end=end) == []
    # Nothing overlaps a window after CP-1's only connection: it is still listed, empty.
    later = {
        h.charge_point_id: h
        for h in await store.history.histories(start=NOW + 2 * MIN, end=NOW + DAY)
    }
    assert later["CP-1"].connections == ()
