"""The site tree's live counts follow the event bus."""

from __future__ import annotations

from csms.domain.clock import system_clock
from csms.domain.site_tree import SocketCounts
from csms.services.events import EventBus
from csms.services.socket_index import SocketIndex


def test_counts_follow_status_connection_and_deletion_events() -> None:
    events = EventBus(system_clock)
    index = SocketIndex()
    index.attach(events)
    index.load([("CP-1", False, 1, 1, "Available"), ("CP-1", False, 0, 0, "Available")])
    assert index.counts(["cp-1"]) == SocketCounts(offline=1)  # connector 0 is no socket

    events.publish("charger.connected", "CP-1", ocppVersion="1.6")
    assert index.counts(["CP-1"]) == SocketCounts(online=1)
    events.publish("connector.status", "cp-1", evseId=2, connectorId=2, status="Faulted")
    assert index.counts(["CP-1"]) == SocketCounts(online=1, error=1)
    events.publish("connector.status", "CP-1", evseId=2, connectorId=2, status="Available")
    assert index.counts(["CP-1"]) == SocketCounts(online=2)
    events.publish("connector.status", "CP-1", evseId=1, connectorId=1, status="Faulted")
    events.publish("charger.disconnected", "CP-1", closeCode=1006)
    assert index.counts(["CP-1"]) == SocketCounts(offline=2)
    events.publish("charger.deleted", "CP-1")
    assert index.counts(["CP-1"]) == SocketCounts()
    assert index.counts(["never-seen"]) == SocketCounts()
    events.publish("charger.connected", "CP-2", ocppVersion="2.0.1")
    events.publish("connector.status", "CP-2", evseId=1, connectorId=1, status="Faulted")
    assert index.counts(["cp-2", "CP-1", "nobody"]) == SocketCounts(error=1)


def test_a_broken_event_changes_nothing_and_raises_nothing() -> None:
    events = EventBus(system_clock)
    index = SocketIndex()
    index.attach(events)
    events.publish("connector.status", "CP", evseId="1", connectorId=None, status="Faulted")
    assert index.counts(["CP"]) == SocketCounts()


def test_a_status_older_than_the_one_known_is_ignored_as_the_store_ignores_it() -> None:
    events = EventBus(system_clock)
    index = SocketIndex()
    index.attach(events)
    events.publish("charger.connected", "CP", ocppVersion="1.6")

    def status(value: str, at: str) -> None:
        events.publish(
            "connector.status", "CP", evseId=1, connectorId=1, status=value, updatedAt=at
        )

    status("Faulted", "2026-01-01T10:00:02.000Z")
    status("Available", "2026-01-01T10:00:01.000Z")  # queued offline, delivered late
    assert index.counts(["CP"]) == SocketCounts(error=1)
    status("Available", "2026-01-01T10:00:03.000Z")
    assert index.counts(["CP"]) == SocketCounts(online=1)
