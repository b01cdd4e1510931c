"""The alert service over an in-memory store: the bus's events in, alerts and alert.* events
out, in order; disconnection timers; start-up; operators; a database that comes back."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.domain.alerts import (
    Alert,
    AlertFilter,
    AlertName,
    AlertStatus,
    Occurrence,
    OperatorChange,
    Target,
    alert_key,
    apply_operator_change,
    opened,
    repeated,
    resolved_by_cause,
)
from csms.domain.clock import format_timestamp
from csms.domain.errors import DatabaseUnavailable, NotFound
from csms.domain.models import BootInfo, ChargePoint
from csms.domain.paging import Page, Paged, paged
from csms.services import alerts as alert_module
from csms.services.alerts import AlertService
from csms.services.events import EventBus
from csms.store.monitoring_repositories import Raised
from csms.store.outbox import DeclaredEvents

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class StepClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class MemoryAlerts:
    """The AlertStore contract in memory (the real ones: tests/store/test_alerts_contract.py)."""

    def __init__(self, chargers: set[str]) -> None:
        self.chargers = {cp.lower() for cp in chargers}
        self.alerts: dict[int, Alert] = {}
        self.unavailable = 0  # the next writes that fail as if the database were down

    def _write(self) -> None:
        if self.unavailable:
            self.unavailable -= 1
            raise DatabaseUnavailable("down")

    def _open(self, name: AlertName, target: Target) -> Alert | None:
        key = alert_key(name, target)
        return next((a for a in self.alerts.values() if a.is_open and a.key == key), None)

    async def raise_alert(
        self, occurrence: Occurrence, *, events: DeclaredEvents[Raised] | None = None
    ) -> Raised:
        self._write()
        if occurrence.target.charge_point_id.lower() not in self.chargers:
            raise NotFound("no such charger")
        current = self._open(occurrence.name, occurrence.target)
        if current is not None:
            self.alerts[current.id] = repeated(current, occurrence)
            return Raised(self.alerts[current.id], created=False)
        alert = dataclasses.replace(opened(occurrence), id=len(self.alerts) + 1)
        self.alerts[alert.id] = alert
        return Raised(alert, created=True)

    async def resolve_open(
        self,
        name: AlertName,
        target: Target,
        at: datetime,
        *,
        events: DeclaredEvents[Alert | None] | None = None,
    ) -> Alert | None:
        self._write()
        current = self._open(name, target)
        if current is None:
            return None
        self.alerts[current.id] = resolved_by_cause(current, at)
        return self.alerts[current.id]

    async def change_alert(
        self,
        alert_id: int,
        change: OperatorChange,
        *,
        events: DeclaredEvents[tuple[Alert, Alert]] | None = None,
    ) -> tuple[Alert, Alert]:
        self._write()
        before = self.alerts[alert_id]
        self.alerts[alert_id] = apply_operator_change(before, change)
        return before, self.alerts[alert_id]

    async def get_alert(self, alert_id: int) -> Alert | None:
        return self.alerts.get(alert_id)

    async def list_alerts(self, page: Page[int], criteria: AlertFilter) -> Paged[Alert]:
        return paged(sorted(self.alerts.values(), key=lambda a: -a.id), page)

    async def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.is_open]

    async def last_triggered(self, name: AlertName) -> dict[str, datetime]:
        last: dict[str, datetime] = {}
        for alert in self.alerts.values():
            if alert.name is name:
                key = alert.charge_point_id.lower()
                last[key] = max(last.get(key, alert.triggered_at), alert.triggered_at)
        return last


def _charger(cp_id: str, last_seen_at: datetime | None) -> ChargePoint:
    return ChargePoint(
        cp_id, None, 0, None, False, None, None, "1.6", True, BootInfo(), None, None, False,
        None, last_seen_at, T0,
    )  # fmt: skip


class Directory:
    def __init__(self, chargers: list[ChargePoint]) -> None:
        self.chargers = chargers

    async def list_charge_points(
        self, page: Page[str], *, connected: bool | None = None
    ) -> Paged[ChargePoint]:
        after = page.starting_after
        rows = [c for c in self.chargers if after is None or c.id > after]
        return paged(rows[: page.fetch], page)


@dataclasses.dataclass
class Harness:
    service: AlertService
    store: MemoryAlerts
    events: EventBus
    published: list[tuple[str, dict[str, Any]]]
    arrived: asyncio.Event

    def status(self, cp_id: str, status: str, second: int, **more: Any) -> None:
        at = format_timestamp(T0 + timedelta(seconds=second))
        self.events.publish(
            "connector.status", cp_id, evseId=1, connectorId=1, status=status, updatedAt=at, **more
        )

    async def next_alert(self, type_: str) -> dict[str, Any]:
        """The first alert event of this type not yet taken, waiting a bounded time."""
        async with asyncio.timeout(5):
            while True:
                for i, (published, data) in enumerate(self.published):
                    if published == type_:
                        del self.published[i]
                        return data
                self.arrived.clear()
                await self.arrived.wait()

    def taken(self) -> list[str]:
        return [type_ for type_, _ in self.published]


async def _harness(
    chargers: list[ChargePoint] | None = None,
    *,
    delay: float = 0.05,
    store: MemoryAlerts | None = None,
) -> Harness:
    chargers = chargers or []
    store = store or MemoryAlerts({"CP-1", "CP-2", *(c.id for c in chargers)})
    events = EventBus(StepClock())
    service = AlertService(
        store, Directory(chargers), events, StepClock(), disconnected_after=delay
    )
    service.attach(events)
    harness = Harness(service, store, events, [], asyncio.Event())
    for type_ in ("alert.triggered", "alert.updated", "alert.resolved"):

        def note(cp_id: str | None, data: Mapping[str, Any], type_: str = type_) -> None:
            harness.published.append((type_, dict(data)))
            harness.arrived.set()

        events.listen(type_, note)
    await service.start()
    return harness


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = await _harness()
    try:
        yield h
    finally:
        await h.service.stop(timeout=1)


async def test_a_fault_is_raised_repeated_and_resolved_in_order(harness: Harness) -> None:
    harness.status("cp-1", "Faulted", 1, errorCode="GroundFailure")
    harness.status("CP-1", "Faulted", 2, errorCode="GroundFailure", vendorErrorCode="E9")
    harness.status("CP-1", "Available", 3, errorCode="NoError")
    await harness.service.settled()
    assert [(t, d["name"]) for t, d in harness.published] == [
        ("alert.triggered", "FAULTED"),
        ("alert.triggered", "GROUND_FAILURE"),
        ("alert.updated", "FAULTED"),
        ("alert.updated", "GROUND_FAILURE"),
        ("alert.triggered", "VENDOR_ERROR_CODE"),
        ("alert.resolved", "FAULTED"),
        ("alert.resolved", "GROUND_FAILURE"),
        ("alert.resolved", "VENDOR_ERROR_CODE"),
    ]
    faulted = harness.published[5][1]
    assert faulted["details"]["count"] == 2 and faulted["details"]["vendorErrorCode"] == "E9"
    assert (faulted["evseId"], faulted["connectorId"], faulted["resolvedBy"]) == (1, 1, None)
    assert not await harness.store.open_alerts()


async def test_an_older_status_arriving_late_is_ignored(harness: Harness) -> None:
    harness.status("CP-1", "Faulted", 5)
    harness.status("CP-1", "Available", 4)  # queued offline, older than the fault
    await harness.service.settled()
    assert harness.taken() == ["alert.triggered"]
    assert [a.name for a in await harness.store.open_alerts()] == [AlertName.FAULTED]


async def test_the_disconnection_timer_is_cancelled_by_a_reconnection(harness: Harness) -> None:
    harness.events.publish("charger.disconnected", "CP-1", closeCode=1006)
    harness.events.publish("charger.connected", "CP-1", ocppVersion="1.6")
    harness.events.publish("charger.disconnected", "CP-2", closeCode=1001)
    triggered = await harness.next_alert("alert.triggered")
    assert (triggered["name"], triggered["chargePointId"]) == ("CHARGER_DISCONNECTED", "CP-2")
    assert triggered["details"]["closeCode"] == 1001
    harness.events.publish("charger.connected", "cp-2", ocppVersion="1.6")
    resolved = await harness.next_alert("alert.resolved")
    assert (resolved["id"], resolved["status"]) == (triggered["id"], "Resolved")
    await harness.service.settled()
    assert [a.charge_point_id for a in harness.store.alerts.values()] == ["CP-2"]


async def test_a_reconnection_to_another_node_cancels_the_timer_and_writes_nothing_here(
    harness: Harness,
) -> None:
    """A cluster: the charger went offline here (its node died, this one released it) and
    came back on another node, which tells this one; no CHARGER_DISCONNECTED is raised here,
    and this node resolves nothing (the other node does, for what it raised)."""
    harness.events.publish("charger.disconnected", "CP-1", closeCode=1006)
    harness.events.publish_remote("charger.connected", "cp-1", {"ocppVersion": "1.6"})
    harness.events.publish("charger.disconnected", "CP-2", closeCode=1006)
    triggered = await harness.next_alert("alert.triggered")
    assert triggered["chargePointId"] == "CP-2"  # CP-1's timer (the same delay) never fired
    await harness.service.settled()
    assert [a.charge_point_id for a in harness.store.alerts.values()] == ["CP-2"]
    # An event of another node is not this node's own: its own listener did not run.
    assert "cp-1" not in harness.service._connected


async def test_an_operator_resolution_lets_the_next_cause_raise_a_new_alert(
    harness: Harness,
) -> None:
    harness.status("CP-1", "Faulted", 1)
    first = await harness.next_alert("alert.triggered")
    acknowledged = await harness.service.update(first["id"], AlertStatus.ACKNOWLEDGED, by="ops")
    assert acknowledged.status is AlertStatus.ACKNOWLEDGED
    assert (await harness.next_alert("alert.updated"))["acknowledgedBy"] == "ops"
    await harness.service.update(
        first["id"], AlertStatus.RESOLVED, by="ops", notes="reset", notes_given=True
    )
    assert (await harness.next_alert("alert.resolved"))["notes"] == "reset"
    harness.status("CP-1", "Faulted", 2)  # still faulted: a new alert
    second = await harness.next_alert("alert.triggered")
    assert second["id"] != first["id"] and second["details"]["count"] == 1
    harness.status("CP-1", "Available", 3)
    assert (await harness.next_alert("alert.resolved"))["id"] == second["id"]


async def test_other_causes_raise_charger_level_alerts(harness: Harness) -> None:
    error = {"code": "charger_error", "message": "m", "details": {"code": "NotImplemented"}}
    harness.events.publish("command.completed", "CP-1", commandId=1, action="reset", error=error)
    harness.events.publish("command.completed", "CP-1", commandId=2, action="reset", error=None)
    harness.events.publish("loadmanagement.unmanaged", "CP-1", reason="Rejected")
    harness.events.publish("charger.security_event", "CP-1", type="StartupOfTheDevice")
    harness.events.publish("charger.security_event", "CP-1", type="TamperDetectionActivated")
    await harness.service.settled()
    names = [(t, d["name"], d["evseId"]) for t, d in harness.published]
    assert names == [
        ("alert.triggered", "CALL_ERROR", None),
        ("alert.triggered", "PROFILE_REJECTED", None),
        ("alert.triggered", "SECURITY_EVENT", None),
    ]


async def test_changes_wait_for_the_database_and_keep_their_order(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alert_module, "RETRY_S", 0.01)
    harness.store.unavailable = 3
    harness.status("CP-1", "Faulted", 1)
    harness.status("CP-1", "Available", 2)
    await harness.service.settled()
    assert harness.taken() == ["alert.triggered", "alert.resolved"]


async def test_a_deleted_chargers_changes_are_dropped_and_the_rest_go_on(
    harness: Harness,
) -> None:
    harness.status("CP-GONE", "Faulted", 1)
    harness.events.publish("charger.deleted", "CP-GONE")
    harness.status("CP-1", "Faulted", 1)
    await harness.service.settled()
    assert [d["chargePointId"] for _, d in harness.published] == ["CP-1"]


async def test_start_up_times_the_chargers_already_offline() -> None:
    before = T0 - timedelta(hours=1)
    store = MemoryAlerts({"OLD", "NEVER", "OPEN", "DONE"})
    # OPEN has an open alert already; DONE's absence was alerted and resolved by an operator.
    for cp_id in ("OPEN", "DONE"):
        occurrence = Occurrence(AlertName.CHARGER_DISCONNECTED, Target(cp_id), T0)
        await store.raise_alert(occurrence)
    done = next(a for a in store.alerts.values() if a.charge_point_id == "DONE")
    await store.change_alert(done.id, OperatorChange(AlertStatus.RESOLVED, "ops", T0))
    chargers = [
        _charger("DONE", before),
        _charger("NEVER", None),
        _charger("OLD", before),
        _charger("OPEN", before),
    ]
    h = await _harness(chargers, store=store)
    try:
        triggered = await h.next_alert("alert.triggered")
        assert triggered["chargePointId"] == "OLD"
        assert triggered["details"]["disconnectedAt"] == format_timestamp(before)
        h.events.publish("charger.connected", "OPEN", ocppVersion="1.6")
        assert (await h.next_alert("alert.resolved"))["chargePointId"] == "OPEN"
        await h.service.settled()
        assert h.taken() == []
        assert {a.charge_point_id for a in await store.open_alerts()} == {"OLD"}
    finally:
        await h.service.stop(timeout=1)


async def test_stop_stores_what_is_queued_and_cancels_the_timers(harness: Harness) -> None:
    harness.events.publish("charger.disconnected", "CP-2", closeCode=1006)
    harness.status("CP-1", "Faulted", 1)
    await harness.service.stop(timeout=1)
    assert harness.taken() == ["alert.triggered"]
    await asyncio.sleep(0.1)  # past the timer's delay: it was cancelled
    assert harness.taken() == ["alert.triggered"]
