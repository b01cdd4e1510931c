"""Circuits, the chargers on them, priorities and circuit meter readings through the API
(in-process, real SQLite store); what the load manager is told."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from csms.domain.circuits import CircuitEvent, CircuitEventKind
from csms.domain.errors import Invalid
from csms.domain.transactions import TransactionEvent, TransactionStart
from tests.api.conftest import T0, ApiHarness

CIRCUIT_KEYS = {
    "id",
    "name",
    "siteId",
    "parentCircuitId",
    "phases",
    "phaseRotation",
    "connectedPhase",
    "maxCurrent",
    "maxVoltage",
    "minChargePointCurrent",
    "setSessionLimitToZeroOnIdle",
    "offlineReservedCurrent",
    "mode",
    "createdAt",
    "updatedAt",
    "chargePoints",
}
MAIN = {"id": "main", "name": "Main", "phases": "three_phase", "maxCurrent": 63}


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def field_of(error: dict[str, Any]) -> str:
    """The field a 422 names: a domain check's ``details.field``, else the (one) request
    validation error's."""
    assert error["code"] == "validation_error", error
    details = error["details"]
    if "field" in details:
        return str(details["field"])
    fields = {e["field"] for e in details["errors"]}
    assert len(fields) == 1, details
    return str(fields.pop())


@pytest.fixture
def events(harness: ApiHarness) -> list[CircuitEvent]:
    """What the load manager would be told."""
    told: list[CircuitEvent] = []
    harness.ctx.circuits.on_change = told.append
    return told


async def test_circuit_crud_and_shape(api: httpx.AsyncClient, harness: ApiHarness) -> None:
    await ok(await api.post("/api/v1/sites", json={"id": "s1", "name": "S1"}), 201)
    made = await ok(
        await api.post(
            "/api/v1/circuits", json={"name": "Board", "phases": "single_phase", "maxCurrent": 40}
        ),
        201,
    )
    assert set(made) == CIRCUIT_KEYS
    assert made["id"].startswith("circuit_")
    assert made == {
        "id": made["id"],
        "name": "Board",
        "siteId": None,
        "parentCircuitId": None,
        "phases": "single_phase",
        "phaseRotation": None,
        "connectedPhase": None,
        "maxCurrent": 40.0,
        "maxVoltage": None,
        "minChargePointCurrent": 6.0,
        "setSessionLimitToZeroOnIdle": False,
        "offlineReservedCurrent": 0.0,
        "mode": "dynamic",
        "createdAt": made["createdAt"],
        "updatedAt": made["createdAt"],
        "chargePoints": [],
    }
    assert made["createdAt"].endswith("Z")
    full = {
        **MAIN,
        "siteId": "s1",
        "phaseRotation": "TRS",
        "maxVoltage": 400,
        "minChargePointCurrent": 8,
        "setSessionLimitToZeroOnIdle": True,
        "offlineReservedCurrent": 10,
        "mode": "off",
    }
    main = await ok(await api.post("/api/v1/circuits", json=full), 201)
    assert {k: main[k] for k in full} == full
    sub = {
        "id": "sub",
        "name": "Sub",
        "parentCircuitId": "main",
        "phases": "split_phase",
        "connectedPhase": "L3_L1",
        "maxCurrent": 100,
    }  # above its parent's: allowed
    await ok(await api.post("/api/v1/circuits", json=sub), 201)
    error = await error_of(await api.post("/api/v1/circuits", json=MAIN), 409)
    assert error["code"] == "conflict" and error["details"]["field"] == "id"

    viewer = harness.client("viewer")
    assert await ok(await viewer.get("/api/v1/circuits/main")) == main
    assert (await api.get("/api/v1/circuits/nope")).status_code == 404
    page = await ok(await api.get("/api/v1/circuits", params={"limit": 2}))
    assert [c["id"] for c in page["items"]] == [made["id"], "main"] and page["hasMore"]
    page = await ok(await api.get("/api/v1/circuits", params={"startingAfter": "main"}))
    assert [c["id"] for c in page["items"]] == ["sub"] and not page["hasMore"]
    assert set(page["items"][0]) == CIRCUIT_KEYS
    on_site = await ok(await api.get("/api/v1/circuits", params={"siteId": "s1"}))
    assert [c["id"] for c in on_site["items"]] == ["main"]
    below = await ok(await api.get("/api/v1/circuits", params={"parentCircuitId": "main"}))
    assert [c["id"] for c in below["items"]] == ["sub"]

    patched = await ok(
        await api.patch(
            "/api/v1/circuits/main",
            json={"name": "Main board", "maxVoltage": None, "siteId": None, "mode": "dynamic"},
        )
    )
    assert patched == {
        **main,
        "name": "Main board",
        "maxVoltage": None,
        "siteId": None,
        "mode": "dynamic",
        "updatedAt": patched["updatedAt"],
    }
    assert patched["updatedAt"] > main["updatedAt"]
    for bad in ({"name": None}, {"maxCurrent": None}, {"phases": None}, {"bogus": 1}):
        error = await error_of(await api.patch("/api/v1/circuits/main", json=bad), 422)
        assert error["code"] == "validation_error"
    assert await ok(await api.get("/api/v1/circuits/main")) == patched
    assert (await api.patch("/api/v1/circuits/nope", json={"name": "x"})).status_code == 404

    error = await error_of(await api.delete("/api/v1/circuits/main"), 409)  # sub is below it
    assert error["code"] == "conflict"
    assert (await api.delete("/api/v1/circuits/sub")).status_code == 204
    assert (await api.delete("/api/v1/circuits/main")).status_code == 204
    assert (await api.get("/api/v1/circuits/main")).status_code == 404
    assert (await api.delete("/api/v1/circuits/main")).status_code == 404


BAD_CIRCUITS: list[tuple[dict[str, Any], str]] = [
    # Wiring that does not fit the parent's lines.
    (
        {"parentCircuitId": "lamp", "phases": "three_phase", "phaseRotation": "RST"},
        "parentCircuitId",
    ),
    (
        {"parentCircuitId": "split", "phases": "single_phase", "connectedPhase": "L3"},
        "parentCircuitId",
    ),
    (
        {"parentCircuitId": "lamp", "phases": "split_phase", "connectedPhase": "L1_L2"},
        "parentCircuitId",
    ),
    # Wiring that does not fit its own phases, or is missing where it is needed.
    ({"parentCircuitId": "main", "phases": "three_phase"}, "phaseRotation"),
    ({"parentCircuitId": "main", "phases": "single_phase"}, "connectedPhase"),
    ({"phases": "single_phase", "phaseRotation": "RST"}, "phaseRotation"),
    ({"phases": "single_phase", "connectedPhase": "L1_L2"}, "connectedPhase"),
    ({"phases": "split_phase", "connectedPhase": "L2"}, "connectedPhase"),
    ({"phases": "three_phase", "connectedPhase": "L1"}, "connectedPhase"),
    ({"phaseRotation": "RRS"}, "phaseRotation"),
    ({"connectedPhase": "L4"}, "connectedPhase"),
    ({"phases": "four_phase"}, "phases"),
    # Limits.
    ({"maxCurrent": 0}, "maxCurrent"),
    ({"maxCurrent": -16}, "maxCurrent"),
    ({"maxVoltage": 0}, "maxVoltage"),
    ({"minChargePointCurrent": -1}, "minChargePointCurrent"),
    ({"offlineReservedCurrent": -1}, "offlineReservedCurrent"),
    ({"offlineReservedCurrent": 64}, "offlineReservedCurrent"),  # above maxCurrent
    ({"mode": "auto"}, "mode"),
    # What it names must exist.
    ({"siteId": "ghost"}, "siteId"),
    ({"parentCircuitId": "ghost", "phaseRotation": "RST"}, "parentCircuitId"),
    ({"id": "bad id"}, "id"),
    ({"name": ""}, "name"),
]


async def test_bad_circuits_are_422s_naming_the_field_and_write_nothing(
    api: httpx.AsyncClient, events: list[CircuitEvent]
) -> None:
    for body in (
        MAIN,
        {"id": "split", "name": "Split", "phases": "split_phase", "maxCurrent": 32},
        {"id": "lamp", "name": "Lamp", "phases": "single_phase", "maxCurrent": 16},
    ):
        await ok(await api.post("/api/v1/circuits", json=body), 201)
    before = await ok(await api.get("/api/v1/circuits"))
    told = len(events)
    for changes, field in BAD_CIRCUITS:
        body = {**MAIN, "id": "new", **changes}
        error = await error_of(await api.post("/api/v1/circuits", json=body), 422)
        assert field_of(error) == field, (changes, error)
    assert (await api.post("/api/v1/circuits", json={"name": "x"})).status_code == 422
    assert await ok(await api.get("/api/v1/circuits")) == before
    assert len(events) == told  # a refused write tells nobody


async def test_patches_that_break_the_tree_are_422s(api: httpx.AsyncClient) -> None:
    await ok(await api.post("/api/v1/circuits", json=MAIN), 201)
    child = {
        "id": "child",
        "name": "Child",
        "parentCircuitId": "main",
        "phases": "three_phase",
        "phaseRotation": "STR",
        "maxCurrent": 32,
    }
    await ok(await api.post("/api/v1/circuits", json=child), 201)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("main", {"parentCircuitId": "child", "phaseRotation": "RST"}, "parentCircuitId"),
        ("main", {"parentCircuitId": "main", "phaseRotation": "RST"}, "parentCircuitId"),
        ("main", {"phases": "single_phase"}, "phases"),  # child no longer fits below it
        ("child", {"phaseRotation": None}, "phaseRotation"),
        ("child", {"phases": "single_phase"}, "phaseRotation"),  # still wired as three
        ("child", {"maxCurrent": 0}, "maxCurrent"),
    ]
    before = await ok(await api.get("/api/v1/circuits"))
    for circuit_id, body, field in cases:
        error = await error_of(await api.patch(f"/api/v1/circuits/{circuit_id}", json=body), 422)
        assert field_of(error) == field, (circuit_id, body, error)
    assert await ok(await api.get("/api/v1/circuits")) == before
    moved = await ok(
        await api.patch(
            "/api/v1/circuits/child",
            json={"phases": "single_phase", "phaseRotation": None, "connectedPhase": "L2"},
        )
    )
    assert (moved["phases"], moved["phaseRotation"], moved["connectedPhase"]) == (
        "single_phase",
        None,
        "L2",
    )
    top = await ok(await api.patch("/api/v1/circuits/child", json={"parentCircuitId": None}))
    assert top["parentCircuitId"] is None


async def test_attach_detach_and_priorities(
    api: httpx.AsyncClient, harness: ApiHarness, events: list[CircuitEvent]
) -> None:
    await ok(await api.post("/api/v1/circuits", json=MAIN), 201)
    await ok(await api.post("/api/v1/circuits", json={**MAIN, "id": "other"}), 201)
    await harness.register("CP-1")
    await harness.register("CP-2")

    main = await ok(
        await api.post("/api/v1/circuits/main/attach-charge-point", json={"chargePointId": "cp-1"})
    )
    assert main["chargePoints"] == [
        {"chargePointId": "CP-1", "priority": 1.0, "evsePriorities": []}
    ]
    await ok(
        await api.post(
            "/api/v1/circuits/main/attach-charge-point",
            json={"chargePointId": "CP-2", "priority": 0.5},
        )
    )

    # A charger already on another circuit; one that does not exist; a circuit that does not.
    error = await error_of(
        await api.post(
            "/api/v1/circuits/other/attach-charge-point",
            json={"chargePointId": "CP-1", "priority": 2},
        ),
        409,
    )
    assert error["code"] == "conflict" and error["details"]["field"] == "chargePointId"
    assert "main" in error["message"]
    error = await error_of(
        await api.post(
            "/api/v1/circuits/main/attach-charge-point", json={"chargePointId": "GHOST"}
        ),
        422,
    )
    assert field_of(error) == "chargePointId"
    assert (
        await api.post("/api/v1/circuits/nope/attach-charge-point", json={"chargePointId": "CP-1"})
    ).status_code == 404
    # A priority of 0 or below, or not a number.
    for priority in (0, -1, "high"):
        for route, body in (
            ("attach-charge-point", {"chargePointId": "CP-1", "priority": priority}),
            ("set-charge-point-priority", {"chargePointId": "CP-1", "priority": priority}),
        ):
            error = await error_of(await api.post(f"/api/v1/circuits/main/{route}", json=body), 422)
            assert field_of(error) == "priority", (route, body, error)
    error = await error_of(
        await api.post(
            "/api/v1/circuits/main/set-charge-point-priority",
            json={"chargePointId": "CP-1", "evseId": 0, "priority": 2},
        ),
        422,
    )
    assert field_of(error) == "evseId"
    for route in ("attach-charge-point", "detach-charge-point", "set-charge-point-priority"):
        error = await error_of(await api.post(f"/api/v1/circuits/main/{route}", json={}), 422)
        assert "chargePointId" in {e["field"] for e in error["details"]["errors"]}
    assert (await ok(await api.get("/api/v1/circuits/other")))["chargePoints"] == []
    main = await ok(await api.get("/api/v1/circuits/main"))
    assert [(m["chargePointId"], m["priority"]) for m in main["chargePoints"]] == [
        ("CP-1", 1.0),
        ("CP-2", 0.5),
    ]  # nothing half-written

    told = len(events)
    await ok(
        await api.post(
            "/api/v1/circuits/main/set-charge-point-priority",
            json={"chargePointId": "CP-1", "priority": 2},
        )
    )
    main = await ok(
        await api.post(
            "/api/v1/circuits/main/set-charge-point-priority",
            json={"chargePointId": "CP-1", "evseId": 2, "priority": 0.25},
        )
    )
    assert main["chargePoints"][0] == {
        "chargePointId": "CP-1",
        "priority": 2.0,
        "evsePriorities": [{"evseId": 2, "priority": 0.25}],
    }
    assert [(e.kind, e.circuit_id, e.charge_point_id) for e in events[told:]] == [
        (CircuitEventKind.PRIORITY_CHANGED, "main", "CP-1"),
    ] * 2
    error = await error_of(
        await api.post(
            "/api/v1/circuits/other/set-charge-point-priority",
            json={"chargePointId": "CP-1", "priority": 2},
        ),
        404,
    )
    assert error["code"] == "not_found"
    again = await ok(
        await api.post(
            "/api/v1/circuits/main/attach-charge-point",
            json={"chargePointId": "CP-1", "priority": 3},
        )
    )
    assert again["chargePoints"][0]["priority"] == 3.0  # attaching again: the new priority
    assert again["chargePoints"][0]["evsePriorities"] == [{"evseId": 2, "priority": 0.25}]

    assert (await api.delete("/api/v1/circuits/main")).status_code == 409  # chargers on it
    main = await ok(
        await api.post("/api/v1/circuits/main/detach-charge-point", json={"chargePointId": "CP-1"})
    )
    assert [m["chargePointId"] for m in main["chargePoints"]] == ["CP-2"]
    error = await error_of(
        await api.post("/api/v1/circuits/main/detach-charge-point", json={"chargePointId": "CP-1"}),
        404,
    )
    assert error["code"] == "not_found"
    other = await ok(
        await api.post("/api/v1/circuits/other/attach-charge-point", json={"chargePointId": "CP-1"})
    )
    assert other["chargePoints"] == [
        {"chargePointId": "CP-1", "priority": 1.0, "evsePriorities": []}
    ]


async def test_report_consumption(
    api: httpx.AsyncClient, harness: ApiHarness, events: list[CircuitEvent]
) -> None:
    await ok(await api.post("/api/v1/circuits", json=MAIN), 201)
    told = len(events)
    reading = await ok(
        await api.post(
            "/api/v1/circuits/main/report-consumption",
            json={"currentL1": 16000, "currentL2": 0, "currentL3": 2500.5},
        ),
        202,
    )
    assert reading == {
        "circuitId": "main",
        "reading": {"L1": 16.0, "L2": 0.0, "L3": 2.5005},
        "receivedAt": reading["receivedAt"],
    }
    [event] = events[told:]
    assert event.kind is CircuitEventKind.CONSUMPTION and event.circuit_id == "main"
    assert event.reading == (16.0, 0.0, 2.5005)
    assert reading["receivedAt"] == event.at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )

    for body, field in (
        ({"currentL1": 1, "currentL2": -1, "currentL3": 0}, "currentL2"),
        ({"currentL1": -0.5, "currentL2": 0, "currentL3": 0}, "currentL1"),
        ({"currentL1": 0, "currentL2": 0, "currentL3": "lots"}, "currentL3"),
        ({"currentL1": 0, "currentL2": 0}, "currentL3"),
    ):
        error = await error_of(
            await api.post("/api/v1/circuits/main/report-consumption", json=body), 422
        )
        assert field_of(error) == field, (body, error)
    error = await error_of(
        await api.post(
            "/api/v1/circuits/main/report-consumption",
            content=b'{"currentL1": NaN, "currentL2": 0, "currentL3": 0}',
            headers={"Content-Type": "application/json"},
        ),
        422,
    )
    assert field_of(error) == "currentL1"
    response = await api.post(
        "/api/v1/circuits/nope/report-consumption",
        json={"currentL1": 0, "currentL2": 0, "currentL3": 0},
    )
    assert response.status_code == 404
    assert len(events) == told + 1  # refused readings reach nobody

    # The service checks the reading too (named as the API names it).
    with pytest.raises(Invalid) as caught:
        await harness.ctx.circuits.report_consumption("main", 0, 0, -1)
    assert caught.value.field == "currentL3"


async def test_every_write_tells_the_load_manager(
    api: httpx.AsyncClient, harness: ApiHarness, events: list[CircuitEvent]
) -> None:
    await harness.register("CP-1")
    await ok(await api.post("/api/v1/circuits", json=MAIN), 201)
    await ok(await api.patch("/api/v1/circuits/main", json={"maxCurrent": 50}))
    body = {"chargePointId": "CP-1"}
    await ok(await api.post("/api/v1/circuits/main/attach-charge-point", json=body))
    await ok(
        await api.post(
            "/api/v1/circuits/main/set-charge-point-priority", json={**body, "priority": 2}
        )
    )
    await ok(await api.post("/api/v1/circuits/main/detach-charge-point", json=body))
    assert (await api.delete("/api/v1/circuits/main")).status_code == 204
    kind = CircuitEventKind
    assert [(e.kind, e.circuit_id) for e in events] == [
        (kind.CIRCUIT_CHANGED, "main"),
        (kind.CIRCUIT_CHANGED, "main"),
        (kind.MEMBERS_CHANGED, "main"),
        (kind.PRIORITY_CHANGED, "main"),
        (kind.MEMBERS_CHANGED, "main"),
        (kind.CIRCUIT_CHANGED, "main"),
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)

    def broken(event: CircuitEvent) -> None:
        raise RuntimeError("the listener failed")

    harness.ctx.circuits.on_change = broken  # its failure does not undo the write
    await ok(await api.post("/api/v1/circuits", json=MAIN), 201)
    assert (await api.get("/api/v1/circuits/main")).status_code == 200


async def _start_v16(harness: ApiHarness, cp_id: str) -> str:
    tx = await harness.ctx.transactions.start(TransactionStart(cp_id, 1, 1, "TAG", T0, 1000.0))
    return tx.id


async def _start_v201(harness: ApiHarness, cp_id: str, transaction_id: str) -> str:
    outcome = await harness.ctx.transactions.record_event(
        TransactionEvent(
            cp_id,
            transaction_id,
            "Started",
            0,
            T0 + timedelta(minutes=1),
            "Authorized",
            evse_id=1,
            connector_id=1,
        )
    )
    return outcome.transaction.id


async def test_a_sessions_own_priority(
    api: httpx.AsyncClient, harness: ApiHarness, events: list[CircuitEvent]
) -> None:
    for cp_id in ("CP-1", "CP-2", "CP-3"):
        await harness.register(cp_id)
    await ok(await api.post("/api/v1/circuits", json=MAIN), 201)
    await ok(
        await api.post("/api/v1/circuits/main/attach-charge-point", json={"chargePointId": "CP-1"})
    )
    ref = await _start_v16(harness, "CP-1")
    assert (await ok(await api.get(f"/api/v1/transactions/{ref}")))["priority"] is None

    told = len(events)
    tx = await ok(await api.post(f"/api/v1/transactions/{ref}/set-priority", json={"priority": 2}))
    assert tx["id"] == ref and tx["priority"] == 2.0
    assert await ok(await api.get(f"/api/v1/transactions/{ref}")) == tx
    [event] = events[told:]
    assert (event.kind, event.circuit_id, event.charge_point_id) == (
        CircuitEventKind.PRIORITY_CHANGED,
        "main",
        "CP-1",
    )
    assert event.transaction_pk == int(ref.removeprefix("tx_"))
    by_transaction_id = await ok(
        await api.post(
            f"/api/v1/transactions/{tx['transactionId']}/set-priority", json={"priority": 0.5}
        )
    )
    assert by_transaction_id["priority"] == 0.5
    cleared = await ok(
        await api.post(f"/api/v1/transactions/{ref}/set-priority", json={"priority": None})
    )
    assert cleared["priority"] is None

    for body in ({"priority": 0}, {"priority": -2}, {}, {"priority": "high"}):
        error = await error_of(
            await api.post(f"/api/v1/transactions/{ref}/set-priority", json=body), 422
        )
        assert field_of(error) == "priority", (body, error)
    assert (await ok(await api.get(f"/api/v1/transactions/{ref}")))["priority"] is None
    error = await error_of(
        await api.post("/api/v1/transactions/tx_999/set-priority", json={"priority": 1}), 404
    )
    assert error["code"] == "not_found"

    # A transactionId two chargers share names no one transaction.
    await _start_v201(harness, "CP-2", "SHARED")
    await _start_v201(harness, "CP-3", "SHARED")
    error = await error_of(
        await api.post("/api/v1/transactions/SHARED/set-priority", json={"priority": 1}), 409
    )
    assert error["code"] == "ambiguous" and len(error["details"]["candidates"]) == 2
    # A charger on no circuit: set, and nothing to tell the load manager.
    told = len(events)
    [mine, _] = error["details"]["candidates"]
    assert (
        await ok(await api.post(f"/api/v1/transactions/{mine}/set-priority", json={"priority": 3}))
    )["priority"] == 3.0
    assert len(events) == told


async def _allocation_once(
    api: httpx.AsyncClient, circuit_id: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The circuit's allocation once ``done`` holds for it (within 5 s)."""
    async with asyncio.timeout(5):
        while True:
            view = await ok(await api.get(f"/api/v1/circuits/{circuit_id}/allocation"))
            if done(view):
                return view
            await asyncio.sleep(0.05)


async def test_the_allocation_names_each_sessions_transaction_and_own_priority(
    api: httpx.AsyncClient, harness: ApiHarness
) -> None:
    await harness.register("CP-1")
    await ok(await api.post("/api/v1/circuits", json=MAIN), 201)
    attach = {"chargePointId": "CP-1", "priority": 3}
    await ok(await api.post("/api/v1/circuits/main/attach-charge-point", json=attach))
    viewer = harness.client("viewer")
    empty = await ok(await viewer.get("/api/v1/circuits/main/allocation"))
    assert empty["sessions"] == [] and empty["updatedAt"] is None
    ref = await _start_v16(harness, "CP-1")
    allocator = asyncio.create_task(harness.ctx.load_manager.run())
    try:
        view = await _allocation_once(api, "main", lambda v: bool(v["sessions"]))
        [session] = view["sessions"]
        # The charger's weight; the session has none of its own; its id is the one
        # set-priority takes (its transactionId may be shared by 2.0.1 chargers).
        assert (session["id"], session["priority"], session["ownPriority"]) == (ref, 3.0, None)
        body = {"priority": 0.5}
        await ok(await api.post(f"/api/v1/transactions/{ref}/set-priority", json=body))
        view = await _allocation_once(api, "main", lambda v: v["sessions"][0]["ownPriority"])
        assert (view["sessions"][0]["priority"], view["sessions"][0]["ownPriority"]) == (0.5, 0.5)
        # The viewer reads the same document (the console shows it without the controls).
        assert (await ok(await viewer.get("/api/v1/circuits/main/allocation")))["sessions"] == (
            view["sessions"]
        )
    finally:
        allocator.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await allocator
