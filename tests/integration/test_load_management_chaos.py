"""Load management under churn (issue 10, item 6): six chargers of both versions on two 32 A
circuits under a 63 A main, sessions starting and stopping at random, a charger going offline
mid-session. At every instant the limits the chargers have accepted fit every circuit on every
phase, what the cars draw follows them, and priorities show in the shares."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from simulators import ChargePoint16Simulator, ChargePoint201Simulator
from simulators.outlet import Outlet
from tests.conftest import RunningCsms

TAG = "CHAOS-TAG"
DELAY = 0.2  # how long a simulated car takes to follow a new limit
CIRCUITS: list[dict[str, Any]] = [
    {"id": "main", "name": "Main", "phases": "three_phase", "maxCurrent": 63},
    {"id": "left", "name": "Left", "phases": "three_phase", "maxCurrent": 32,
     "parentCircuitId": "main", "phaseRotation": "RST"},
    {"id": "right", "name": "Right", "phases": "three_phase", "maxCurrent": 32,
     "parentCircuitId": "main", "phaseRotation": "RST"},
]  # fmt: skip
# (identity, version, circuit, priority, car phases, car max current)
CHARGERS = [
    ("CH-L1", "1.6", "left", 1, 3, 32.0),
    ("CH-L2", "1.6", "left", 1, 1, 16.0),
    ("CH-L3", "2.0.1", "left", 2, 3, 32.0),
    ("CH-R1", "2.0.1", "right", 1, 3, 32.0),
    ("CH-R2", "1.6", "right", 2, 3, 32.0),
    ("CH-R3", "2.0.1", "right", 1, 3, 32.0),
]
Simulator = ChargePoint16Simulator | ChargePoint201Simulator


def _outlet(sim: Simulator) -> Outlet:
    if isinstance(sim, ChargePoint16Simulator):
        return sim.connector(1).outlet
    return sim.evse(1).outlet


def _loads(sims: dict[str, Simulator]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per circuit and phase, the accepted limits of the charging outlets; and any outlet that
    draws more than the limit it follows."""
    loads = {c["id"]: {"L1": 0.0, "L2": 0.0, "L3": 0.0} for c in CIRCUITS}
    over: list[str] = []
    for cp_id, _, circuit, _, _, car_max in CHARGERS:
        outlet = _outlet(sims[cp_id])
        if not outlet.charging:
            continue
        phases = min(outlet.car.phases, outlet.phases)
        amps, used = outlet.target.resolve(phases)
        accepted = car_max if amps is None else min(amps, car_max)
        limit, draw = outlet.followed()
        followed, _ = limit.resolve(phases)
        if followed is not None and draw.current_a > followed + 0.05:
            over.append(f"{cp_id} draws {draw.current_a} A over {followed} A")
        for line in ("L1", "L2", "L3")[:used]:
            loads[circuit][line] += accepted
            loads["main"][line] += accepted
    return loads, over


async def _monitor(sims: dict[str, Simulator], stop: asyncio.Event, seen: list[str]) -> None:
    limits = {c["id"]: float(c["maxCurrent"]) for c in CIRCUITS}
    while not stop.is_set():
        loads, over = _loads(sims)
        seen.extend(over)
        for circuit, per_line in loads.items():
            for line, amps in per_line.items():
                if amps > limits[circuit] + 0.05:
                    seen.append(f"{circuit} {line}: {amps} A accepted over {limits[circuit]} A")
        await asyncio.sleep(0.01)


async def _allocation(csms: RunningCsms, circuit: str) -> dict[str, Any]:
    response = await csms.api().get(f"/api/v1/circuits/{circuit}/allocation")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_churn_never_overloads_a_circuit_and_priorities_show(csms: RunningCsms) -> None:
    api = csms.api()
    await csms.add_id_tag(TAG)
    for body in CIRCUITS:
        assert (await api.post("/api/v1/circuits", json=body)).status_code == 201
    sims: dict[str, Simulator] = {}
    for cp_id, version, circuit, priority, car_phases, car_max in CHARGERS:
        await csms.register(cp_id)
        response = await api.post(
            f"/api/v1/circuits/{circuit}/attach-charge-point",
            json={"chargePointId": cp_id, "priority": priority},
        )
        assert response.status_code == 200, response.text
        options: dict[str, Any] = {
            "limit_delay": DELAY,
            "car_phases": car_phases,
            "car_max_current": car_max,
        }
        if version == "1.6":
            sims[cp_id] = ChargePoint16Simulator(cp_id, csms.ocpp_url, connectors=1, **options)
        else:
            sims[cp_id] = ChargePoint201Simulator(cp_id, csms.ocpp_url, evses=1, **options)
    for sim in sims.values():
        await sim.start()
    stop, seen = asyncio.Event(), list[str]()
    monitor = asyncio.create_task(_monitor(sims, stop, seen))
    running: dict[str, str | int] = {}
    try:
        for sim in sims.values():
            await sim.wait_booted(timeout=5)
            # The 0 A TxDefaultProfile is in place before any session starts.
            await sim.wait_for_call("SetChargingProfile", timeout=5)

        async def start(cp_id: str) -> None:
            sim = sims[cp_id]
            if isinstance(sim, ChargePoint16Simulator):
                running[cp_id] = await sim.start_transaction(connector_id=1, id_tag=TAG)
                await sim.status_notification(1, "Charging")
            else:
                running[cp_id] = await sim.start_transaction(evse_id=1, id_token=TAG)
            _outlet(sim).start()

        async def finish(cp_id: str) -> None:
            sim = sims[cp_id]
            _outlet(sim).stop()
            tx = running.pop(cp_id)
            if isinstance(sim, ChargePoint16Simulator):
                assert isinstance(tx, int)
                await sim.stop_transaction(tx)
            else:
                await sim.stop_transaction(str(tx))

        rng = random.Random(7)
        for _ in range(24):  # bounded churn
            cp_id = rng.choice([c[0] for c in CHARGERS])
            await (finish(cp_id) if cp_id in running else start(cp_id))
            await asyncio.sleep(rng.uniform(0.05, 0.3))

        # Everyone charging: the left circuit shares 32 A by priority (L3 weighs 2).
        for cp_id in [c[0] for c in CHARGERS if c[0] not in running]:
            await start(cp_id)
        left: dict[str, Any] = {}
        for _ in range(80):
            left = await _allocation(csms, "left")
            shares = {s["chargePointId"]: s["allocatedA"] for s in left["sessions"]}
            if len(shares) == 3 and sum(shares.values()) >= 30:
                break
            await asyncio.sleep(0.1)
        shares = {s["chargePointId"]: s["allocatedA"] for s in left["sessions"]}
        assert shares["CH-L3"] >= 1.8 * shares["CH-L1"] > 0, shares

        # A charger goes offline mid-session: it keeps its last limit, counted as such.
        sims["CH-R1"].go_offline()
        for _ in range(50):
            right = await _allocation(csms, "right")
            states = {s["chargePointId"]: s["state"] for s in right["sessions"]}
            if states.get("CH-R1") == "offline":
                break
            await asyncio.sleep(0.1)
        assert states["CH-R1"] == "offline", right
        sims["CH-R1"].go_online()
        await sims["CH-R1"].wait_booted(timeout=5)
        await asyncio.sleep(DELAY * 3)
    finally:
        stop.set()
        await monitor
        for sim in sims.values():
            await sim.stop()
    assert not seen, seen[:10]
