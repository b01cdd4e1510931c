"""The bundled 1.6 simulator against the real central system, as a charger in the field would."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

from csms.config import DatabaseSettings
from simulators import ChargePoint16Simulator
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_complete_session_is_visible_through_the_api(csms: RunningCsms) -> None:
    await csms.register("SIM-E2E", password="sim-password-123")
    await csms.add_id_tag("TAG-E2E")
    sim = ChargePoint16Simulator("SIM-E2E", csms.ocpp_url, "sim-password-123", connectors=2)
    await sim.start()
    try:
        await sim.wait_booted(timeout=5)
        assert (await sim.authorize("TAG-E2E")).id_tag_info["status"] == "Accepted"
        tx = await sim.start_transaction(connector_id=2, id_tag="TAG-E2E", meter_start=10_000)
        await sim.status_notification(2, "Charging")
        await sim.send_meter_values(2, tx, energy_wh=10_900, power_w=7_200)
        await sim.stop_transaction(tx, meter_stop=12_345)
    finally:
        await sim.stop()

    api = csms.api()
    detail = (await api.get("/api/v1/charge-points/SIM-E2E")).json()["data"]
    assert detail["bootInfo"]["vendor"] == "CSMS-Sim"
    statuses = {c["connectorId"]: c["status"] for e in detail["evses"] for c in e["connectors"]}
    assert set(statuses) == {0, 1, 2}
    transaction = (await api.get(f"/api/v1/transactions/{tx}")).json()["data"]
    assert transaction["status"] == "completed"
    assert transaction["meterStartWh"] == 10_000 and transaction["meterStopWh"] == 12_345
    assert transaction["energyWh"] == 2_345
    samples = (await api.get(f"/api/v1/transactions/{tx}/meter-values")).json()["data"]["items"]
    energy = [s["value"] for s in samples if s["measurand"] == "Energy.Active.Import.Register"]
    assert 10_900 in energy


async def test_automatic_sessions_report_rising_energy(csms: RunningCsms) -> None:
    await csms.register("SIM-AUTO")
    await csms.add_id_tag("SIM-TAG")
    sim = ChargePoint16Simulator(
        "SIM-AUTO",
        csms.ocpp_url,
        connectors=1,
        auto=True,
        meter_interval=0.2,
        session_seconds=1.0,
        idle_seconds=0.2,
        power_w=22_000,
    )
    async with csms.system.services.events.subscribe("SIM-AUTO") as events:
        await sim.start()
        try:
            async with asyncio.timeout(15):
                while (event := await events.get()).type != "transaction.ended":
                    pass
        finally:
            await sim.stop()
    transaction = (
        await csms.api().get(f"/api/v1/transactions/{event.data['transactionId']}")
    ).json()["data"]
    # About a second at 22 kW is a few Wh; the point is that the register rose with the power.
    assert transaction["energyWh"] > 0
    samples = (
        await csms.api().get(f"/api/v1/transactions/{event.data['transactionId']}/meter-values")
    ).json()["data"]
    registers = [
        s["value"] for s in samples["items"] if s["measurand"] == "Energy.Active.Import.Register"
    ]
    assert registers == sorted(registers)


async def test_messages_queued_offline_are_replayed_with_their_timestamps(
    csms: RunningCsms,
) -> None:
    await csms.register("SIM-OFF")
    sim = ChargePoint16Simulator("SIM-OFF", csms.ocpp_url, connectors=1)
    await sim.start()
    try:
        await sim.wait_booted(timeout=5)
        tx = await sim.start_transaction(connector_id=1, id_tag="T", meter_start=0)
        sim.go_offline()
        await sim.wait_disconnected(timeout=5)
        stopped_at = datetime.now(UTC) - timedelta(minutes=7)
        stamp = stopped_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert await sim.stop_transaction(tx, meter_stop=4_000, timestamp=stamp) is None
        sim.go_online()
        await sim.flush_queue(timeout=10)
    finally:
        await sim.stop()
    transaction = (await csms.api().get(f"/api/v1/transactions/{tx}")).json()["data"]
    assert transaction["status"] == "completed" and transaction["energyWh"] == 4_000
    assert datetime.fromisoformat(transaction["stoppedAt"]) - stopped_at < timedelta(seconds=1)
    assert sim.boot_count == 1  # reconnect is not reboot


async def test_simulator_reconnects_after_a_server_restart(database: DatabaseSettings) -> None:
    port = free_port()
    settings = make_settings(database, port=port)
    first = await start_csms(settings)
    await first.register("SIM-RESTART")
    sim = ChargePoint16Simulator(
        "SIM-RESTART", first.ocpp_url, connectors=1, reconnect_initial=0.1, reconnect_max=0.5
    )
    await sim.start()
    try:
        await sim.wait_booted(timeout=5)
        tx = await sim.start_transaction(connector_id=1, id_tag="T", meter_start=100)
        await stop_csms(first)
        await sim.wait_disconnected(timeout=5)
        second = await start_csms(settings)
        try:
            await sim.wait_connected(timeout=10)
            await sim.stop_transaction(tx, meter_stop=900)
            await sim.flush_queue(timeout=10)
            transaction = (await second.api().get(f"/api/v1/transactions/{tx}")).json()["data"]
            assert transaction["status"] == "completed" and transaction["energyWh"] == 800
        finally:
            await sim.stop()
            await stop_csms(second)
    finally:
        await sim.stop()
