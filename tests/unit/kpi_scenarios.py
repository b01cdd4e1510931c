"""Random charger histories as the store writes them, for the roll-up's differential tests.

A scenario is a list of events in the order they arrive: status reports stamped by the charger
(any moment: out of order, or days late, as a status queued offline is) and connections stamped
by the server (in order). ``apply`` writes them with the store's rules (csms.store.*.chargers and
history): a report older than the connector's newest is ignored, a repeat opens nothing, a change
closes the open interval where the next begins; a connection closes the one still open. Moments
lie on a minute grid over a few UTC days, midnights drawn often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from csms.domain.history import ConnectionInterval, StatusInterval
from csms.domain.kpi_history import ChargerHistory, ConnectorKey

__all__ = ["BASE", "DAYS", "Event", "Model", "events", "minute", "moments"]

BASE = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 4
SOCKETS: list[ConnectorKey] = [(0, 0), (1, 1), (1, 2), (1, 2), (2, 1)]
# Down often, and connected most of the time: the cases where sockets' downtimes overlap.
STATUSES = ["Available", "Charging", "Faulted", "Unavailable", "Faulted"]


def minute(n: int) -> datetime:
    return BASE + timedelta(minutes=n)


moments = st.one_of(
    # Spread over the days (a plain integer range would crowd them near its ends).
    st.builds(lambda day, n: day * 1440 + n, st.integers(-1, DAYS), st.integers(0, 1439)),
    st.sampled_from([n * 1440 for n in range(DAYS + 1)]),  # midnights, often
).map(minute)


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "status", "connect", "disconnect"
    at: datetime
    socket: ConnectorKey = (1, 1)
    status: str = "Available"


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    """Status reports mostly in order, a few arriving late (days late, or after a newer one of
    the same socket, which the store ignores); connections and disconnections at moments that
    never go back (the server's clock); interleaved."""
    reports = sorted(
        (
            Event("status", at, draw(st.sampled_from(SOCKETS)), draw(st.sampled_from(STATUSES)))
            for at in draw(st.lists(moments, max_size=16))
        ),
        key=lambda event: event.at,
    )
    for _ in range(draw(st.integers(0, 3))):  # a report delivered late
        if reports:
            late = reports.pop(draw(st.integers(0, len(reports) - 1)))
            reports.insert(draw(st.integers(0, len(reports))), late)
    server = sorted(draw(st.lists(moments, max_size=8)))
    kinds = st.sampled_from(["connect", "connect", "disconnect"])
    changes = [Event(draw(kinds), at) for at in server]
    # Interleave keeping the connections' order.
    out: list[Event] = []
    while reports or changes:
        if changes and (not reports or draw(st.booleans())):
            out.append(changes.pop(0))
        else:
            out.append(reports.pop(0))
    return out


@dataclass
class Model:
    """One charger's history as the store holds it, event by event."""

    cp_id: str
    registered_at: datetime
    connections: list[ConnectionInterval] = field(default_factory=list)
    statuses: list[StatusInterval] = field(default_factory=list)
    newest: dict[ConnectorKey, datetime] = field(default_factory=dict)

    def apply(self, event: Event) -> None:
        if event.kind == "status":
            self._status(event)
        else:
            self._connection(event.kind == "connect", event.at)

    def history(self) -> ChargerHistory:
        return ChargerHistory(
            self.cp_id, self.registered_at, tuple(self.connections), tuple(self.statuses)
        )

    def _status(self, event: Event) -> None:
        key = event.socket
        if key in self.newest and event.at < self.newest[key]:
            return  # older than what is known: ignored
        self.newest[key] = event.at
        for n, s in enumerate(self.statuses):
            if (s.evse_id, s.connector_id) == key and s.ended_at is None:
                if s.status == event.status:
                    return  # a repeat
                self.statuses[n] = StatusInterval(
                    s.charge_point_id,
                    s.evse_id,
                    s.connector_id,
                    s.status,
                    s.error_code,
                    s.started_at,
                    max(s.started_at, event.at),
                )
        self.statuses.append(
            StatusInterval(self.cp_id, key[0], key[1], event.status, None, event.at, None)
        )

    def _connection(self, connected: bool, at: datetime) -> None:
        for n, c in enumerate(self.connections):
            if c.disconnected_at is None:
                end = max(c.connected_at, at)
                self.connections[n] = ConnectionInterval(c.charge_point_id, c.connected_at, end)
        if connected:
            self.connections.append(ConnectionInterval(self.cp_id, at, None))
