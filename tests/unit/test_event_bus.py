"""The event bus: what a change causes is declared before its write, written by the store with it
when a webhook may want it, and published in process once the write has committed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from csms.domain.charger_events import NOTIFY_EVENT, SECURITY_EVENT, STATUS_ERROR
from csms.domain.errors import DatabaseUnavailable
from csms.domain.events import CausedEvent
from csms.domain.models import MeterSample
from csms.domain.webhooks import EVENT_TYPES
from csms.ocpp.v201.handlers import STORED_REPORTS
from csms.services.events import EventBus
from csms.store.outbox import DeclaredEvents

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@dataclass
class Sink:
    """The webhooks as the bus sees them: which types are wanted, and what was woken."""

    types: set[str] = field(default_factory=set)
    woken: list[str] = field(default_factory=list)
    recorded: list[DeclaredEvents[None]] = field(default_factory=list)
    down: bool = False

    @property
    def subscribed(self) -> bool:
        return bool(self.types)

    def wanted(self, type_: str) -> bool:
        return "*" in self.types or type_ in self.types

    def wake(self, webhook_ids: Iterable[str]) -> None:
        self.woken += webhook_ids

    async def record(self, events: DeclaredEvents[None]) -> None:
        if self.down:
            raise DatabaseUnavailable("down")
        # As a store does inside its write.
        events.outbox_events(None)
        events.inserted(["wh_1"])
        self.recorded.append(events)


def bus_with(sink: Sink | None) -> tuple[EventBus, list[tuple[str, str | None, Mapping[str, Any]]]]:
    bus = EventBus(lambda: NOW)
    if sink is not None:
        bus.attach(sink)
    heard: list[tuple[str, str | None, Mapping[str, Any]]] = []
    for type_ in ("charger.connected", "loadmanagement.allocated"):

        def note(cp_id: str | None, data: Mapping[str, Any], type_: str = type_) -> None:
            heard.append((type_, cp_id, data))

        bus.listen(type_, note)
    return bus, heard


def connected(_: None) -> list[CausedEvent]:
    return [CausedEvent("charger.connected", "CP1", {"ocppVersion": "1.6"})]


@pytest.mark.parametrize("sink", [None, Sink()], ids=["no webhooks", "none enabled"])
async def test_without_a_subscription_nothing_is_declared_and_events_still_publish(
    sink: Sink | None,
) -> None:
    bus, heard = bus_with(sink)
    given: list[DeclaredEvents[None] | None] = []

    async def write(events: DeclaredEvents[None] | None) -> None:
        given.append(events)

    await bus.change(write, connected)
    assert given == [None]
    assert heard == [("charger.connected", "CP1", {"ocppVersion": "1.6"})]


async def test_a_declared_write_publishes_what_it_wrote_and_wakes_its_webhooks() -> None:
    sink = Sink({"charger.connected"})
    bus, heard = bus_with(sink)

    async def write(events: DeclaredEvents[None] | None) -> None:
        assert events is not None and not events.written
        [row] = events.outbox_events(None)  # as the store does, inside its transaction
        body = orjson.loads(row.body)
        assert (row.type, row.charge_point_id, row.at) == ("charger.connected", "CP1", NOW)
        assert body == {
            "id": row.event_id,
            "type": "charger.connected",
            "timestamp": "2026-03-01T12:00:00.000Z",
            "data": {"chargePointId": "CP1", "ocppVersion": "1.6"},
        }
        events.inserted(["wh_2", "wh_1", "wh_2"])

    await bus.change(write, connected)
    assert sink.woken == ["wh_1", "wh_2"]
    assert heard == [("charger.connected", "CP1", {"ocppVersion": "1.6"})]


async def test_a_failed_write_publishes_nothing() -> None:
    bus, heard = bus_with(Sink({"*"}))

    async def write(events: DeclaredEvents[None] | None) -> None:
        raise DatabaseUnavailable("down")

    with pytest.raises(DatabaseUnavailable):
        await bus.change(write, connected)
    assert heard == []


def test_only_wanted_types_become_outbox_rows_with_samples_rendered() -> None:
    sample = MeterSample(NOW, "7.5", measurand="Current.Import", unit="A", phase="L1")

    def caused(_: None) -> list[CausedEvent]:
        return [
            CausedEvent("meter.values", "CP1", {"samples": (sample,)}),
            CausedEvent("connector.status", "CP1", {"status": "Faulted"}),
        ]

    declared = DeclaredEvents(caused, NOW, lambda type_: type_ == "meter.values")
    [row] = declared.outbox_events(None)
    assert orjson.loads(row.body)["data"]["samples"] == [
        {
            "timestamp": "2026-03-01T12:00:00.000Z",
            "measurand": "Current.Import",
            "phase": "L1",
            "unit": "A",
            "value": "7.5",
            "context": "Sample.Periodic",
        }
    ]
    # In process every event is published, samples as they are.
    assert [e.type for e in declared.events] == ["meter.values", "connector.status"]


async def test_an_event_without_a_change_is_written_on_its_own_then_published() -> None:
    sink = Sink({"loadmanagement.allocated"})
    bus, heard = bus_with(sink)
    allocated = CausedEvent("loadmanagement.allocated", None, {"limits": {"k": 6.0}})
    await bus.emit(allocated)
    assert len(sink.recorded) == 1 and sink.woken == ["wh_1"]
    assert heard == [("loadmanagement.allocated", None, {"limits": {"k": 6.0}})]
    # The database down: the decision still takes effect in process.
    sink.down = True
    await bus.emit(allocated)
    assert len(heard) == 2 and len(sink.recorded) == 1


def test_every_charger_report_can_be_subscribed_to() -> None:
    kinds = {SECURITY_EVENT, NOTIFY_EVENT, STATUS_ERROR, "ev_charging_needs", "reservation_status"}
    kinds |= set(STORED_REPORTS.values())
    assert {f"charger.{kind}" for kind in kinds} <= EVENT_TYPES
