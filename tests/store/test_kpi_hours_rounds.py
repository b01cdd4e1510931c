"""The KPI roll-up's hourly checkpoints end to end on both backends, differential: history
written through the chargers repository, roll-up rounds of the real task at any moment in
between (so today's row covers part of the day, and later reports, days late or out of order,
land in rows already written and must invalidate them), rows of a release before checkpoints
here and there, and then reports over windows whose edges fall anywhere (to the millisecond)
with ``now`` anywhere after, every KPI through KpiService equal to the last bit to the exact
computation over the history the store holds."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from csms.domain.kpis import Kpi, report
from csms.domain.models import ConnectorState
from csms.services.kpi_rollup import KpiRollup
from csms.services.kpis import KpiScope, KpiService
from csms.services.sites import SiteService
from csms.services.socket_index import SocketIndex
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from csms.store.sqlite.history import day_number
from tests.databases import PostgresServer, reset_database
from tests.unit.kpi_scenarios import BASE, DAYS, Event, events, minute
from tests.unit.test_kpi_hours import assert_exact, fine

HOUR = timedelta(hours=1)


class _Clock:
    def __init__(self) -> None:
        self.now = minute(-1440)

    def __call__(self) -> datetime:
        return self.now


@st.composite
def scenarios(draw: st.DrawFn) -> list[tuple[str, datetime, list[Event]]]:
    """Per charger: its id, registration (any moment), and its events with roll-up rounds
    among them, each at a moment of its own (the clock never goes back)."""
    out = []
    for n in range(draw(st.integers(1, 3))):
        script = draw(events())
        for _ in range(draw(st.integers(0, 3))):
            script.insert(draw(st.integers(0, len(script))), Event("round", draw(fine)))
        out.append((f"CP{n}", draw(st.one_of(st.just(minute(-1440)), fine)), script))
    return out


@st.composite
def reports(draw: st.DrawFn) -> list[tuple[datetime, datetime, datetime]]:
    """Windows ending anywhere, the default one (the 7 days until now) among them, and now
    anywhere after the last round (inside its hour, hours later) or before it."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        now = draw(fine)
        start = draw(st.one_of(fine, st.just(now - timedelta(days=7))))
        end = draw(st.one_of(st.just(now), fine))
        # The API takes a window of some length only.
        out.append((start, max(start + timedelta(milliseconds=1), end), now))
    return out


async def _open(backend: str, folder: Path, server: PostgresServer) -> Store:
    if backend == "sqlite":
        store: Store = SqliteStore(folder / "kpi.db", synchronous="OFF")
        await store.open()
        return store
    url = server.require()
    store = PostgresStore(url)
    await store.open()
    await reset_database(url)
    return store


async def _run(
    store: Store,
    scenario: list[tuple[str, datetime, list[Event]]],
    windows: list[tuple[datetime, datetime, datetime]],
    final_round: bool,
    forget: int | None,
) -> None:
    clock = _Clock()
    rollup = KpiRollup(store.kpi_rollup, clock, retention=timedelta(days=400), settle=0.0)
    for cp_id, registered, _ in scenario:
        await store.chargers.add_charge_point(
            cp_id,
            name=None,
            password_hash=None,
            security_profile=0,
            site_id=None,
            created_at=registered,
        )
    await rollup.start()
    # The chargers' scripts one after another: the clock only moves forward, so a later
    # charger's reports are late for the rows the earlier ones' rounds wrote.
    for cp_id, _, script in scenario:
        for event in script:
            clock.now = max(clock.now, event.at)
            if event.kind == "round":
                await rollup.roll_up()
            elif event.kind == "status":
                evse, connector = event.socket
                await store.chargers.record_connector_status(
                    cp_id, ConnectorState(evse, connector, event.status, None, event.at)
                )
            else:
                await store.chargers.record_connection(
                    cp_id, ocpp_version="1.6", connected=event.kind == "connect", at=event.at
                )
    if final_round:
        clock.now = max(clock.now, max(now for _, _, now in windows))
        await rollup.roll_up()
    if forget is not None:
        await _as_written_before_checkpoints(store, BASE.date() + timedelta(days=forget))
    sites = SiteService(store.sites, store.chargers, SocketIndex(), clock)
    service = KpiService(store.history, store.kpi_rollup, store.chargers, sites, clock)
    for start, end, now in windows:
        clock.now = now
        histories = await store.history.histories(start=start, end=end)
        for kpi in Kpi:
            got, _, _ = await service.report(kpi, KpiScope(), start, end)
            assert_exact(got, report(kpi, histories, start, end, now))


async def _as_written_before_checkpoints(store: Store, since: date) -> None:
    """The rows of whole days from ``since`` on, as a release before checkpoints left them."""
    sql = "UPDATE kpi_days SET hours = NULL WHERE day >= {} AND hours = 24"
    if isinstance(store, SqliteStore):
        number = day_number(since)
        await store.database.write(lambda conn: conn.execute(sql.format("?"), (number,)))
    else:
        assert isinstance(store, PostgresStore)

        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(sql.format("$1"), since)

        await store.database.write(op)


# No shrinking: every example opens a database (the pure differential tests in
# tests/unit/test_kpi_hours.py shrink their own).
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    scenarios(),
    reports(),
    st.booleans(),
    st.one_of(st.none(), st.integers(-1, DAYS)),
)
def test_reports_through_hourly_rounds_and_late_history_are_exact(
    backend: str,
    postgres_server: PostgresServer,
    scenario: list[tuple[str, datetime, list[Event]]],
    windows: list[tuple[datetime, datetime, datetime]],
    final_round: bool,
    forget: int | None,
) -> None:
    async def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            store = await _open(backend, Path(folder), postgres_server)
            try:
                await _run(store, scenario, windows, final_round, forget)
            finally:
                await store.close()

    before = HORIZON._before
    HORIZON._before = None  # a process that has rolled nothing up yet
    try:
        asyncio.run(run())
    finally:
        HORIZON._before = before
