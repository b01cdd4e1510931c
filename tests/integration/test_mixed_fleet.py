"""1.6 and 2.0.1 chargers charging at the same time against one central system."""

from __future__ import annotations

import asyncio

from simulators import ChargePoint16Simulator, ChargePoint201Simulator
from tests.conftest import RunningCsms


async def test_mixed_fleet_charges_and_reads_the_same(csms: RunningCsms) -> None:
    await csms.add_id_tag("SIM-TAG")  # no type: matches the Central tokens presented here
    sims: list[ChargePoint16Simulator | ChargePoint201Simulator] = []
    for i in range(3):
        await csms.register(f"MIX16-{i}")
        await csms.register(f"MIX201-{i}")
        sims.append(
            ChargePoint16Simulator(
                f"MIX16-{i}",
                csms.ocpp_url,
                connectors=2,
                auto=True,
                meter_interval=0.2,
                session_seconds=1.0,
                idle_seconds=0.2,
                power_w=22_000,
            )
        )
        sims.append(
            ChargePoint201Simulator(
                f"MIX201-{i}",
                csms.ocpp_url,
                evses=2,
                auto=True,
                meter_interval=0.2,
                session_seconds=1.0,
                idle_seconds=0.2,
                power_w=22_000,
                id_token_type="Central",
            )
        )
    ended: dict[str, int] = {}
    async with csms.system.services.events.subscribe() as events:
        for sim in sims:
            await sim.start()
        try:
            # Until every charger has finished at least one session.
            async with asyncio.timeout(30):
                while len(ended) < len(sims):
                    event = await events.get()
                    if event.type == "transaction.ended" and event.charge_point_id:
                        ended[event.charge_point_id] = ended.get(event.charge_point_id, 0) + 1
        finally:
            await asyncio.gather(*(sim.stop() for sim in sims))

    api = csms.api()
    points = (await api.get("/api/v1/charge-points")).json()["data"]["items"]
    assert {p["ocppVersion"] for p in points} == {"1.6", "2.0.1"}
    for point in points:
        # The same shape whatever the version: EVSEs with connectors, boot info, transactions.
        assert set(point) >= {"id", "ocppVersion", "evses", "bootInfo", "activeTransactions"}
        assert [e["evseId"] for e in point["evses"] if e["evseId"] > 0] == [1, 2]
        assert point["bootInfo"]["vendor"] == "CSMS-Sim"
    done = await api.get("/api/v1/transactions", params={"active": "false", "limit": 1000})
    completed = done.json()["data"]["items"]
    by_version = {"1.6": 0, "2.0.1": 0}
    for tx in completed:
        version = "1.6" if tx["chargePointId"].startswith("MIX16") else "2.0.1"
        by_version[version] += 1
        assert tx["energyWh"] is not None and tx["energyWh"] >= 0
        assert tx["meterStopWh"] >= tx["meterStartWh"]
        assert tx["evseId"] in (1, 2) and tx["idTag"] == "SIM-TAG"
    assert by_version["1.6"] >= 3 and by_version["2.0.1"] >= 3
    # 2.0.1 ids are the stations' uuids, 1.6 ids ours: both plain strings in the API.
    assert all(isinstance(tx["transactionId"], str) for tx in completed)
