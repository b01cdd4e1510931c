"""The alert repository's contract (one open alert per name and target, repeats, resolution,
operators' changes, the list's filters and paging), on both backends."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from csms.domain.alerts import (
    AlertFilter,
    AlertName,
    AlertStatus,
    Occurrence,
    OperatorChange,
    Target,
    Urgency,
)
from csms.domain.assets import Site
from csms.domain.errors import Invalid, NotFound
from csms.domain.paging import Page
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from tests.store.conftest import NOW, add_charge_point

LATER = NOW + timedelta(minutes=1)
ALL: Page[int] = Page(1000)
FAULTED, CALL_ERROR = AlertName.FAULTED, AlertName.CALL_ERROR


def seen(
    name: AlertName, cp_id: str, evse: int | None = None, minute: int = 0, **details: Any
) -> Occurrence:
    connector = None if evse is None else 1
    at = NOW + timedelta(minutes=minute)
    return Occurrence(name, Target(cp_id, evse, connector), at, details)


async def test_a_repeat_updates_the_open_alert_of_its_name_and_target(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    first = await store.alerts.raise_alert(seen(FAULTED, "cp-1", 1, status="Faulted"))
    assert first.created and first.alert.id > 0
    assert first.alert.charge_point_id == "CP-1"  # as registered, whatever the event's case
    again = await store.alerts.raise_alert(seen(FAULTED, "CP-1", 1, minute=2, info={"a": [1]}))
    assert not again.created and again.alert.id == first.alert.id
    assert again.alert.details == {
        "info": {"a": [1]},
        "count": 2,
        "lastSeenAt": "2026-03-01T12:02:00.000Z",
    }
    assert again.alert.triggered_at == NOW
    # Another connector, another name, the charger as a whole: each its own alert.
    others = [
        await store.alerts.raise_alert(seen(FAULTED, "CP-1", 2)),
        await store.alerts.raise_alert(seen(AlertName.GROUND_FAILURE, "CP-1", 1)),
        await store.alerts.raise_alert(seen(CALL_ERROR, "CP-1")),
        await store.alerts.raise_alert(seen(CALL_ERROR, "CP-1")),
    ]
    assert [r.created for r in others] == [True, True, True, False]
    stored = await store.alerts.get_alert(first.alert.id)
    assert stored == again.alert
    assert len(await store.alerts.open_alerts()) == 4
    charger_level = await store.alerts.get_alert(others[2].alert.id)
    assert charger_level is not None and charger_level.count == 2
    assert (charger_level.evse_id, charger_level.connector_id) == (None, None)


async def test_an_alert_needs_its_charger_and_goes_with_it(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.alerts.raise_alert(seen(FAULTED, "NOBODY", 1))
    await add_charge_point(store, "CP-1")
    raised = await store.alerts.raise_alert(seen(FAULTED, "CP-1", 1))
    await store.chargers.delete_charge_point("CP-1")
    assert await store.alerts.get_alert(raised.alert.id) is None
    assert await store.alerts.open_alerts() == []


async def test_resolving_by_cause_then_the_same_cause_opens_a_new_alert(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    assert await store.alerts.resolve_open(FAULTED, Target("CP-1", 1, 1), LATER) is None
    first = await store.alerts.raise_alert(seen(FAULTED, "CP-1", 1))
    resolved = await store.alerts.resolve_open(FAULTED, Target("cp-1", 1, 1), LATER)
    assert resolved is not None and resolved.id == first.alert.id
    assert (resolved.status, resolved.resolved_at, resolved.resolved_by) == (
        AlertStatus.RESOLVED,
        LATER,
        None,
    )
    assert await store.alerts.resolve_open(FAULTED, Target("CP-1", 1, 1), LATER) is None
    second = await store.alerts.raise_alert(seen(FAULTED, "CP-1", 1, minute=3))
    assert second.created and second.alert.id > first.alert.id
    assert second.alert.count == 1


async def test_operators_acknowledge_and_resolve_within_the_rules(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    raised = await store.alerts.raise_alert(seen(CALL_ERROR, "CP-1"))
    alert_id = raised.alert.id
    acknowledge = OperatorChange(AlertStatus.ACKNOWLEDGED, "ops", LATER, "looking", True)
    before, after = await store.alerts.change_alert(alert_id, acknowledge)
    assert before == raised.alert
    assert (after.status, after.acknowledged_at, after.acknowledged_by, after.notes) == (
        AlertStatus.ACKNOWLEDGED,
        LATER,
        "ops",
        "looking",
    )
    # A repeat keeps it acknowledged.
    repeated = await store.alerts.raise_alert(seen(CALL_ERROR, "CP-1", minute=2))
    assert repeated.alert.status is AlertStatus.ACKNOWLEDGED and repeated.alert.count == 2
    resolve = OperatorChange(AlertStatus.RESOLVED, "boss", LATER, None, False)
    _, resolved = await store.alerts.change_alert(alert_id, resolve)
    assert (resolved.status, resolved.resolved_by, resolved.notes) == (
        AlertStatus.RESOLVED,
        "boss",
        "looking",
    )
    with pytest.raises(Invalid) as refused:
        await store.alerts.change_alert(alert_id, acknowledge)
    assert refused.value.field == "status"
    assert await store.alerts.get_alert(alert_id) == resolved
    with pytest.raises(NotFound):
        await store.alerts.change_alert(alert_id + 100, acknowledge)


async def test_the_database_allows_one_open_alert_per_name_and_target(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    await store.alerts.raise_alert(seen(CALL_ERROR, "CP-1"))
    resolved = await store.alerts.raise_alert(seen(FAULTED, "CP-1", 1))
    await store.alerts.resolve_open(FAULTED, Target("CP-1", 1, 1), LATER)
    assert resolved.alert.id
    insert = (
        "INSERT INTO alerts (name, category, urgency, status, charge_point_id, evse_id,"
        " connector_id, triggered_at, details) VALUES ({})"
    )
    # Charger level (NULL EVSE and connector), another case of the id: still the same target.
    duplicate = ("CALL_ERROR", "protocol", "low", "Acknowledged", "cp-1", None, None)
    # A second Resolved one next to a Resolved one is history, not a duplicate.
    history = ("FAULTED", "hardware", "high", "Resolved", "CP-1", 1, 1)
    if isinstance(store, SqliteStore):

        def write(values: tuple[Any, ...]) -> Any:
            sql = insert.format(", ".join("?" for _ in range(9)))
            return store.database.write(
                lambda conn: conn.execute(sql, (*values, "2026-03-01T12:00:00.000Z", "{}"))
            )

        with pytest.raises(sqlite3.IntegrityError):
            await write(duplicate)
        await write(history)
    else:
        assert isinstance(store, PostgresStore)
        conn = await asyncpg.connect(store.database.url)
        try:
            sql = insert.format(", ".join(f"${i}" for i in range(1, 10)))
            with pytest.raises(asyncpg.UniqueViolationError):
                await conn.execute(sql, *duplicate, NOW, "{}")
            await conn.execute(sql, *history, NOW, "{}")
        finally:
            await conn.close()
    assert len(await store.alerts.open_alerts()) == 1


async def test_concurrent_raises_of_one_cause_make_one_alert(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    raised = await asyncio.gather(
        *(store.alerts.raise_alert(seen(FAULTED, "CP-1", 1, minute=i)) for i in range(20))
    )
    assert sum(r.created for r in raised) == 1
    [alert] = await store.alerts.open_alerts()
    assert alert.count == 20


async def test_the_list_is_newest_first_paged_and_filtered(store: Store) -> None:
    await store.sites.add_site(Site("top", "Top", "site", NOW, NOW))
    await store.sites.add_site(Site("below", "Below", "site", NOW, NOW, parent_site_id="top"))
    for cp_id, site_id in (("CP-1", "top"), ("CP-2", "below"), ("CP-3", None)):
        await store.chargers.add_charge_point(
            cp_id,
            name=None,
            password_hash=None,
            security_profile=0,
            site_id=site_id,
            created_at=NOW,
        )
    ids = [
        (await store.alerts.raise_alert(occurrence)).alert.id
        for occurrence in (
            seen(FAULTED, "CP-1", 1, minute=0),
            seen(CALL_ERROR, "CP-2", minute=10),
            seen(AlertName.SECURITY_EVENT, "CP-3", minute=20),
            seen(AlertName.VENDOR_ERROR_CODE, "CP-1", 2, minute=30),
        )
    ]
    assert ids == sorted(ids)
    await store.alerts.change_alert(ids[1], OperatorChange(AlertStatus.ACKNOWLEDGED, "ops", LATER))
    await store.alerts.resolve_open(FAULTED, Target("CP-1", 1, 1), LATER)

    async def listed(page: Page[int] = ALL, **criteria: Any) -> list[int]:
        return [a.id for a in (await store.alerts.list_alerts(page, AlertFilter(**criteria))).items]

    assert await listed() == ids[::-1]
    first = await store.alerts.list_alerts(Page(3), AlertFilter())
    assert [a.id for a in first.items] == ids[:0:-1] and first.has_more
    rest = await store.alerts.list_alerts(Page(3, first.items[-1].id), AlertFilter())
    assert [a.id for a in rest.items] == [ids[0]] and not rest.has_more
    assert await listed(charge_point_id="cp-1") == [ids[3], ids[0]]
    assert await listed(site_ids={"top", "below"}) == [ids[3], ids[1], ids[0]]
    assert await listed(site_ids={"below"}) == [ids[1]]
    assert await listed(site_ids=set()) == []
    assert await listed(names={FAULTED, CALL_ERROR}) == [ids[1], ids[0]]
    assert await listed(statuses={AlertStatus.RESOLVED}) == [ids[0]]
    open_ = {AlertStatus.TRIGGERED, AlertStatus.ACKNOWLEDGED}
    assert await listed(statuses=open_) == [ids[3], ids[2], ids[1]]
    assert await listed(urgencies={Urgency.HIGH}) == [ids[2], ids[0]]
    assert await listed(start=NOW + timedelta(minutes=10)) == [ids[3], ids[2], ids[1]]
    window_end = NOW + timedelta(minutes=30)
    assert await listed(start=NOW + timedelta(minutes=10), end=window_end) == [ids[2], ids[1]]
    assert await listed(charge_point_id="CP-2", statuses={AlertStatus.TRIGGERED}) == []


async def test_what_the_service_loads_at_start_up(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    await add_charge_point(store, "CP-2")
    name = AlertName.CHARGER_DISCONNECTED
    await store.alerts.raise_alert(seen(name, "CP-1", minute=1))
    await store.alerts.resolve_open(name, Target("CP-1"), LATER)
    await store.alerts.raise_alert(seen(name, "CP-1", minute=5))
    await store.alerts.raise_alert(seen(name, "CP-2", minute=2))
    await store.alerts.raise_alert(seen(FAULTED, "CP-2", 1, minute=9))
    assert await store.alerts.last_triggered(name) == {
        "cp-1": NOW + timedelta(minutes=5),
        "cp-2": NOW + timedelta(minutes=2),
    }
    assert {(a.name, a.charge_point_id) for a in await store.alerts.open_alerts()} == {
        (name, "CP-1"),
        (name, "CP-2"),
        (FAULTED, "CP-2"),
    }
