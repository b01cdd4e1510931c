"""Upgrading to the monitoring queries (SQLite 011, PostgreSQL 008) on real old rows: meter values
keep refusing duplicates under their reordered key and are found by charger and window; a
NotifyEvent stored as one row per message becomes one row per event, at the event's own time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csms.domain.models import MeterSample
from csms.domain.paging import Page
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from tests.databases import PostgresServer
from tests.store.old_schemas import old_postgres, old_sqlite

RECEIVED = datetime(2025, 1, 2, 10, 0, tzinfo=UTC)
NOTIFY = (
    '{"generatedAt": "2025-01-02T09:59:59Z", "seqNo": 4, "eventData": ['
    '{"eventId": 1, "timestamp": "2025-01-02T11:58:00.123+02:00", "trigger": "Alerting",'
    ' "actualValue": "x", "eventNotificationType": "HardWiredNotification",'
    ' "component": {"name": "Connector"}, "variable": {"name": "Problem"}},'
    ' {"eventId": 2, "timestamp": "not a time", "trigger": "Delta", "actualValue": "y",'
    ' "eventNotificationType": "HardWiredNotification", "component": {"name": "EVSE"},'
    ' "variable": {"name": "Power"}}]}'
)
OLD_ROWS = """
    INSERT INTO sample_kinds (id, measurand, phase, unit, context, location, format)
    VALUES (1, 'Energy.Active.Import.Register', '', 'Wh', 'Sample.Periodic', 'Outlet', 'Raw');
    INSERT INTO meter_values (charge_point_id, evse_id, connector_id, at, kind, value)
    VALUES ('CP', 1, 1, {t1}, 1, '10'), ('CP', 2, 0, {t0}, 1, '20');
    INSERT INTO charger_reports (charge_point_id, kind, timestamp, data) VALUES
      ('CP', 'security_event', {received}, '{{"type": "X"}}'),
      ('CP', 'event', {received}, '{notify}');
"""
T0 = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)


async def _check(store: Store) -> None:
    found = await store.transactions.query_meter_values(
        Page(10), start=T0, end=T0 + timedelta(hours=1), cp_id="CP"
    )
    assert [(s.evse_id, s.sample.value) for s in found.items] == [(2, "20"), (1, "10")]
    again = [MeterSample(T0 + timedelta(minutes=1), "10"), MeterSample(T0, "new")]
    assert await store.transactions.add_meter_values("CP", 1, 1, None, again) == 1

    events = (await store.reports.page_charger_reports("CP", ("event",), Page(10))).items
    assert [(e.timestamp, e.received_at, e.data["eventId"]) for e in events] == [
        (RECEIVED, RECEIVED, 2),  # no time of its own: when the message arrived
        (datetime(2025, 1, 2, 9, 58, 0, 123000, tzinfo=UTC), RECEIVED, 1),
    ]
    assert {(e.data["generatedAt"], e.data["seqNo"]) for e in events} == {
        ("2025-01-02T09:59:59Z", 4)
    }
    assert "eventData" not in events[0].data and events[1].data["component"] == {
        "name": "Connector"
    }
    (security,) = (
        await store.reports.page_charger_reports("CP", ("security_event",), Page())
    ).items
    assert (security.data, security.received_at) == ({"type": "X"}, None)


async def test_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    rows = OLD_ROWS.format(
        t0=int(T0.timestamp() * 1000),
        t1=int(T0.timestamp() * 1000) + 60_000,
        received="'2025-01-02T10:00:00.000Z'",
        notify=NOTIFY,
    )
    old_sqlite(path, 11, rows)
    store = SqliteStore(path)
    await store.open()
    try:
        await _check(store)
    finally:
        await store.close()


@pytest.fixture
async def old_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    rows = OLD_ROWS.format(
        t0="'2025-01-02T09:00:00Z'",
        t1="'2025-01-02T09:01:00Z'",
        received="'2025-01-02T10:00:00Z'",
        notify=NOTIFY,
    )
    async with old_postgres(postgres_server, 8, rows) as url:
        yield url


async def test_postgres(old_database: str) -> None:
    store = PostgresStore(old_database)
    await store.open()
    try:
        await _check(store)
    finally:
        await store.close()
