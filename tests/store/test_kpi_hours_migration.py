"""The KPI roll-up's rows as the previous release left them (SQLite 015, PostgreSQL 012): whole
days without checkpoints. After the upgrade they still answer exactly (the edges inside them
read from the intervals), the roll-up writes them again with checkpoints, and they answer the
same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from csms.domain.history import ConnectionInterval, StatusInterval
from csms.domain.kpi_history import ChargerHistory
from csms.domain.kpi_hours import DayHours
from csms.domain.kpi_rollup import day_start
from csms.domain.kpi_tally import restrict, tally
from csms.domain.kpis import Kpi, report
from csms.services.kpi_rollup import KpiRollup
from csms.services.kpis import KpiScope, KpiService
from csms.services.sites import SiteService
from csms.services.socket_index import SocketIndex
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.kpi_rollup_rows import FIRST, day_rows
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from csms.store.sqlite.history import day_number
from csms.store.sqlite.values import epoch_ms
from tests.databases import PostgresServer
from tests.store.old_schemas import old_postgres, old_sqlite
from tests.unit.test_kpi_hours import assert_exact

REGISTERED = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)
DAYS = [date(2025, 1, 1) + timedelta(days=n) for n in range(5)]  # from its registration day
HISTORY = ChargerHistory(
    "CP-A",
    REGISTERED,
    (ConnectionInterval("CP-A", datetime(2025, 1, 2, 10, tzinfo=UTC), None),),
    (
        StatusInterval(
            "CP-A",
            1,
            1,
            "Available",
            None,
            datetime(2025, 1, 2, 10, tzinfo=UTC),
            datetime(2025, 1, 3, 8, tzinfo=UTC),
        ),
        StatusInterval(
            "CP-A",
            1,
            1,
            "Faulted",
            None,
            datetime(2025, 1, 3, 8, tzinfo=UTC),
            datetime(2025, 1, 3, 20, tzinfo=UTC),
        ),
        StatusInterval("CP-A", 1, 1, "Available", None, datetime(2025, 1, 3, 20, tzinfo=UTC), None),
    ),
)


def _old_rows(stamp: type[str] | None, day: object) -> str:
    """The charger, its history and its rows as the previous release wrote them: ``stamp``
    None for SQLite (milliseconds, day numbers), else PostgreSQL's literals."""

    def at(moment: datetime | None) -> str:
        if moment is None:
            return "NULL"
        return str(epoch_ms(moment)) if stamp is None else f"'{moment.isoformat()}'"

    def on(value: date) -> str:
        return str(day_number(value)) if stamp is None else f"'{value.isoformat()}'"

    sql = [
        "INSERT INTO charge_points (id, created_at) VALUES"
        f" ('CP-A', '{REGISTERED.isoformat(timespec='milliseconds').replace('+00:00', 'Z')}');"
    ]
    for c in HISTORY.connections:
        sql.append(
            "INSERT INTO connection_history (charge_point_id, connected_at, disconnected_at)"
            f" VALUES ('CP-A', {at(c.connected_at)}, {at(c.disconnected_at)});"
        )
    for s in HISTORY.statuses:
        sql.append(
            "INSERT INTO status_history (charge_point_id, evse_id, connector_id, status, from_at,"
            f" to_at) VALUES ('CP-A', 1, 1, '{s.status}', {at(s.started_at)}, {at(s.ended_at)});"
        )
    running = FIRST
    for value in DAYS:
        counted = tally(
            restrict(HISTORY, day_start(value), day_start(value + timedelta(days=1))),
            day_start(value),
            day_start(value + timedelta(days=1)),
            NOW,
        )
        row, downs, running = day_rows(
            "CP-A", value, DayHours(counted, 24, [0] * 24, 0, 0, []), running
        )
        old = ", ".join(on(v) if isinstance(v, date) else repr(v) for v in row[:11])
        sql.append(
            "INSERT INTO kpi_days (charge_point_id, day, measured_us, connected_us, sockets,"
            " all_down_us, run_days, run_measured_us, run_connected_us, set_run,"
            f" run_all_down_us) VALUES ({old});"
        )
        for down in downs:
            values = ", ".join(on(v) if isinstance(v, date) else repr(v) for v in down)
            sql.append(
                "INSERT INTO kpi_day_downtime (charge_point_id, day, evse_id, connector_id,"
                f" down_us) VALUES ({values});"
            )
    return "\n".join(sql)


class _Clock:
    def __call__(self) -> datetime:
        return NOW


async def _check(store: Store) -> None:
    clock = _Clock()
    service = KpiService(
        store.history,
        store.kpi_rollup,
        store.chargers,
        SiteService(store.sites, store.chargers, SocketIndex(), clock),
        clock,
    )
    windows = [
        (None, None),  # the default one: it starts before the first row
        (datetime(2025, 1, 2, 15, 45, 1, 500000, tzinfo=UTC), NOW),
        (datetime(2025, 1, 3, 0, tzinfo=UTC), datetime(2025, 1, 5, 0, tzinfo=UTC)),
        (datetime(2025, 1, 3, 7, 59, tzinfo=UTC), datetime(2025, 1, 4, 2, tzinfo=UTC)),
    ]
    for start, end in windows:
        for kpi in Kpi:
            got, since, until = await service.report(kpi, KpiScope(), start, end)
            histories = await store.history.histories(start=since, end=until)
            assert_exact(got, report(kpi, histories, since, until, NOW))


async def _upgrade(store: Store) -> None:
    # Migrated: the rows are there, without checkpoints.
    [progress] = await store.kpi_rollup.progress(first=date(2024, 12, 1))
    assert (progress.first, progress.last, progress.unpointed) == (
        DAYS[0],
        DAYS[-1],
        (DAYS[0], DAYS[-1]),
    )
    await _check(store)
    # The next round writes them again (and today's row), with checkpoints.
    task = KpiRollup(store.kpi_rollup, _Clock(), retention=timedelta(days=400), settle=0.0)
    await task.start()
    assert await task.roll_up() == len(DAYS) + 1
    [progress] = await store.kpi_rollup.progress(first=date(2024, 12, 1))
    assert (progress.last, progress.hours, progress.unpointed) == (NOW.date(), 9, None)
    await _check(store)


@pytest.fixture(autouse=True)
def unknown_horizon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HORIZON, "_before", None)


async def test_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_sqlite(path, 16, _old_rows(None, None))
    store = SqliteStore(path)
    await store.open()
    try:
        await _upgrade(store)
    finally:
        await store.close()


@pytest.fixture
async def old_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    async with old_postgres(postgres_server, 13, _old_rows(str, None)) as url:
        yield url


async def test_postgres(old_database: str) -> None:
    store = PostgresStore(old_database)
    await store.open()
    try:
        await _upgrade(store)
    finally:
        await store.close()
