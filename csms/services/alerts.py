"""Alerts (API.md "Monitoring"): raised and resolved from what the event bus carries, stored,
published as ``alert.triggered`` / ``alert.updated`` / ``alert.resolved``, and acknowledged or
resolved by operators.

What a report means is decided by csms.domain.alerts; this service only feeds it. The listeners
run on the publisher's path (a charger's frame, a command's completion), so they only note the
change with its time on a queue: unbounded, so nothing is ever dropped, and one task applies it
in order, so a raise and the clearance that follows it reach the store in that order. A write
the database cannot take is tried again until it can (never skipped, never reordered).

CHARGER_DISCONNECTED needs no polling: a disconnection starts a timer for that charger alone,
and its reconnection cancels it. At start-up, every charger already offline (and not alerted for
this absence yet) gets a timer of the full delay from the start: the time the CSMS itself was
down is not held against a charger, so a restart does not raise an alert for the whole fleet.

Which alerts are open is kept in memory (loaded at start-up, kept by this service's own writes),
so the clearances most status reports carry cost no database round trip when nothing is open.
The store stays the judge: raising is "repeat the open one, or insert", in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from csms.domain.alerts import (
    Alert,
    AlertFilter,
    AlertKey,
    AlertName,
    AlertStatus,
    Change,
    Occurrence,
    OperatorChange,
    Target,
    alert_document,
    alert_key,
    call_error,
    default_window,
    disconnected,
    profile_rejected,
    reconnected,
    security_event,
    status_changes,
)
from csms.domain.clock import Clock, parse_timestamp
from csms.domain.errors import DatabaseUnavailable, NotFound
from csms.domain.events import CausedEvent
from csms.domain.models import ChargePoint, ConnectorState
from csms.domain.paging import Page, Paged
from csms.log import get_logger
from csms.services.events import EventBus
from csms.store.monitoring_repositories import Raised
from csms.store.repositories import AlertStore

__all__ = ["AlertService", "ChargerDirectory"]

log = get_logger(__name__)

RETRY_S = 1.0
"""How long a change the database could not take waits before it is tried again."""
_CHARGER_PAGE = 1000


class ChargerDirectory(Protocol):
    """Where the chargers offline at start-up are found (csms.services.chargers)."""

    async def list_charge_points(
        self, page: Page[str], *, connected: bool | None = None
    ) -> Paged[ChargePoint]: ...


class AlertService:
    def __init__(
        self,
        store: AlertStore,
        chargers: ChargerDirectory,
        events: EventBus,
        clock: Clock,
        *,
        disconnected_after: float,
    ) -> None:
        self._store = store
        self._chargers = chargers
        self._events = events
        self._clock = clock
        self._disconnected_after = disconnected_after
        self._queue: asyncio.Queue[Change] = asyncio.Queue()
        self._open: dict[AlertKey, int] = {}  # the open alerts' ids
        self._timers: dict[str, asyncio.TimerHandle] = {}  # lower-case charger id
        self._connected: set[str] = set()
        # Each connector's latest status time as the event carries it (fixed width, so it orders
        # as text): a status queued offline that arrives after a newer one is ignored.
        self._latest: dict[tuple[str, int, int], str] = {}
        self._worker: asyncio.Task[None] | None = None

    # --- wiring and lifecycle ------------------------------------------------------------------

    def attach(self, events: EventBus) -> None:
        events.listen("charger.connected", self._on_connected)
        # In a cluster: a charger that reconnected to another node is no longer disconnected
        # here either (that node resolves the alert; no CHARGER_DISCONNECTED is raised here).
        events.listen_remote("charger.connected", self._on_connected_elsewhere)
        events.listen("charger.disconnected", self._on_disconnected)
        events.listen("charger.deleted", self._on_deleted)
        events.listen("connector.status", self._on_status)
        events.listen("command.completed", self._on_command)
        events.listen("loadmanagement.unmanaged", self._on_unmanaged)
        events.listen("charger.security_event", self._on_security_event)

    async def start(self) -> None:
        """Load the open alerts, time the chargers already offline, start applying changes.
        Before the gateway accepts chargers: until then every charger is offline."""
        self._open = {alert.key: alert.id for alert in await self._store.open_alerts()}
        await self._time_offline_chargers()
        self._worker = asyncio.create_task(self._run(), name="alerts")

    async def stop(self, timeout: float) -> None:
        """Stop the timers and store what is queued (bounded in time); before the store
        closes."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._worker is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.warning("alert changes not stored at shutdown", pending=self._queue.qsize())
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    async def settled(self) -> None:
        """Return once every change noted so far is stored and published."""
        await self._queue.join()

    # --- what operators do ---------------------------------------------------------------------

    async def get(self, alert_id: int) -> Alert:
        alert = await self._store.get_alert(alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} not found")
        return alert

    async def list_alerts(self, page: Page[int], criteria: AlertFilter) -> Paged[Alert]:
        """Newest first. A window left open gets the default (csms.domain.alerts)."""
        start, end = default_window(criteria.start, criteria.end, self._clock())
        return await self._store.list_alerts(
            page, dataclasses.replace(criteria, start=start, end=end)
        )

    async def update(
        self,
        alert_id: int,
        status: AlertStatus,
        *,
        by: str,
        notes: str | None = None,
        notes_given: bool = False,
    ) -> Alert:
        """Acknowledge or resolve; NotFound, or Invalid (``status``) for a move not allowed."""
        change = OperatorChange(status, by, self._clock(), notes, notes_given)
        _, after = await self._events.change(
            lambda events: self._store.change_alert(alert_id, change, events=events),
            _operator_change_events,
        )
        if after.status is AlertStatus.RESOLVED and self._open.get(after.key) == after.id:
            del self._open[after.key]
        return after

    # --- listeners: note the change, nothing more ----------------------------------------------

    def _on_connected(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        if cp_id is None:
            return
        key = cp_id.lower()
        self._connected.add(key)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._queue.put_nowait(reconnected(cp_id, self._clock()))

    def _on_connected_elsewhere(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        if cp_id is not None:
            timer = self._timers.pop(cp_id.lower(), None)
            if timer is not None:
                timer.cancel()

    def _on_disconnected(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        if cp_id is None:
            return
        self._connected.discard(cp_id.lower())
        close_code = data.get("closeCode")
        self._time(cp_id, self._clock(), close_code if isinstance(close_code, int) else None)

    def _on_deleted(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        # Its alerts went with it (the store deletes them); what is still queued for it fails
        # with NotFound and is dropped.
        if cp_id is None:
            return
        key = cp_id.lower()
        self._connected.discard(key)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        for alert in [k for k in self._open if k[1] == key]:
            del self._open[alert]
        for connector in [k for k in self._latest if k[0] == key]:
            del self._latest[connector]

    def _on_status(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        evse_id, connector_id = data.get("evseId"), data.get("connectorId")
        status, updated_at = data.get("status"), data.get("updatedAt")
        if (
            cp_id is None
            or not isinstance(evse_id, int)
            or not isinstance(connector_id, int)
            or not isinstance(status, str)
            or not isinstance(updated_at, str)
        ):
            return
        connector = (cp_id.lower(), evse_id, connector_id)
        known = self._latest.get(connector)
        if known is not None and updated_at < known:
            return
        self._latest[connector] = updated_at
        state = ConnectorState(
            evse_id=evse_id,
            connector_id=connector_id,
            status=status,
            error_code=_text(data.get("errorCode")),
            updated_at=parse_timestamp(updated_at),
            info=_text(data.get("info")),
            vendor_error_code=_text(data.get("vendorErrorCode")),
        )
        for change in status_changes(cp_id, state, self._clock()):
            self._queue.put_nowait(change)

    def _on_command(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        if cp_id is not None:
            self._note(call_error(cp_id, data, self._clock()))

    def _on_unmanaged(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        if cp_id is not None:
            reason = str(data.get("reason") or "")
            self._note(profile_rejected(cp_id, reason, self._clock()))

    def _on_security_event(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        if cp_id is not None:
            self._note(security_event(cp_id, data, self._clock()))

    def _note(self, occurrence: Occurrence | None) -> None:
        if occurrence is not None:
            self._queue.put_nowait(occurrence)

    # --- disconnection timers ------------------------------------------------------------------

    def _time(self, cp_id: str, since: datetime, close_code: int | None) -> None:
        key = cp_id.lower()
        previous = self._timers.pop(key, None)
        if previous is not None:
            previous.cancel()
        self._timers[key] = asyncio.get_running_loop().call_later(
            self._disconnected_after, self._still_offline, cp_id, since, close_code
        )

    def _still_offline(self, cp_id: str, since: datetime, close_code: int | None) -> None:
        key = cp_id.lower()
        self._timers.pop(key, None)
        if key not in self._connected:
            self._queue.put_nowait(disconnected(cp_id, since, self._clock(), close_code))

    async def _time_offline_chargers(self) -> None:
        alerted = await self._store.last_triggered(AlertName.CHARGER_DISCONNECTED)
        page: Page[str] = Page(_CHARGER_PAGE)
        while True:
            offline = await self._chargers.list_charge_points(page, connected=False)
            for charger in offline.items:
                self._time_at_start(charger, alerted.get(charger.id.lower()))
            if not offline.has_more:
                return
            page = Page(_CHARGER_PAGE, offline.items[-1].id)

    def _time_at_start(self, charger: ChargePoint, last_alerted: datetime | None) -> None:
        key, since = charger.id.lower(), charger.last_seen_at
        if since is None:
            return  # never connected: not disconnected, only not installed yet
        if key in self._connected or key in self._timers:
            return  # it connected (or left again) while the start-up read its page
        if alert_key(AlertName.CHARGER_DISCONNECTED, Target(charger.id)) in self._open:
            return
        if last_alerted is not None and last_alerted >= since:
            return  # this absence was alerted already, and resolved by an operator
        self._time(charger.id, since, None)

    # --- applying changes, in order ------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            change = await self._queue.get()
            try:
                await self._apply_until_stored(change)
            finally:
                self._queue.task_done()

    async def _apply_until_stored(self, change: Change) -> None:
        while True:
            try:
                await self._apply(change)
                return
            except DatabaseUnavailable as exc:
                log.warning("alert change waits for the database", error=str(exc))
                await asyncio.sleep(RETRY_S)
            except NotFound:
                return  # its charger was deleted meanwhile, and its alerts with it
            except Exception:  # a bug: tried again it would only block every later change
                log.exception("alert change failed", name=change.name)
                return

    async def _apply(self, change: Change) -> None:
        if isinstance(change, Occurrence):
            occurrence = change
            raised = await self._events.change(
                lambda events: self._store.raise_alert(occurrence, events=events),
                _raised_events,
            )
            self._open[raised.alert.key] = raised.alert.id
            return
        key = alert_key(change.name, change.target)
        if key not in self._open:
            return
        cause_ended = change
        await self._events.change(
            lambda events: self._store.resolve_open(
                cause_ended.name, cause_ended.target, cause_ended.at, events=events
            ),
            _resolved_events,
        )
        self._open.pop(key, None)  # an operator may have resolved it meanwhile


# --- the events an alert's change causes (pure: they run inside the store's write) ------------


def _alert_event(type_: str, alert: Alert) -> CausedEvent:
    return CausedEvent(type_, alert.charge_point_id, alert_document(alert))


def _raised_events(raised: Raised) -> tuple[CausedEvent, ...]:
    return (_alert_event("alert.triggered" if raised.created else "alert.updated", raised.alert),)


def _resolved_events(alert: Alert | None) -> tuple[CausedEvent, ...]:
    return () if alert is None else (_alert_event("alert.resolved", alert),)


def _operator_change_events(change: tuple[Alert, Alert]) -> tuple[CausedEvent, ...]:
    before, after = change
    if after.status is AlertStatus.RESOLVED:
        return (_alert_event("alert.resolved", after),)
    if after != before:
        return (_alert_event("alert.updated", after),)
    return ()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
