"""The circuit repository's contract (circuits, the chargers on them, priorities, a session's own
priority), on both backends."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from csms.domain.assets import Site
from csms.domain.circuits import Circuit, CircuitMode, CircuitPhases, Member
from csms.domain.errors import Conflict, Invalid, NotFound
from csms.domain.paging import Page
from csms.domain.transactions import TransactionEvent, TransactionStart, TransactionStop
from csms.domain.updates import CircuitChanges
from csms.store.postgres import PostgresStore
from csms.store.repositories import Store
from tests.databases import PostgresServer, reset_database
from tests.store.conftest import NOW, add_charge_point

LATER = NOW + timedelta(minutes=1)
ALL: Page[str] = Page(1000)
THREE, SPLIT, SINGLE = CircuitPhases.THREE, CircuitPhases.SPLIT, CircuitPhases.SINGLE


def circuit(
    circuit_id: str,
    phases: CircuitPhases = THREE,
    parent: str | None = None,
    **fields: Any,
) -> Circuit:
    if parent is not None and "phase_rotation" not in fields and "connected_phase" not in fields:
        fields["phase_rotation" if phases is THREE else "connected_phase"] = (
            "RST" if phases is THREE else "L1" if phases is SINGLE else "L1_L2"
        )
    return Circuit(
        circuit_id, circuit_id.title(), phases, 32.0, NOW, NOW, parent_circuit_id=parent, **fields
    )


async def test_circuits_round_trip_with_every_field(store: Store) -> None:
    await store.sites.add_site(Site("s1", "S1", "site", NOW, NOW))
    full = Circuit(
        "main",
        "Main board",
        THREE,
        125.0,
        NOW,
        NOW,
        site_id="s1",
        phase_rotation="TRS",
        max_voltage=400.0,
        min_charge_point_current=8.0,
        set_session_limit_to_zero_on_idle=True,
        offline_reserved_current=10.5,
        mode=CircuitMode.OFF,
    )
    assert await store.circuits.add_circuit(full) == full
    assert await store.circuits.get_circuit("main") == full
    assert await store.circuits.get_circuit("nope") is None
    split = circuit("split", SPLIT, "main", connected_phase="L2_L3")
    assert await store.circuits.add_circuit(split) == split
    assert await store.circuits.get_circuit("split") == split

    with pytest.raises(Conflict) as conflict:
        await store.circuits.add_circuit(circuit("main"))
    assert conflict.value.field == "id"
    with pytest.raises(Invalid) as invalid:
        await store.circuits.add_circuit(circuit("x", site_id="ghost"))
    assert invalid.value.field == "siteId"
    assert await store.circuits.get_circuit("x") is None


async def test_circuits_list_by_id_with_filters_and_a_cursor(store: Store) -> None:
    await store.sites.add_site(Site("s1", "S1", "site", NOW, NOW))
    for added in (
        circuit("a", site_id="s1"),
        circuit("b", THREE, "a"),
        circuit("c", SINGLE, "a", site_id="s1"),
        circuit("d"),
    ):
        await store.circuits.add_circuit(added)
    first = await store.circuits.list_circuits(Page(2))
    assert [c.id for c in first.items] == ["a", "b"] and first.has_more
    rest = await store.circuits.list_circuits(Page(2, "b"))
    assert [c.id for c in rest.items] == ["c", "d"] and not rest.has_more
    on_site = await store.circuits.list_circuits(ALL, site_id="s1")
    assert [c.id for c in on_site.items] == ["a", "c"]
    below_a = await store.circuits.list_circuits(ALL, parent_circuit_id="a")
    assert [c.id for c in below_a.items] == ["b", "c"]
    both = await store.circuits.list_circuits(ALL, site_id="s1", parent_circuit_id="a")
    assert [c.id for c in both.items] == ["c"]
    assert sorted(c.id for c in await store.circuits.all_circuits()) == ["a", "b", "c", "d"]


async def test_updates_check_the_tree_in_the_write(store: Store) -> None:
    for added in (circuit("a"), circuit("b", THREE, "a"), circuit("c", THREE, "b")):
        await store.circuits.add_circuit(added)

    cases: list[tuple[str, CircuitChanges, str]] = [
        ("a", CircuitChanges(parent_circuit_id="c", phase_rotation="RST"), "parentCircuitId"),
        ("b", CircuitChanges(parent_circuit_id="ghost"), "parentCircuitId"),
        ("b", CircuitChanges(phase_rotation=None), "phaseRotation"),
        ("a", CircuitChanges(phases=SINGLE), "phases"),  # b no longer fits below it
        ("c", CircuitChanges(max_current=0), "maxCurrent"),
        ("c", CircuitChanges(offline_reserved_current=40), "offlineReservedCurrent"),
        ("c", CircuitChanges(site_id="ghost"), "siteId"),
    ]
    for circuit_id, changes, field in cases:
        with pytest.raises(Invalid) as caught:
            await store.circuits.update_circuit(circuit_id, changes, LATER)
        assert caught.value.field == field, (circuit_id, changes)
    assert [await store.circuits.get_circuit(i) for i in "abc"] == [
        circuit("a"),
        circuit("b", THREE, "a"),
        circuit("c", THREE, "b"),
    ]  # nothing was written
    with pytest.raises(NotFound):
        await store.circuits.update_circuit("ghost", CircuitChanges(name="x"), LATER)

    moved = await store.circuits.update_circuit(
        "c",
        CircuitChanges(
            parent_circuit_id="a",
            phases=SPLIT,
            phase_rotation=None,
            connected_phase="L3_L1",
            max_current=20.0,
            max_voltage=230.0,
            name="C2",
            mode=CircuitMode.OFF,
            set_session_limit_to_zero_on_idle=True,
        ),
        LATER,
    )
    assert moved == dataclasses.replace(
        circuit("c", SPLIT, "a", connected_phase="L3_L1"),
        max_current=20.0,
        max_voltage=230.0,
        name="C2",
        mode=CircuitMode.OFF,
        set_session_limit_to_zero_on_idle=True,
        updated_at=LATER,
    )
    assert await store.circuits.get_circuit("c") == moved
    top = await store.circuits.update_circuit("b", CircuitChanges(parent_circuit_id=None), LATER)
    assert top.parent_circuit_id is None and top.phase_rotation == "RST"


async def test_delete_refuses_while_circuits_or_chargers_hang_below(store: Store) -> None:
    await store.circuits.add_circuit(circuit("a"))
    await store.circuits.add_circuit(circuit("b", THREE, "a"))
    await add_charge_point(store, "CP")
    await store.circuits.attach("b", "CP")
    with pytest.raises(Conflict):
        await store.circuits.delete_circuit("a")
    with pytest.raises(Conflict):
        await store.circuits.delete_circuit("b")
    await store.circuits.detach("b", "CP")
    await store.circuits.delete_circuit("b")
    await store.circuits.delete_circuit("a")
    assert await store.circuits.all_circuits() == []
    with pytest.raises(NotFound):
        await store.circuits.delete_circuit("a")


async def test_a_charger_is_on_at_most_one_circuit(store: Store) -> None:
    await store.circuits.add_circuit(circuit("a"))
    await store.circuits.add_circuit(circuit("b"))
    await add_charge_point(store, "CP-1")
    await add_charge_point(store, "CP-2")

    assert await store.circuits.attach("a", "cp-1") == Member("a", "CP-1", 1.0)  # its own id
    with pytest.raises(Conflict) as conflict:
        await store.circuits.attach("b", "CP-1", 2.0)
    assert conflict.value.field == "chargePointId"
    with pytest.raises(Invalid) as invalid:
        await store.circuits.attach("a", "GHOST")
    assert invalid.value.field == "chargePointId"
    with pytest.raises(NotFound):
        await store.circuits.attach("ghost", "CP-2")

    assert await store.circuits.attach("a", "CP-1", 3.0) == Member("a", "CP-1", 3.0)  # again
    assert await store.circuits.attach("a", "CP-1") == Member("a", "CP-1", 3.0)  # kept
    assert await store.circuits.attach("b", "CP-2", 0.5) == Member("b", "CP-2", 0.5)
    assert await store.circuits.list_members("a") == [Member("a", "CP-1", 3.0)]
    assert await store.circuits.list_members() == [
        Member("a", "CP-1", 3.0),
        Member("b", "CP-2", 0.5),
    ]
    assert await store.circuits.get_member("cp-2") == Member("b", "CP-2", 0.5)

    with pytest.raises(NotFound):
        await store.circuits.detach("b", "CP-1")  # it is on a, not b
    await store.circuits.detach("a", "CP-1")
    assert await store.circuits.get_member("CP-1") is None
    with pytest.raises(NotFound):
        await store.circuits.detach("a", "CP-1")
    assert await store.circuits.attach("b", "CP-1") == Member("b", "CP-1", 1.0)  # free again


async def test_priorities_of_chargers_and_their_evses(store: Store) -> None:
    await store.circuits.add_circuit(circuit("a"))
    await add_charge_point(store, "CP")
    await add_charge_point(store, "CP-2")
    await store.circuits.attach("a", "CP")

    assert await store.circuits.set_priority("a", "CP", None, 2.0) == Member("a", "CP", 2.0)
    await store.circuits.set_priority("a", "cp", 2, 0.5)
    member = await store.circuits.set_priority("a", "CP", 1, 4.0)
    assert member == Member("a", "CP", 2.0, ((1, 4.0), (2, 0.5)))
    member = await store.circuits.set_priority("a", "CP", 2, 1.5)  # replaced, not added
    assert member == Member("a", "CP", 2.0, ((1, 4.0), (2, 1.5)))
    assert await store.circuits.list_members("a") == [member]
    assert await store.circuits.list_members() == [member]
    await store.circuits.attach("a", "CP", 3.0)  # attaching again keeps the EVSE priorities
    assert await store.circuits.get_member("CP") == Member("a", "CP", 3.0, ((1, 4.0), (2, 1.5)))

    for circuit_id, cp_id in (("a", "CP-2"), ("ghost", "CP"), ("a", "GHOST")):
        with pytest.raises(NotFound):
            await store.circuits.set_priority(circuit_id, cp_id, None, 1.0)
        with pytest.raises(NotFound):
            await store.circuits.set_priority(circuit_id, cp_id, 1, 1.0)

    await store.circuits.detach("a", "CP")  # the EVSE priorities go with it
    assert await store.circuits.attach("a", "CP") == Member("a", "CP", 1.0)


async def test_a_deleted_charger_leaves_its_circuit(store: Store) -> None:
    await store.circuits.add_circuit(circuit("a"))
    await add_charge_point(store, "CP")
    await store.circuits.attach("a", "CP")
    await store.circuits.set_priority("a", "CP", 1, 2.0)
    await store.chargers.delete_charge_point("CP")
    assert await store.circuits.list_members() == []
    await store.circuits.delete_circuit("a")


async def test_a_deleted_site_leaves_its_circuits_without_one(store: Store) -> None:
    await store.sites.add_site(Site("s1", "S1", "site", NOW, NOW))
    await store.circuits.add_circuit(circuit("a", site_id="s1"))
    await store.sites.delete_site("s1")
    found = await store.circuits.get_circuit("a")
    assert found is not None and found.site_id is None


async def test_a_sessions_own_priority_survives_the_chargers_writes(store: Store) -> None:
    await add_charge_point(store, "CP")
    tx, _ = await store.transactions.start_transaction(
        TransactionStart("CP", 1, 1, "TAG", NOW, 100.0)
    )
    assert tx.priority is None
    updated = await store.circuits.set_transaction_priority(tx.pk, 2.5)
    assert updated == dataclasses.replace(tx, priority=2.5)
    assert await store.transactions.get_transaction(tx.pk) == updated
    stop = TransactionStop("CP", tx.transaction_id, NOW + timedelta(hours=1), 900.0, "Local")
    outcome = await store.transactions.stop_transaction(stop)
    assert outcome is not None and outcome.transaction.priority == 2.5
    [listed] = (await store.transactions.list_transactions(Page(10))).items
    assert listed.priority == 2.5 and not listed.active

    event = TransactionEvent("CP", "T-1", "Started", 0, NOW, "Authorized", evse_id=2)
    started = (await store.transactions.record_transaction_event(event)).transaction
    await store.circuits.set_transaction_priority(started.pk, 0.5)
    later = dataclasses.replace(event, event_type="Updated", seq_no=1, trigger_reason="Other")
    assert (await store.transactions.record_transaction_event(later)).transaction.priority == 0.5
    [found] = await store.transactions.find_transactions("T-1")
    assert found.priority == 0.5

    cleared = await store.circuits.set_transaction_priority(started.pk, None)
    assert cleared.priority is None
    with pytest.raises(NotFound):
        await store.circuits.set_transaction_priority(10_000, 1.0)


async def test_concurrent_moves_cannot_make_a_cycle_together(store: Store) -> None:
    for added in (circuit("root"), circuit("a", THREE, "root"), circuit("b", THREE, "root")):
        await store.circuits.add_circuit(added)
    outcomes = await asyncio.gather(
        store.circuits.update_circuit("a", CircuitChanges(parent_circuit_id="b"), LATER),
        store.circuits.update_circuit("b", CircuitChanges(parent_circuit_id="a"), LATER),
        return_exceptions=True,
    )
    assert sum(isinstance(o, Invalid) for o in outcomes) == 1, outcomes
    parents = {c.id: c.parent_circuit_id for c in await store.circuits.all_circuits()}
    assert parents["root"] is None and {parents["a"], parents["b"]} & {"root"}


async def test_concurrent_attaches_put_a_charger_on_one_circuit(store: Store) -> None:
    for circuit_id in ("a", "b", "c"):
        await store.circuits.add_circuit(circuit(circuit_id))
    await add_charge_point(store, "CP")
    outcomes = await asyncio.gather(
        *(store.circuits.attach(circuit_id, "CP") for circuit_id in ("a", "b", "c")),
        return_exceptions=True,
    )
    attached = [o for o in outcomes if isinstance(o, Member)]
    assert len(attached) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, Member))
    assert await store.circuits.list_members() == attached


@pytest.fixture
async def two_nodes(postgres_server: PostgresServer) -> AsyncIterator[tuple[Store, Store]]:
    """Two PostgreSQL stores on one database: two nodes, each with its own writer connections,
    so that their writes really run at the same time."""
    url = postgres_server.require()
    first, second = PostgresStore(url), PostgresStore(url)
    await first.open()
    await second.open()
    await reset_database(url)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_two_nodes_moving_circuits_at_once_cannot_make_a_cycle(
    two_nodes: tuple[Store, Store],
) -> None:
    first, second = two_nodes
    await first.circuits.add_circuit(circuit("root"))
    for round_ in range(10):
        a, b = f"a{round_}", f"b{round_}"
        await first.circuits.add_circuit(circuit(a, THREE, "root"))
        await first.circuits.add_circuit(circuit(b, THREE, "root"))
        outcomes = await asyncio.gather(
            first.circuits.update_circuit(a, CircuitChanges(parent_circuit_id=b), LATER),
            second.circuits.update_circuit(b, CircuitChanges(parent_circuit_id=a), LATER),
            return_exceptions=True,
        )
        assert sum(isinstance(o, Invalid) for o in outcomes) == 1, outcomes
    parents = {c.id: c.parent_circuit_id for c in await first.circuits.all_circuits()}
    for circuit_id in parents:  # every circuit still hangs under the root
        up: str | None = circuit_id
        for _ in range(len(parents)):
            up = parents[up] if up is not None else None
        assert up is None, circuit_id
