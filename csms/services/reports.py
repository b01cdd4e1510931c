"""What chargers report about themselves: the device model (2.0.1 NotifyReport), events, limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.domain.charger_events import (
    EVENT_KINDS,
    SECURITY_EVENT,
    ChargerEvent,
    SecurityEvent,
    charger_event,
    check_window,
    security_event,
)
from csms.domain.clock import Clock
from csms.domain.events import CausedEvent
from csms.domain.models import ChargerReport, DeviceVariable
from csms.domain.paging import Page, Paged
from csms.log import get_logger
from csms.services.events import EventBus
from csms.store.repositories import ChargerReportStore, DeviceModelStore

__all__ = ["ReportService"]

log = get_logger(__name__)


class ReportService:
    def __init__(
        self,
        device_model: DeviceModelStore,
        reports: ChargerReportStore,
        events: EventBus,
        clock: Clock,
    ) -> None:
        self._device_model = device_model
        self._reports = reports
        self._events = events
        self._clock = clock

    async def device_model_part(
        self,
        cp_id: str,
        *,
        request_id: int,
        seq_no: int,
        more_to_come: bool,
        variables: Sequence[DeviceVariable],
    ) -> None:
        """Store one part of a (possibly multi-part) report as it arrives.

        Each part is answered and kept on its own, so a report cut off half-way still leaves
        what did arrive; ``report.completed`` tells waiters when the last part (tbc=false) is in.
        """
        if more_to_come:
            if variables:
                await self._device_model.upsert_device_variables(cp_id, variables, self._clock())
            return
        completed = CausedEvent(
            "report.completed", cp_id, {"requestId": request_id, "seqNo": seq_no}
        )
        if not variables:
            await self._events.emit(completed)
            return
        await self._events.change(
            lambda events: self._device_model.upsert_device_variables(
                cp_id, variables, self._clock(), events=events
            ),
            lambda _: (completed,),
        )

    async def remember_variables(self, cp_id: str, variables: Sequence[DeviceVariable]) -> None:
        """Values read back (GetVariables) or written (SetVariables) outside a report."""
        if variables:
            await self._device_model.upsert_device_variables(cp_id, variables, self._clock())

    async def device_model(self, cp_id: str) -> list[DeviceVariable]:
        return await self._device_model.list_device_variables(cp_id)

    async def record(
        self, cp_id: str, kind: str, data: dict[str, Any], timestamp: datetime | None = None
    ) -> None:
        """Keep a report whole; ``timestamp``: the charger's time for it (default: now)."""
        now = self._clock()
        await self._events.change(
            lambda events: self._reports.add_charger_report(
                cp_id, kind, timestamp or now, data, received_at=now, events=events
            ),
            lambda _: (CausedEvent(f"charger.{kind}", cp_id, data),),
        )
        if kind == SECURITY_EVENT:
            log.warning("security event", charge_point_id=cp_id, **data)

    async def record_parts(
        self,
        cp_id: str,
        kind: str,
        parts: Sequence[tuple[datetime, dict[str, Any]]],
        message: dict[str, Any],
    ) -> None:
        """One message that reports several things (a NotifyEvent's events): each part kept on
        its own, with its own time, in one commit; the message published once, whole."""
        await self._events.change(
            lambda events: self._reports.add_charger_reports(
                cp_id, kind, parts, received_at=self._clock(), events=events
            ),
            lambda _: (CausedEvent(f"charger.{kind}", cp_id, message),),
        )

    async def list_reports(self, cp_id: str, kind: str | None = None) -> list[ChargerReport]:
        return await self._reports.list_charger_reports(cp_id, kind=kind)

    async def security_events(
        self, cp_id: str, page: Page[int], start: datetime | None, end: datetime | None
    ) -> Paged[SecurityEvent]:
        """Newest first, by the charger's time, within ``[start, end)``."""
        check_window(start, end)
        found = await self._reports.page_charger_reports(
            cp_id, (SECURITY_EVENT,), page, start=start, end=end
        )
        return Paged([security_event(r) for r in found.items], found.has_more)

    async def events(
        self, cp_id: str, page: Page[int], start: datetime | None, end: datetime | None
    ) -> Paged[ChargerEvent]:
        """2.0.1 NotifyEvent events and 1.6 StatusNotification errors, newest first."""
        check_window(start, end)
        found = await self._reports.page_charger_reports(
            cp_id, EVENT_KINDS, page, start=start, end=end
        )
        return Paged([charger_event(r) for r in found.items], found.has_more)
