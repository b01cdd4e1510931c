"""What chargers report: their device model (2.0.1 variables) and the reports kept whole by
kind. Part of the store interface (csms.store.repositories re-exports it)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from csms.domain.models import ChargerReport, DeviceVariable
from csms.domain.paging import Page, Paged
from csms.store.outbox import DeclaredEvents

__all__ = ["ChargerReportStore", "DeviceModelStore"]


class DeviceModelStore(Protocol):
    async def upsert_device_variables(
        self,
        cp_id: str,
        variables: Sequence[DeviceVariable],
        at: datetime,
        *,
        events: DeclaredEvents[None] | None = None,
    ) -> None: ...
    async def list_device_variables(self, cp_id: str) -> list[DeviceVariable]: ...


class ChargerReportStore(Protocol):
    """What a charger reports that has no table of its own, kept whole by kind; ``timestamp``
    is the charger's time for it, ``received_at`` when it arrived."""

    async def add_charger_report(
        self,
        cp_id: str,
        kind: str,
        timestamp: datetime,
        data: dict[str, Any],
        *,
        received_at: datetime | None = None,
        events: DeclaredEvents[None] | None = None,
    ) -> None: ...
    async def add_charger_reports(
        self,
        cp_id: str,
        kind: str,
        reports: Sequence[tuple[datetime, dict[str, Any]]],
        *,
        received_at: datetime,
        events: DeclaredEvents[None] | None = None,
    ) -> None:
        """Several (timestamp, data) of one kind, in one commit, stored in this order."""
        ...

    async def list_charger_reports(
        self, cp_id: str, *, kind: str | None = None, limit: int = 100
    ) -> list[ChargerReport]:
        """In the order they were stored."""
        ...

    async def page_charger_reports(
        self,
        cp_id: str,
        kinds: Collection[str],
        page: Page[int],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Paged[ChargerReport]:
        """Newest first by ``timestamp`` (ties: the last stored first), with ``start <=
        timestamp < end`` (either bound optional). Cursor: the id of the last report seen; one
        that is not this charger's, of these kinds, is Invalid("startingAfter")."""
        ...
