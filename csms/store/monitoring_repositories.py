"""The repositories of monitoring: the connection and status history. Part of the store
interface (csms.store.repositories, which re-exports them and holds the ``Store``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from csms.domain.history import ConnectionInterval, StatusInterval
from csms.domain.kpi_history import ChargerHistory
from csms.domain.paging import Page, Paged

__all__ = ["HistoryStore"]


class HistoryStore(Protocol):
    """The intervals are written by ChargerStore's ``record_connection``,
    ``record_connector_status`` and ``mark_all_disconnected``, in the commit of the change."""

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

    async def intervals(
        self, cp_ids: Collection[str] | None, *, start: datetime, end: datetime
    ) -> tuple[list[ConnectionInterval], list[StatusInterval]]:
        """Every interval overlapping [start, end) of these chargers (None: all), for the KPIs."""
        ...

    async def histories(
        self,
        *,
        start: datetime,
        end: datetime,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
    ) -> list[ChargerHistory]:
        """For the KPIs: each charger in scope (``cp_id``; else those on ``site_ids``; else all)
        with its registration and its intervals overlapping [start, end), open ones included."""
        ...

    async def purge_history(self, before: datetime) -> int:
        """Delete the intervals that ended before ``before``; how many."""
        ...
