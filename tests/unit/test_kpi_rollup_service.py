"""The KPI roll-up task with a fake store: it moves the horizon before reading an hour that just
ended and waits for the writes in flight only then, writes in bounded batches up to the hour it
began in, then the rows without checkpoints newest first, looks again a bounded number of
times, and wakes just past the hour or every interval."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from csms.domain.kpi_rollup import RolledUp, RollupProgress, RollupRun
from csms.domain.kpi_window import Window, WindowRows
from csms.services.kpi_rollup import KpiRollup

NOW = datetime(2026, 3, 10, 0, 0, 2, tzinfo=UTC)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


class FakeRollups:
    """Rows of no charger, ever: every round finds the same days missing."""

    def __init__(self, horizon_moves: bool) -> None:
        self.horizon_moves = horizon_moves
        self.calls: list[str] = []
        self.batches: list[list[RollupRun]] = []

    async def rolled_up(
        self,
        *,
        first: date,
        end: date,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        cp_ids: Collection[str] | None = None,
        downtime: bool = True,
    ) -> list[RolledUp]:
        raise AssertionError("the task does not read sums")

    async def frontier(self) -> list[tuple[date, int, int, int]]:
        raise AssertionError("the task does not read windows")

    async def window(
        self,
        window: Window,
        *,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        statuses: bool = True,
        downtime: bool = True,
    ) -> WindowRows:
        raise AssertionError("the task does not read windows")

    async def progress(self, *, first: date) -> list[RollupProgress]:
        self.calls.append(f"progress {first}")
        return [
            RollupProgress("A", LONG_AGO, None, None),
            RollupProgress("B", LONG_AGO, first, date(2026, 3, 7)),  # two days missing
        ]

    async def roll_up(self, runs: Sequence[RollupRun], *, first: date, now: datetime) -> int:
        self.calls.append("roll_up")
        self.batches.append(list(runs))
        return sum(run.days for run in runs)

    async def hold_horizon(self, now: datetime) -> bool:
        self.calls.append(f"hold {now:%Y-%m-%d %H:%M}")
        return self.horizon_moves


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("csms.services.kpi_rollup.asyncio.sleep", sleep)
    return waits


@pytest.mark.parametrize("moved", [True, False])
async def test_a_round_waits_for_the_writes_in_flight_only_when_an_hour_just_began(
    slept: list[float], moved: bool
) -> None:
    store = FakeRollups(horizon_moves=moved)
    task = KpiRollup(store, lambda: NOW, retention=timedelta(days=10), settle=3.0)
    await task.roll_up()
    assert store.calls[0] == "hold 2026-03-10 00:00"
    assert slept == ([3.0] if moved else [])


async def test_days_are_written_in_bounded_batches_and_a_round_looks_again_a_few_times(
    slept: list[float],
) -> None:
    store = FakeRollups(horizon_moves=False)
    task = KpiRollup(store, lambda: NOW, retention=timedelta(days=10), batch_days=4, longest_run=3)
    written = await task.roll_up()
    # A: the retention's ten days and today (up to its hour 0) in runs of at most three; B:
    # March 8th, 9th and today. Batches of four days or just over (a run is not cut): three a
    # pass.
    first_pass = [run for batch in store.batches[:3] for run in batch]
    assert sum(run.days for run in first_pass) == 11 + 3
    assert [sum(run.days for run in batch) for batch in store.batches[:3]] == [6, 6, 2]
    assert first_pass[-1] == RollupRun("A", date(2026, 3, 9), 2)
    # The fake never stores anything: three passes, then the round ends.
    assert store.calls.count("progress 2026-02-28") == 3
    assert written == 3 * 14


async def test_rows_without_checkpoints_are_written_again_newest_first(
    slept: list[float],
) -> None:
    class Upgraded(FakeRollups):
        async def progress(self, *, first: date) -> list[RollupProgress]:
            # Up to date but for its rows of an older release, February 20th to March 7th.
            old = (date(2026, 2, 20), date(2026, 3, 7))
            return [RollupProgress("C", LONG_AGO, first, date(2026, 3, 10), 0, old)]

    store = Upgraded(horizon_moves=False)
    task = KpiRollup(
        store, lambda: NOW, retention=timedelta(days=30), batch_days=100, longest_run=9
    )
    await task.roll_up()
    # Its today's row is up to date (hour 0): only the old rows, the newest first.
    assert store.batches[0] == [
        RollupRun("C", date(2026, 2, 27), 9),
        RollupRun("C", date(2026, 2, 20), 7),
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 10, 23, 59, 30, tzinfo=UTC), 31.0),  # just past midnight
        (datetime(2026, 3, 10, 12, 50, tzinfo=UTC), 601.0),  # just past the hour
        (datetime(2026, 3, 10, 12, 0, tzinfo=UTC), 900.0),  # the interval
    ],
)
async def test_rounds_wake_just_past_the_hour_or_every_interval(
    now: datetime, expected: float
) -> None:
    task = KpiRollup(FakeRollups(False), lambda: now, retention=timedelta(days=1), interval=900)
    assert task._until_next_round() == expected
