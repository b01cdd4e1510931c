"""Fast tests of the OCPP 1.6 simulator that need no CSMS.

The async tests run the simulator against a tiny fake central system that
speaks plain OCPP-J frames, so they check the wire format, not just our API.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from ocpp.exceptions import OCPPError

from simulators import ChargePoint16Simulator
from simulators.cli import main as cli_main
from simulators.errors import NotConnectedError, UnresolvedTransactionError
from simulators.ev import Car
from simulators.offline_queue import METER, START, STOP, QueuedCall, TransactionQueue
from simulators.outlet import Outlet
from simulators.profiles import TX_DEFAULT, ProfileStore
from tests.simulators.fake_csms import FakeCsms, running
from tests.simulators.fake_csms import now_iso as _now

TX_ID = 42


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------- energy model


def test_energy_rises_with_power_times_time() -> None:
    clock = FakeClock()
    outlet = Outlet(max_current=16, car=Car(32, 3), register_wh=500, delay=0, clock=clock)
    clock.now += 600
    assert outlet.read() == 500  # not charging: no energy
    outlet.start()
    clock.now += 1800
    assert outlet.power_w == pytest.approx(16 * 230 * 3)
    assert outlet.read() == pytest.approx(500 + 16 * 230 * 3 / 2)
    assert outlet.current_a == 16
    outlet.stop()
    clock.now += 1800
    assert outlet.read() == pytest.approx(500 + 5520)
    outlet.bump_to(100)  # a lower reading never moves the register back
    assert outlet.read_wh() == 6020


def _profile(limit: float, unit: str, stack_level: int = 0) -> dict[str, Any]:
    return {
        "charging_profile_id": 7 + stack_level,
        "stack_level": stack_level,
        "charging_profile_purpose": TX_DEFAULT,
        "charging_profile_kind": "Relative",
        "charging_schedule": {
            "charging_rate_unit": unit,
            "charging_schedule_period": [{"start_period": 0, "limit": limit}],
        },
    }


def test_charging_profile_caps_power() -> None:
    clock = FakeClock()
    outlet = Outlet(max_current=16, car=Car(32, 3), delay=0, clock=clock)
    store = ProfileStore(phases=3)
    now = datetime.now(UTC)
    store.install(1, _profile(10, "A"))  # 10 A x 230 V x 3 phases = 6900 W
    outlet.set_limit(store.effective(1, now, now, in_tx=True))
    outlet.start()
    clock.now += 1800
    assert outlet.power_w == pytest.approx(6900)
    assert outlet.read() == pytest.approx(3450)

    store.install(1, _profile(4830, "W", stack_level=1))  # higher stack level wins: 7 A
    outlet.set_limit(store.effective(1, now, now, in_tx=True))
    clock.now += 3600
    assert outlet.read() == pytest.approx(3450 + 4830)

    store.install(1, _profile(50, "A", stack_level=2))  # above the outlet's rating: no effect
    outlet.set_limit(store.effective(1, now, now, in_tx=True))
    assert outlet.power_w == pytest.approx(16 * 230 * 3)
    assert store.clear(connector_id=1)
    assert store.limit_w(1, now, now, in_tx=True) is None


# -------------------------------------------------------------- offline queue


def test_offline_queue_maps_placeholder_to_real_id() -> None:
    queue = TransactionQueue()
    ph = queue.new_placeholder()
    assert ph < 0
    start = QueuedCall(START, {"connector_id": 1, "timestamp": "T0"}, placeholder=ph)
    meter = QueuedCall(METER, {"connector_id": 1, "transaction_id": ph, "meter_value": []})
    stop = QueuedCall(STOP, {"transaction_id": ph, "timestamp": "T2", "meter_stop": 9})
    for item in (start, meter, stop):
        queue.push(item)

    assert queue.prepare(queue.pop()) == {"connector_id": 1, "timestamp": "T0"}
    queue.bind(ph, TX_ID)
    assert queue.prepare(queue.pop())["transaction_id"] == TX_ID
    sent_stop = queue.prepare(queue.pop())
    assert sent_stop == {"transaction_id": TX_ID, "timestamp": "T2", "meter_stop": 9}
    assert stop.kwargs["transaction_id"] == ph  # the stored payload is untouched
    assert queue.resolve(ph) == TX_ID and len(queue) == 0

    dead = queue.new_placeholder()
    queue.mark_dead(dead)
    with pytest.raises(UnresolvedTransactionError):
        queue.prepare(QueuedCall(STOP, {"transaction_id": dead}))


# ------------------------------------------------------- fake central system


def _answer(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    accepted = {"status": "Accepted"}
    answers: dict[str, dict[str, Any]] = {
        "BootNotification": {"status": "Accepted", "currentTime": _now(), "interval": 1},
        "Heartbeat": {"currentTime": _now()},
        "Authorize": {"idTagInfo": accepted},
        "StartTransaction": {"transactionId": TX_ID, "idTagInfo": accepted},
        "StopTransaction": {"idTagInfo": accepted},
    }
    return answers.get(action, {})


async def _wait_status(fake: FakeCsms, connector_id: int, status: str) -> None:
    wanted = {"connectorId": connector_id, "status": status}
    await fake.wait_until(
        lambda: any(wanted.items() <= p.items() for p in fake.payloads("StatusNotification"))
    )


@pytest_asyncio.fixture
async def fake_csms() -> AsyncIterator[tuple[FakeCsms, str]]:
    fake = FakeCsms(_answer)
    async with running(fake, "ocpp1.6") as url:
        yield fake, url


@pytest_asyncio.fixture
async def sim(fake_csms: tuple[FakeCsms, str]) -> AsyncIterator[ChargePoint16Simulator]:
    _, url = fake_csms
    charger = ChargePoint16Simulator(
        identity="CP-1", url=url, password="secret", connectors=2, auto=False, limit_delay=0
    )
    await charger.start()
    try:
        yield charger
    finally:
        await charger.stop()


# ----------------------------------------------------------- against the fake


@pytest.mark.asyncio
async def test_boot_status_and_manual_transaction(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint16Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    assert sim.boot_count == 1
    assert fake.paths == ["/ocpp/CP-1"]
    assert fake.subprotocols == ["ocpp1.6"]
    assert fake.auth == ["Basic " + base64.b64encode(b"CP-1:secret").decode()]
    boot = await fake.wait_for("BootNotification")
    assert boot["chargePointVendor"] == "CSMS-Sim" and boot["chargePointModel"] == "Sim-16"
    assert boot["chargePointSerialNumber"] == "CP-1" and boot["firmwareVersion"] == "1.0.0"
    await fake.wait_for("StatusNotification", count=3)
    statuses = fake.payloads("StatusNotification")
    assert [s["connectorId"] for s in statuses] == [0, 1, 2]
    assert {(s["status"], s["errorCode"]) for s in statuses} == {("Available", "NoError")}

    resp = await sim.authorize("TAG1")
    assert resp.id_tag_info["status"] == "Accepted"
    tx = await sim.start_transaction(connector_id=1, id_tag="TAG1", meter_start=1000)
    assert tx == TX_ID
    await sim.status_notification(1, "Charging")
    await sim.send_meter_values(connector_id=1, transaction_id=tx, energy_wh=1500, power_w=7000)
    await sim.stop_transaction(tx, meter_stop=2500, reason="Local")

    start = fake.payloads("StartTransaction")[0]
    assert start["meterStart"] == 1000 and start["timestamp"].endswith("Z")
    meter = fake.payloads("MeterValues")[0]
    assert meter["transactionId"] == TX_ID
    sampled = {v["measurand"]: v for v in meter["meterValue"][0]["sampledValue"]}
    energy = sampled["Energy.Active.Import.Register"]
    assert (energy["value"], energy["unit"], energy["context"]) == ("1500", "Wh", "Sample.Periodic")
    assert sampled["Power.Active.Import"]["value"] == "7000"
    stop = fake.payloads("StopTransaction")[0]
    assert stop["transactionId"] == TX_ID and stop["meterStop"] == 2500
    assert stop["reason"] == "Local"
    contexts = [mv["sampledValue"][0]["context"] for mv in stop["transactionData"]]
    assert contexts == ["Transaction.Begin", "Transaction.End"]
    assert sim.transaction_id(1) is None


@pytest.mark.asyncio
async def test_stop_replayed_after_drop_with_original_timestamp(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint16Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    tx = await sim.start_transaction(connector_id=2, id_tag="TAG2", meter_start=0)
    fake.drop_on["StopTransaction"] = 1
    stop_time = "2024-05-01T10:00:00.000Z"
    # The link dies before the answer: the message stays queued (None).
    assert await sim.stop_transaction(tx, meter_stop=800, timestamp=stop_time) is None
    await sim.wait_connected(timeout=5)
    stop = await fake.wait_for("StopTransaction")
    await sim.flush_queue(timeout=5)
    assert stop["timestamp"] == stop_time and stop["transactionId"] == TX_ID
    assert len(fake.paths) == 2
    assert sim.boot_count == 1  # a reconnect is not a reboot
    assert fake.actions().count("BootNotification") == 1


@pytest.mark.asyncio
async def test_offline_session_replays_with_real_id(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint16Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    sim.go_offline()
    await sim.wait_disconnected(timeout=5)
    placeholder = await sim.start_transaction(connector_id=1, id_tag="TAG1", meter_start=10)
    assert placeholder < 0
    await sim.send_meter_values(1, placeholder, energy_wh=400, power_w=11000)
    await sim.stop_transaction(placeholder, meter_stop=900, reason="Local")
    assert sim.queue_length == 3
    queued_start = sim._queue.items()[0].kwargs["timestamp"]
    await asyncio.sleep(0.01)  # so a freshly made timestamp would differ

    sim.go_online()
    await sim.wait_connected(timeout=5)
    await sim.flush_queue(timeout=5)
    assert fake.payloads("StartTransaction")[0]["timestamp"] == queued_start
    assert fake.payloads("MeterValues")[-1]["transactionId"] == TX_ID
    assert fake.payloads("StopTransaction")[0]["transactionId"] == TX_ID
    assert sim.resolve_transaction_id(placeholder) == TX_ID
    assert fake.actions().count("BootNotification") == 1


@pytest.mark.asyncio
async def test_answers_server_calls_and_reboots_on_reset(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint16Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    await fake.wait_for("StatusNotification", count=3)

    config = await fake.send_call("GetConfiguration", {})
    keys = {k["key"]: k for k in config["configurationKey"]}
    assert keys["NumberOfConnectors"] == {
        "key": "NumberOfConnectors",
        "readonly": True,
        "value": "2",
    }
    assert "AuthorizationKey" not in keys and "HeartbeatInterval" in keys
    asked = await fake.send_call("GetConfiguration", {"key": ["AuthorizationKey", "Nope"]})
    assert asked == {"configurationKey": [], "unknownKey": ["AuthorizationKey", "Nope"]}
    assert await fake.send_call("ChangeConfiguration", {"key": "Nope", "value": "1"}) == {
        "status": "NotSupported"
    }
    new_key = b"a-much-longer-secret".hex()
    changed = await fake.send_call(
        "ChangeConfiguration", {"key": "AuthorizationKey", "value": new_key}
    )
    assert changed == {"status": "Accepted"}
    assert await sim.wait_for_call("ChangeConfiguration", timeout=1)

    since = len(sim.received)
    assert await fake.send_call("Reset", {"type": "Soft"}) == {"status": "Accepted"}
    await sim.wait_for_call("Reset", timeout=1, since=since)
    await fake.wait_for("BootNotification", count=2)
    await sim.wait_booted(timeout=5)
    assert sim.boot_count == 2
    expected = base64.b64encode(b"CP-1:a-much-longer-secret").decode()
    assert fake.auth[-1] == f"Basic {expected}"


def test_cli_rejects_unsupported_ocpp_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main(["--chargers", "1", "--url", "ws://127.0.0.1:1/ocpp", "--ocpp", "2.1"])
    assert exc.value.code == 2
    assert "not supported yet" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_automatic_session_lifecycle(fake_csms: tuple[FakeCsms, str]) -> None:
    fake, url = fake_csms
    charger = ChargePoint16Simulator(
        identity="CP-AUTO",
        url=url,
        connectors=1,
        auto=True,
        meter_interval=0.1,
        session_seconds=0.5,
        idle_seconds=0.05,
        power_w=36000,
        finishing_seconds=0.05,
    )
    await charger.start()
    try:
        stop = await fake.wait_for("StopTransaction")
        await fake.wait_for("StatusNotification", count=6)
    finally:
        await charger.stop()
    assert fake.auth == [None]
    statuses = [s["status"] for s in fake.payloads("StatusNotification") if s["connectorId"] == 1]
    assert statuses[:5] == ["Available", "Preparing", "Charging", "Finishing", "Available"]
    assert fake.actions().index("Authorize") < fake.actions().index("StartTransaction")
    energies = [
        float(mv["meterValue"][0]["sampledValue"][0]["value"])
        for mv in fake.payloads("MeterValues")
        if mv.get("transactionId") == TX_ID
    ]
    assert len(energies) >= 2 and energies == sorted(energies)
    start = fake.payloads("StartTransaction")[0]
    assert stop["reason"] == "Local" and stop["meterStop"] >= start["meterStart"]
    assert stop["timestamp"].endswith("Z") and len(stop["timestamp"]) == 24


@pytest.mark.asyncio
async def test_remote_commands(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint16Simulator
) -> None:
    fake, _ = fake_csms
    sim.job_step_seconds = 0.01
    await sim.wait_booted(timeout=5)

    started = await fake.send_call("RemoteStartTransaction", {"idTag": "R1", "connectorId": 1})
    assert started == {"status": "Accepted"}
    await fake.wait_for("StartTransaction")
    busy = await fake.send_call("RemoteStartTransaction", {"idTag": "R2", "connectorId": 1})
    assert busy == {"status": "Rejected"}
    assert "Authorize" not in fake.actions()  # AuthorizeRemoteTxRequests is false

    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6900}],
        },
    }
    set_profile = {"connectorId": 1, "csChargingProfiles": profile}
    assert await fake.send_call("SetChargingProfile", set_profile) == {"status": "Accepted"}
    assert sim.connectors[1].outlet.power_w == pytest.approx(6900)  # 10 A on 3 phases
    schedule = await fake.send_call("GetCompositeSchedule", {"connectorId": 1, "duration": 60})
    assert schedule["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 6900

    scheduled = await fake.send_call(
        "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}
    )
    assert scheduled == {"status": "Scheduled"}
    assert await fake.send_call("TriggerMessage", {"requestedMessage": "MeterValues"}) == {
        "status": "Accepted"
    }
    triggered = await fake.wait_for("MeterValues")
    assert triggered["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
    assert await fake.send_call("RemoteStopTransaction", {"transactionId": 999}) == {
        "status": "Rejected"
    }
    stopped = await fake.send_call("RemoteStopTransaction", {"transactionId": TX_ID})
    assert stopped == {"status": "Accepted"}
    assert (await fake.wait_for("StopTransaction"))["reason"] == "Remote"
    # The scheduled availability change applies once the transaction is over.
    await _wait_status(fake, 1, "Unavailable")

    expiry = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1).isoformat()
    reserve = {"connectorId": 2, "expiryDate": expiry, "idTag": "R3", "reservationId": 5}
    assert await fake.send_call("ReserveNow", reserve) == {"status": "Accepted"}
    assert await fake.send_call("ReserveNow", {**reserve, "reservationId": 6}) == {
        "status": "Occupied"
    }
    assert await fake.send_call("CancelReservation", {"reservationId": 5}) == {"status": "Accepted"}
    assert await fake.send_call("UnlockConnector", {"connectorId": 2}) == {"status": "Unlocked"}
    assert await fake.send_call("DataTransfer", {"vendorId": "x"}) == {"status": "UnknownVendorId"}
    diag = await fake.send_call("GetDiagnostics", {"location": "ftp://example.invalid/"})
    assert diag["fileName"].startswith("diagnostics-CP-1-")
    assert (await fake.wait_for("DiagnosticsStatusNotification", 2))["status"] == "Uploaded"
    firmware = {"location": "http://example.invalid/fw.bin", "retrieveDate": _now()}
    assert await fake.send_call("UpdateFirmware", firmware) == {}
    boots = len(fake.payloads("BootNotification"))
    assert (await fake.wait_for("FirmwareStatusNotification", 4, within=15))[
        "status"
    ] == "Installed"
    # Installed comes after the reboot into the new firmware (OCPP 1.6 §5.19).
    assert fake.payloads("BootNotification")[boots]["firmwareVersion"] == "fw"
    assert [a for a, _ in sim.received][:2] == ["RemoteStartTransaction", "RemoteStartTransaction"]


@pytest.mark.asyncio
async def test_callerror_and_offline_raise(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint16Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    fake.errors = {"Authorize": "InternalError", "StartTransaction": "PropertyConstraintViolation"}
    with pytest.raises(OCPPError):
        await sim.authorize("TAG1")
    with pytest.raises(OCPPError):
        await sim.start_transaction(1, "TAG1")
    assert sim.transaction_id(1) is None and sim.queue_length == 0  # not retried
    sim.go_offline()
    await sim.wait_disconnected(timeout=5)
    with pytest.raises(NotConnectedError):
        await sim.heartbeat()


@pytest.mark.asyncio
async def test_several_urls_a_charger_moves_to_the_next_when_it_cannot_connect(
    fake_csms: tuple[FakeCsms, str],
) -> None:
    """The nodes of a cluster: the URL its identity picks refuses connections (its node is
    gone), so the charger connects to the next at once, without backing off."""
    fake, url = fake_csms
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        gone = f"ws://127.0.0.1:{probe.getsockname()[1]}/ocpp"
    # Identities spread over the URLs; this one starts with the first of two.
    identity = next(f"CP-{n}" for n in range(100) if zlib.crc32(f"CP-{n}".encode()) % 2 == 0)
    charger = ChargePoint16Simulator(
        identity=identity, url=f"{gone}, {url}", connectors=1, auto=False, reconnect_initial=30
    )
    assert charger.urls == [gone, url] and charger.url == gone
    await charger.start()
    try:
        await charger.wait_booted(timeout=5)
        assert charger.url == url
        assert fake.paths == [f"/ocpp/{identity}"]
    finally:
        await charger.stop()
