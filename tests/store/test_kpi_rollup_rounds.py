"""The KPI roll-up end to end on SQLite, differential: history written through the chargers
repository, roll-up rounds of the real task in between (so later reports, days late or out of
order, land in days already rolled up and must invalidate them), and then every KPI through
KpiService equal to the exact computation over the history the store holds."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from csms.domain.kpis import Kpi, report
from csms.domain.models import ConnectorState
from csms.services.kpi_rollup import KpiRollup
from csms.services.kpis import KpiScope, KpiService
from csms.services.sites import SiteService
from csms.services.socket_index import SocketIndex
from csms.store.kpi_rollup_horizon import HORIZON
from csms.store.sqlite import SqliteStore
from tests.unit.kpi_scenarios import DAYS, Event, events, minute, moments
from tests.unit.test_kpi_rollup import assert_same, windows

ROUND = Event("round", minute(0))  # a roll-up round, at the latest moment seen so far


class _Clock:
    def __init__(self) -> None:
        self.now = minute(-1440)

    def __call__(self) -> datetime:
        return self.now


@st.composite
def scenarios(draw: st.DrawFn) -> list[tuple[str, datetime, list[Event]]]:
    """Per charger: its id, registration, and its events with roll-up rounds among them."""
    out = []
    for n in range(draw(st.integers(1, 3))):
        script = draw(events())
        for _ in range(draw(st.integers(0, 3))):
            script.insert(draw(st.integers(0, len(script))), ROUND)
        out.append((f"CP{n}", draw(st.one_of(st.just(minute(-1440)), moments)), script))
    return out


async def _run(
    scenario: list[tuple[str, datetime, list[Event]]],
    window: tuple[datetime, datetime, datetime],
    final_round: bool,
    folder: Path,
) -> None:
    store = SqliteStore(folder / "kpi.db", synchronous="OFF")
    await store.open()
    try:
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
        # charger's reports are late for the days the earlier ones' rounds rolled up.
        for cp_id, _, script in scenario:
            for event in script:
                if event is ROUND:
                    await rollup.roll_up()
                    continue
                clock.now = max(clock.now, event.at)
                if event.kind == "status":
                    evse, connector = event.socket
                    await store.chargers.record_connector_status(
                        cp_id, ConnectorState(evse, connector, event.status, None, event.at)
                    )
                else:
                    await store.chargers.record_connection(
                        cp_id, ocpp_version="1.6", connected=event.kind == "connect", at=event.at
                    )
        start, end, now = window
        clock.now = max(clock.now, now)
        if final_round:
            await rollup.roll_up()
        clock.now = now
        sites = SiteService(store.sites, store.chargers, SocketIndex(), clock)
        service = KpiService(store.history, store.kpi_rollup, store.chargers, sites, clock)
        histories = await store.history.histories(start=start, end=end)
        for kpi in Kpi:
            got, _, _ = await service.report(kpi, KpiScope(), start, end)
            assert_same(got, report(kpi, histories, start, end, now))
    finally:
        await store.close()


# No shrinking: every example opens a database, and shrinking a failure would take minutes
# (the pure differential test in tests/unit/test_kpi_rollup.py shrinks its own).
@settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
)
@given(scenarios(), windows(), st.booleans())
def test_reports_through_rounds_and_late_history_are_exact(
    scenario: list[tuple[str, datetime, list[Event]]],
    window: tuple[datetime, datetime, datetime],
    final_round: bool,
) -> None:
    start, end, now = window
    # A round needs days that have ended: put now after the history, most of the time.
    window = (start, end, max(now, minute((DAYS + 1) * 1440)) if final_round else now)
    before = HORIZON._before
    HORIZON._before = None  # a process that has rolled nothing up yet
    try:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(_run(scenario, window, final_round, Path(folder)))
    finally:
        HORIZON._before = before
