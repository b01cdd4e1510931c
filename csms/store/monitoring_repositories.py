"""The repositories of monitoring: the connection and status history, the KPI roll-up, and
alerts. Part of the store interface (csms.store.repositories, which re-exports them and holds
the ``Store``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from csms.domain.alerts import Alert, AlertFilter, AlertName, Occurrence, OperatorChange, Target
from csms.domain.history import ConnectionInterval, StatusInterval
from csms.domain.kpi_history import ChargerHistory
from csms.domain.kpi_rollup import RolledUp, RollupProgress, RollupRun
from csms.domain.kpi_window import Window, WindowRows
from csms.domain.paging import Page, Paged
from csms.store.outbox import DeclaredEvents

__all__ = ["AlertStore", "HistoryStore", "KpiRollupStore", "Raised"]


class HistoryStore(Protocol):
    """The intervals are written by ChargerStore's ``record_connection``,
    ``record_connector_status`` and ``mark_all_disconnected``, in the commit of the change. A
    change that may fall in a rolled-up piece (csms.store.kpi_rollup_horizon) deletes the
    charger's KPI roll-up rows from that day on in the same commit, and so does closing at start
    the connections a stop left open."""

    async def list_connections(
        self, cp_id: str, page: Page[int], *, start: datetime, end: datetime
    ) -> Paged[tuple[int, ConnectionInterval]]:
        """The charger's connections overlapping [start, end), oldest first; cursor: the id."""
        ...

    async def list_statuses(
        self,
        cp_id: str,
        page: Page[int],
        *,
        start: datetime,
        end: datetime,
        evse_id: int | None = None,
    ) -> Paged[tuple[int, StatusInterval]]:
        """Its connectors' status intervals overlapping [start, end), oldest first."""
        ...

    async def histories(
        self,
        *,
        start: datetime,
        end: datetime,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        cp_ids: Collection[str] | None = None,
    ) -> list[ChargerHistory]:
        """For the KPIs: each charger in scope (``cp_id``; else those on ``site_ids``; else
        those in ``cp_ids``; else all), by id, with its registration and its intervals
        overlapping [start, end), open ones included. By id: a report's items come in this
        order, and its mean sums them in it (floating point: the order is in the last bit)."""
        ...

    async def purge_history(self, before: datetime) -> int:
        """Delete the intervals that ended before ``before``, and the KPI roll-up's days that
        ended by then; how many intervals."""
        ...


class KpiRollupStore(Protocol):
    """The KPI roll-up (csms.domain.kpi_rollup): per charger and UTC day, a
    csms.domain.kpi_tally.Tally computed from the day's history with its hourly checkpoints
    (csms.domain.kpi_hours); today's row covers the day up to the hour of the last round. A
    charger's rows are one unbroken run of days; they go with the charger."""

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
        """Each charger in scope (as ``HistoryStore.histories`` lists them, in the same order)
        with its rows of whole days in ``[first, end)`` summed; ``downtime=False`` leaves each
        socket's downtime (``Tally.lost``) unread: only uptime by connector needs it."""
        ...

    async def frontier(self) -> list[tuple[date, int, int, int]]:
        """The two latest days with rows: the day, how many rows, the fewest and most hours one
        covers (csms.domain.kpi_window.frontier_of)."""
        ...

    async def window(
        self,
        window: Window,
        *,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        statuses: bool = True,
        downtime: bool = True,
    ) -> WindowRows:
        """Each charger in scope (as ``HistoryStore.histories`` lists them) with its rows at the
        window's checkpoints, what begins or ends inside the pieces after them, and
        (``downtime``) the sockets' downtime in between. ``statuses=False``: no downtime state
        nor status reports (connectivity)."""
        ...

    async def progress(self, *, first: date) -> list[RollupProgress]:
        """Every charger with the first and last day of its rows from ``first`` on, the hours
        its last row covers and the days of its rows without checkpoints."""
        ...

    async def roll_up(self, runs: Sequence[RollupRun], *, first: date, now: datetime) -> int:
        """Compute and store these days (a day not ended by ``now`` up to the hour ``now`` is
        in) from their history, in one transaction that no history change interleaves with; a
        charger's run only when it extends its rows as one run (its day before is there and
        whole, or it starts on the charger's first day: ``first`` or its registration day). How
        many rows were written."""
        ...

    async def hold_horizon(self, now: datetime) -> bool:
        """From now on, a history change before the hour ``now`` is in (or before the end of
        the latest rows stored, if later) deletes the rows it alters:
        csms.store.kpi_rollup_horizon. Whether the horizon moved."""
        ...


@dataclass(frozen=True, slots=True)
class Raised:
    alert: Alert
    created: bool  # False: the open alert of that name and target was repeated


class AlertStore(Protocol):
    """Alerts, at most one open (not Resolved) per name and target: a partial unique index
    holds that in the database too. An alert's charger must exist (NotFound otherwise), and
    deleting a charger deletes its alerts.

    What causes do (``raise_alert``, ``resolve_open``) is written beside the writes chargers wait
    for, never in their commit (as the message log is): nobody waits on it but the alert service.
    """

    async def raise_alert(
        self, occurrence: Occurrence, *, events: DeclaredEvents[Raised] | None = None
    ) -> Raised:
        """Open an alert for the occurrence (csms.domain.alerts.opened), or repeat the open one
        of its name and target (csms.domain.alerts.repeated), in one transaction."""
        ...

    async def resolve_open(
        self,
        name: AlertName,
        target: Target,
        at: datetime,
        *,
        events: DeclaredEvents[Alert | None] | None = None,
    ) -> Alert | None:
        """Resolve the open alert of this name and target by its cause; None when none is."""
        ...

    async def change_alert(
        self,
        alert_id: int,
        change: OperatorChange,
        *,
        events: DeclaredEvents[tuple[Alert, Alert]] | None = None,
    ) -> tuple[Alert, Alert]:
        """Apply an operator's change (csms.domain.alerts.apply_operator_change, which raises
        Invalid) in one transaction: the alert (before, after). NotFound when unknown."""
        ...

    async def get_alert(self, alert_id: int) -> Alert | None: ...
    async def list_alerts(self, page: Page[int], criteria: AlertFilter) -> Paged[Alert]:
        """Newest first (by id); the cursor is an id."""
        ...

    async def open_alerts(self) -> list[Alert]: ...
    async def last_triggered(self, name: AlertName) -> dict[str, datetime]:
        """When an alert of this name was last raised, per charger (id lower-cased)."""
        ...
