"""The load manager with its collaborators faked: what it sends, in which order, what it holds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from csms.domain.assets import EvseRecord
from csms.domain.circuits import Circuit, CircuitEvent, CircuitEventKind, CircuitPhases, Member
from csms.domain.clock import system_clock
from csms.domain.evses import Evse, resolve_evse
from csms.domain.models import MeterSample
from csms.domain.paging import Page, Paged
from csms.domain.transactions import Transaction
from csms.services.events import EventBus
from csms.services.loadmanagement import LoadManager
from csms.services.profile_sender import SentProfile, Target

T = datetime(2026, 1, 1, tzinfo=UTC)


class Circuits:
    def __init__(self, circuits: list[Circuit], members: list[Member]) -> None:
        self.circuits, self.members = circuits, members

    async def all_circuits(self) -> list[Circuit]:
        return self.circuits

    async def list_members(self, circuit_id: str | None = None) -> list[Member]:
        return [m for m in self.members if circuit_id in (None, m.circuit_id)]


class Sessions:
    async def list_transactions(
        self, page: Page[int], *, cp_id: str | None = None, active: bool | None = None
    ) -> Paged[Transaction]:
        return Paged([], False)

    async def find(self, ref: str) -> Transaction:
        raise LookupError(ref)


class Evses:
    def __init__(self) -> None:
        self.max_amperage: dict[str, float] = {}  # by charger; none: no maximum recorded

    async def list_evses(self, cp_id: str) -> list[Evse]:
        amps = self.max_amperage.get(cp_id)
        record = None if amps is None else EvseRecord(cp_id, 1, T, max_amperage=amps)
        return [resolve_evse(cp_id, 1, record, None, ())]


class Sender:
    """Records each batch; answers as ``answers`` says (default Accepted)."""

    def __init__(self) -> None:
        self.batches: list[dict[str, float]] = []
        self.answers: dict[str, str] = {}
        self.defaults: list[str] = []
        self.meanwhile: Callable[[], None] | None = None  # runs while the charger "answers"

    async def send_all(self, targets: Mapping[str, Target]) -> dict[str, SentProfile]:
        if self.meanwhile is not None:
            self.meanwhile()
        if targets:
            self.batches.append({key: t.limit for key, t in targets.items()})
        out = {}
        for key, t in targets.items():
            status = self.answers.get(t.charge_point_id, "Accepted")
            ok = status == "Accepted"
            out[key] = SentProfile(9101, t.limit, t.phases, T, status, ok, refused=not ok)
        return out

    async def send_default(self, cp_id: str) -> tuple[bool, bool]:
        self.defaults.append(cp_id)
        return True, False


def manager(
    members: list[Member],
    *,
    max_current: float = 32.0,
    offline_reserved: float = 0.0,
    evses: Evses | None = None,
) -> tuple[LoadManager, EventBus, Sender, set[str]]:
    circuit = Circuit(
        "c",
        "C",
        CircuitPhases.THREE,
        max_current,
        T,
        T,
        offline_reserved_current=offline_reserved,
    )
    events = EventBus(system_clock)
    sender = Sender()
    connected: set[str] = set()
    lm = LoadManager(
        Circuits([circuit], members),
        Sessions(),
        evses or Evses(),
        sender,
        events,
        system_clock,
        meter_timeout=60.0,
        is_connected=lambda cp_id: cp_id.lower() in connected,
    )
    lm.attach(events)
    return lm, events, sender, connected


def start(events: EventBus, cp_id: str, tx: str, pk: int) -> None:
    events.publish(
        "transaction.started", cp_id, id=f"tx_{pk}", transactionId=tx, evseId=1, connectorId=1
    )


async def allocate(lm: LoadManager, *, lending: bool = False, reload: bool = False) -> None:
    if reload:
        await lm._load()
    await lm._reallocate(lending)


async def test_decreases_are_sent_and_accepted_before_increases() -> None:
    lm, events, sender, connected = manager([Member("c", "A"), Member("c", "B", priority=3.0)])
    connected.update({"a", "b"})
    await lm._load()
    start(events, "A", "1", 1)
    await allocate(lm)
    assert sender.batches == [{"a/1": 32.0}] and sender.defaults == ["A", "B"]
    start(events, "B", "2", 2)
    await allocate(lm)
    # A goes down to 8 A first (its own batch), then B gets 24 A.
    assert sender.batches[1:] == [{"a/1": 8.0}, {"b/1": 24.0}]
    view = lm.last_allocation["c"]
    assert view["allocated"] == {"L1": 32.0, "L2": 32.0, "L3": 32.0}
    assert {s["chargePointId"]: s["allocatedA"] for s in view["sessions"]} == {"A": 8.0, "B": 24.0}
    events.publish("transaction.ended", "B", id="tx_2", transactionId="2")
    await allocate(lm)
    assert sender.batches[-1] == {"a/1": 32.0}


async def test_a_refused_decrease_makes_the_charger_unmanaged_and_stops_the_round() -> None:
    lm, events, sender, connected = manager([Member("c", "A"), Member("c", "B")])
    connected.update({"a", "b"})
    await lm._load()
    start(events, "A", "1", 1)
    await allocate(lm)
    sender.answers["A"] = "Rejected"
    start(events, "B", "2", 2)
    await allocate(lm)
    assert sender.batches[-1] == {"a/1": 16.0}  # the decrease, refused: no increase followed
    await allocate(lm)
    # A is unmanaged now, reserved its 32 A: nothing is left for B.
    states = {s["chargePointId"]: s["state"] for s in lm.last_allocation["c"]["sessions"]}
    assert states == {"A": "unmanaged", "B": "queued"}


async def test_an_offline_charger_counts_at_its_last_limit_and_a_meter_reading_is_held_back() -> (
    None
):
    lm, events, sender, connected = manager([Member("c", "A"), Member("c", "B")])
    connected.update({"a", "b"})
    await lm._load()
    start(events, "A", "1", 1)
    start(events, "B", "2", 2)
    await allocate(lm)
    assert sender.batches == [{"a/1": 16.0, "b/1": 16.0}]
    events.publish("charger.disconnected", "A", closeCode=1006)
    connected.discard("a")
    await allocate(lm)
    assert len(sender.batches) == 1  # A still applies its 16 A: B keeps its share
    states = {s["chargePointId"]: s["state"] for s in lm.last_allocation["c"]["sessions"]}
    assert states == {"A": "offline", "B": "charging"}
    # The circuit's meter: 26 A on each line, of which the sessions draw 16 (A is offline).
    events.publish(
        "meter.values",
        "B",
        evseId=1,
        samples=tuple(
            MeterSample(T, "16", "Current.Import", "A", phase=p) for p in ("L1", "L2", "L3")
        ),
    )
    lm.on_circuit_event(
        CircuitEvent(CircuitEventKind.CONSUMPTION, "c", T, reading=(26.0, 26.0, 26.0))
    )
    await allocate(lm)
    uncontrolled: dict[str, Any] = lm.last_allocation["c"]["uncontrolled"]
    assert uncontrolled == {"L1": 10.0, "L2": 10.0, "L3": 10.0}
    # 32 - 16 (A, offline) - 10 (uncontrolled) leaves B 6 A.
    assert sender.batches[-1] == {"b/1": 6.0}


async def test_a_silent_meter_holds_back_the_offline_reserve() -> None:
    lm, events, sender, connected = manager([Member("c", "A")], offline_reserved=12.0)
    connected.add("a")
    await lm._load()
    start(events, "A", "1", 1)
    await allocate(lm)
    assert sender.batches == [{"a/1": 20.0}]


async def test_a_profile_refused_for_a_session_that_just_ended_leaves_the_charger_managed() -> None:
    lm, events, sender, connected = manager([Member("c", "A"), Member("c", "B")])
    connected.update({"a", "b"})
    await lm._load()
    start(events, "A", "1", 1)
    await allocate(lm)
    start(events, "B", "2", 2)
    sender.answers["A"] = "Rejected"  # A stopped: its charger no longer knows transaction 1
    sender.meanwhile = lambda: events.publish("transaction.ended", "A", transactionId="1")
    await allocate(lm)
    sender.meanwhile = None
    sender.answers.clear()
    await allocate(lm)
    assert sender.batches[-1] == {"b/1": 32.0}  # A is not reserved: B takes the circuit
    states = {s["chargePointId"]: s["state"] for s in lm.last_allocation["c"]["sessions"]}
    assert states == {"B": "charging"}


def draw(events: EventBus, cp_id: str, amps: float) -> None:
    events.publish(
        "meter.values",
        cp_id,
        evseId=1,
        samples=tuple(
            MeterSample(T, str(amps), "Current.Import", "A", phase=p) for p in ("L1", "L2", "L3")
        ),
    )


async def test_an_unmanaged_chargers_draw_on_the_meter_is_not_counted_twice() -> None:
    evses = Evses()
    evses.max_amperage["U"] = 16.0
    lm, events, sender, connected = manager([Member("c", "U"), Member("c", "S")], evses=evses)
    connected.update({"u", "s"})
    await lm._load()
    start(events, "U", "1", 1)
    sender.answers["U"] = "Rejected"
    await allocate(lm)  # U refuses: unmanaged, its 16 A reserved
    sender.answers.clear()
    start(events, "S", "2", 2)
    await allocate(lm)
    assert sender.batches[-1] == {"s/1": 16.0}
    # Both draw 16 A; the circuit's meter sees their 32 A and nothing else.
    draw(events, "U", 16.0)
    draw(events, "S", 16.0)
    lm.on_circuit_event(
        CircuitEvent(CircuitEventKind.CONSUMPTION, "c", T, reading=(32.0, 32.0, 32.0))
    )
    await allocate(lm)
    view = lm.allocation("c")
    assert view is not None
    assert view["uncontrolled"] == {"L1": 0.0, "L2": 0.0, "L3": 0.0}
    assert view["reserved"] == {"L1": 16.0, "L2": 16.0, "L3": 16.0}
    assert view["measured"] == {"L1": 32.0, "L2": 32.0, "L3": 32.0}
    assert sender.batches[-1] == {"s/1": 16.0}  # not cut to 0 by counting U twice
    states = {s["chargePointId"]: s["state"] for s in view["sessions"]}
    assert states == {"S": "charging", "U": "unmanaged"}


async def test_the_view_shows_what_sessions_draw_now_and_evse_changes_are_read_again() -> None:
    evses = Evses()
    lm, events, sender, connected = manager([Member("c", "A")], evses=evses)
    connected.add("a")
    await lm._load()
    start(events, "A", "1", 1)
    await allocate(lm)
    draw(events, "A", 12.5)  # no allocation runs for it
    view = lm.allocation("c")
    assert view is not None and view["sessions"][0]["measuredA"] == 12.5
    assert (view["sessions"][0]["id"], view["sessions"][0]["ownPriority"]) == ("tx_1", None)
    assert view["measured"]["L2"] == 12.5
    evses.max_amperage["A"] = 20.0
    lm.on_evse_change("A")
    await allocate(lm, reload=lm._reload)
    assert sender.batches[-1] == {"a/1": 20.0}
    lm.on_evse_change("not-on-a-circuit")  # ignored


async def test_a_connection_seen_before_the_charger_is_loaded_still_counts() -> None:
    # The gateway publishes charger.connected before it registers the session, and the event
    # may come while the charger's circuit is still being read: neither may lose it.
    lm, events, sender, _ = manager([Member("c", "A")])
    events.publish("charger.connected", "A", ocppVersion="1.6")  # A is not loaded yet
    await lm._load()  # is_connected still says no
    await allocate(lm)
    assert sender.defaults == ["A"]
    events.publish("charger.disconnected", "A", closeCode=1006)
    await lm._load()
    assert not lm._chargers["a"].connected
