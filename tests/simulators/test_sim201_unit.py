"""Fast tests of the OCPP 2.0.1 simulator that need no CSMS.

The async tests run the simulator against a tiny fake central system that
speaks plain OCPP-J frames (``fake_csms``), so they check the wire format.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from ocpp.exceptions import OCPPError

from simulators import ChargePoint201Simulator
from simulators.fleet import FleetOptions, build_fleet
from simulators.v201_model import default_model, parts
from tests.simulators.fake_csms import FakeCsms, now_iso, running


def _answer(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    accepted = {"idTokenInfo": {"status": "Accepted"}}
    answers: dict[str, dict[str, Any]] = {
        "BootNotification": {"status": "Accepted", "currentTime": now_iso(), "interval": 30},
        "Heartbeat": {"currentTime": now_iso()},
        "Authorize": accepted,
        # Only Started carries an idToken here, so only it gets idTokenInfo.
        "TransactionEvent": accepted if "idToken" in payload else {},
    }
    return answers.get(action, {})


@pytest_asyncio.fixture
async def fake_csms() -> AsyncIterator[tuple[FakeCsms, str]]:
    fake = FakeCsms(_answer)
    async with running(fake, "ocpp2.0.1") as url:
        yield fake, url


@pytest_asyncio.fixture
async def sim(fake_csms: tuple[FakeCsms, str]) -> AsyncIterator[ChargePoint201Simulator]:
    _, url = fake_csms
    station = ChargePoint201Simulator(
        "CP-201", url, password="secret", evses=2, auto=False, limit_delay=0
    )
    station.job_step_seconds = 0.01
    await station.start()
    try:
        yield station
    finally:
        await station.stop()


def _events(fake: FakeCsms) -> list[dict[str, Any]]:
    return fake.payloads("TransactionEvent")


def _measurands(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["measurand"]: v for v in event["meterValue"][0]["sampledValue"]}


# ------------------------------------------------------------- device model


def test_device_model_get_set_and_report() -> None:
    model = default_model(2, vendor="V", model="M", heartbeat=60, tx_updated=5)

    def get(component: dict[str, Any], variable: str) -> dict[str, Any]:
        return model.get({"component": component, "variable": {"name": variable}})

    assert get({"name": "ChargingStation"}, "Model")["attributeValue"] == "M"
    assert get({"name": "SecurityCtrlr"}, "BasicAuthPassword")["attributeStatus"] == "Rejected"
    assert get({"name": "Nope"}, "Model")["attributeStatus"] == "UnknownComponent"
    assert get({"name": "OCPPCommCtrlr"}, "Nope")["attributeStatus"] == "UnknownVariable"
    connector = {"name": "Connector", "evse": {"id": 2, "connector_id": 1}}
    assert get(connector, "ConnectorType")["attributeValue"] == "cType2"

    def set_(component: str, variable: str, value: str) -> str:
        request = {
            "component": {"name": component},
            "variable": {"name": variable},
            "attribute_value": value,
        }
        return str(model.set(request)[0]["attributeStatus"])

    assert set_("OCPPCommCtrlr", "HeartbeatInterval", "15") == "Accepted"
    assert set_("OCPPCommCtrlr", "HeartbeatInterval", "soon") == "Rejected"
    assert set_("ChargingStation", "Model", "X") == "Rejected"  # ReadOnly
    assert set_("OCPPCommCtrlr", "Nope", "1") == "UnknownVariable"
    assert model.value("OCPPCommCtrlr", "HeartbeatInterval") == "15"

    report = model.report("FullInventory")
    password = next(r for r in report if r["variable"]["name"] == "BasicAuthPassword")
    assert password["variableAttribute"] == [
        {"type": "Actual", "mutability": "WriteOnly", "persistent": True, "constant": False}
    ]
    assert len(model.report("ConfigurationInventory")) < len(report)
    assert [len(p) for p in parts([{"n": i} for i in range(5)], 2)] == [2, 2, 1]


# ----------------------------------------------------------- against the fake


async def test_boot_and_status_per_evse(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint201Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    assert sim.boot_count == 1 and sim.heartbeat_interval == 30
    assert fake.paths == ["/ocpp/CP-201"]
    assert fake.subprotocols == ["ocpp2.0.1"]
    assert fake.auth == ["Basic " + base64.b64encode(b"CP-201:secret").decode()]
    boot = await fake.wait_for("BootNotification")
    assert boot["reason"] == "PowerUp"
    station = boot["chargingStation"]
    assert station["model"] == "Sim-201" and station["vendorName"] == "CSMS-Sim"
    assert station["serialNumber"] == "CP-201" and station["firmwareVersion"] == "1.0.0"
    assert set(station["modem"]) == {"iccid", "imsi"}
    await fake.wait_for("StatusNotification", count=2)
    statuses = fake.payloads("StatusNotification")
    assert [(s["evseId"], s["connectorId"]) for s in statuses] == [(1, 1), (2, 1)]
    assert {s["connectorStatus"] for s in statuses} == {"Available"}
    assert all(s["timestamp"].endswith("Z") for s in statuses)
    assert set(await sim.heartbeat()) == {"currentTime"}
    assert sim.received == []


async def test_manual_transaction_seq_nos(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint201Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    info = await sim.authorize("TAG1")
    assert info == {"idTokenInfo": {"status": "Accepted"}}
    assert fake.payloads("Authorize")[0] == {"idToken": {"idToken": "TAG1", "type": "ISO14443"}}

    tx = await sim.start_transaction(evse_id=1, id_token="TAG1", meter_start_wh=1000)
    assert uuid.UUID(tx).version == 4
    assert sim.transaction_id(1) == tx
    updated = await sim.update_transaction(tx, energy_wh=1500, power_w=7000)
    assert updated == {}
    ended = await sim.stop_transaction(tx, energy_wh=2500, stopped_reason="Local")
    assert ended == {}
    assert sim.transaction_id(1) is None

    started, update, end = _events(fake)
    assert [e["seqNo"] for e in (started, update, end)] == [0, 1, 2]
    assert {e["transactionInfo"]["transactionId"] for e in (started, update, end)} == {tx}
    assert [e["eventType"] for e in (started, update, end)] == ["Started", "Updated", "Ended"]
    assert started["triggerReason"] == "Authorized"
    assert started["transactionInfo"]["chargingState"] == "Charging"
    assert started["idToken"] == {"idToken": "TAG1", "type": "ISO14443"}
    assert started["evse"] == {"id": 1, "connectorId": 1}
    begin = _measurands(started)["Energy.Active.Import.Register"]
    assert begin == {
        "value": 1000,
        "context": "Transaction.Begin",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unitOfMeasure": {"unit": "Wh"},
    }
    assert "offline" not in started
    assert update["triggerReason"] == "MeterValuePeriodic"
    sampled = _measurands(update)
    assert sampled["Energy.Active.Import.Register"]["value"] == 1500
    assert sampled["Power.Active.Import"]["value"] == 7000
    assert sampled["Power.Active.Import"]["context"] == "Sample.Periodic"
    currents = [
        v for v in update["meterValue"][0]["sampledValue"] if v["measurand"] == "Current.Import"
    ]
    assert [c["phase"] for c in currents] == ["L1", "L2", "L3"]
    assert end["triggerReason"] == "StopAuthorized"
    assert end["transactionInfo"]["stoppedReason"] == "Local"
    final = _measurands(end)["Energy.Active.Import.Register"]
    assert (final["value"], final["context"]) == (2500, "Transaction.End")

    # The next transaction on the EVSE starts counting at 0 again.
    tx2 = await sim.start_transaction(evse_id=1, id_token="TAG1", timestamp="2024-01-01T00:00:00Z")
    assert tx2 != tx and _events(fake)[-1]["seqNo"] == 0
    assert _events(fake)[-1]["timestamp"] == "2024-01-01T00:00:00Z"


async def test_offline_session_is_replayed_in_order(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint201Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    sim.go_offline()
    await sim.wait_disconnected(timeout=5)

    tx = await sim.start_transaction(evse_id=2, id_token="TAG2", meter_start_wh=10)
    assert await sim.update_transaction(tx, energy_wh=400, power_w=11000) is None
    assert await sim.stop_transaction(tx, energy_wh=900) is None
    assert sim.queue_length == 3
    queued = [item.kwargs for item in sim._queue.items()]
    assert [k["seq_no"] for k in queued] == [0, 1, 2]
    assert all(k["offline"] is True for k in queued)
    await asyncio.sleep(0.01)  # so a freshly made timestamp would differ

    sim.go_online()
    await sim.wait_connected(timeout=5)
    await sim.flush_queue(timeout=5)
    sent = _events(fake)
    assert [e["eventType"] for e in sent] == ["Started", "Updated", "Ended"]
    assert [e["seqNo"] for e in sent] == [0, 1, 2]
    assert [e["timestamp"] for e in sent] == [k["timestamp"] for k in queued]
    assert all(e["offline"] is True for e in sent)
    assert {e["transactionInfo"]["transactionId"] for e in sent} == {tx}
    assert fake.actions().count("BootNotification") == 1  # a reconnect is not a reboot
    assert sim.boot_count == 1 and len(fake.paths) == 2


async def test_timed_out_event_is_retried_with_the_same_payload(
    fake_csms: tuple[FakeCsms, str],
) -> None:
    fake, url = fake_csms
    station = ChargePoint201Simulator("CP-RETRY", url, evses=1, response_timeout=0.3)
    station.model.set_internal("OCPPCommCtrlr", "MessageAttemptIntervalTransactionEvent", "0")
    await station.start()
    try:
        await station.wait_booted(timeout=5)
        fake.silent_on["TransactionEvent"] = 1
        tx = await station.start_transaction(1, "TAG", meter_start_wh=5)
        await station.flush_queue(timeout=5)
    finally:
        await station.stop()
    first, retry = _events(fake)
    assert first == retry and first["transactionInfo"]["transactionId"] == tx
    assert fake.auth == [None]


async def test_callerror_raises(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint201Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    fake.errors = {"Authorize": "InternalError", "TransactionEvent": "FormatViolation"}
    with pytest.raises(OCPPError):
        await sim.authorize("TAG1")
    with pytest.raises(OCPPError):
        await sim.start_transaction(1, "TAG1")
    assert sim.transaction_id(1) is None and sim.queue_length == 0  # not retried


async def test_pending_boot_answers_server_calls_only(fake_csms: tuple[FakeCsms, str]) -> None:
    fake, url = fake_csms
    pending = {"status": "Pending", "currentTime": now_iso(), "interval": 60}
    fake.answer = lambda action, payload: pending if action == "BootNotification" else {}
    station = ChargePoint201Simulator("CP-PENDING", url, evses=1)
    await station.start()
    try:
        await fake.wait_for("BootNotification")
        variables = await fake.send_call(
            "GetVariables",
            {
                "getVariableData": [
                    {"component": {"name": "ChargingStation"}, "variable": {"name": "VendorName"}}
                ]
            },
        )
        assert variables["getVariableResult"][0]["attributeValue"] == "CSMS-Sim"
        assert fake.actions() == ["BootNotification"]  # nothing else while Pending
        fake.answer = _answer
        triggered = await fake.send_call("TriggerMessage", {"requestedMessage": "BootNotification"})
        assert triggered == {"status": "Accepted"}
        await station.wait_booted(timeout=5)
        await fake.wait_for("StatusNotification")
    finally:
        await station.stop()
    second = fake.payloads("BootNotification")[1]
    assert second["reason"] == "Triggered"


async def test_base_report_and_variables(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint201Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    answer = await fake.send_call("GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"})
    assert answer == {"status": "Accepted"}
    await fake.wait_until(
        lambda: any(not p.get("tbc", False) for p in fake.payloads("NotifyReport"))
    )
    reports = fake.payloads("NotifyReport")
    assert len(reports) >= 2
    assert [r["seqNo"] for r in reports] == list(range(len(reports)))
    assert [r.get("tbc", False) for r in reports] == [True] * (len(reports) - 1) + [False]
    assert {r["requestId"] for r in reports} == {7}
    assert len({r["generatedAt"] for r in reports}) == 1
    entries = [e for r in reports for e in r["reportData"]]
    by_name = {(e["component"]["name"], e["variable"]["name"]): e for e in entries}
    assert by_name[("OCPPCommCtrlr", "HeartbeatInterval")]["variableAttribute"][0]["value"] == "30"
    assert "value" not in by_name[("SecurityCtrlr", "BasicAuthPassword")]["variableAttribute"][0]
    evse_states = [e for e in entries if e["variable"]["name"] == "AvailabilityState"]
    assert [e["component"]["evse"] for e in evse_states] == [{"id": 1}, {"id": 2}]

    new = {
        "setVariableData": [
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "attributeValue": "1",
            },
            {
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
                "attributeValue": "a-much-longer-secret",
            },
            {
                "component": {"name": "ChargingStation"},
                "variable": {"name": "VendorName"},
                "attributeValue": "X",
            },
        ]
    }
    changed = await fake.send_call("SetVariables", new)
    assert [r["attributeStatus"] for r in changed["setVariableResult"]] == [
        "Accepted",
        "Accepted",
        "Rejected",
    ]
    await fake.wait_for("Heartbeat", within=3)  # the new interval applies at once
    await sim.drop_connection()
    await sim.wait_connected()
    expected = base64.b64encode(b"CP-201:a-much-longer-secret").decode()
    assert fake.auth[-1] == f"Basic {expected}"
    assert sim.boot_count == 1


async def test_remote_start_and_stop(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint201Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    start = {"idToken": {"idToken": "R1", "type": "Central"}, "remoteStartId": 42, "evseId": 1}
    assert await fake.send_call("RequestStartTransaction", start) == {"status": "Accepted"}
    started = await fake.wait_for("TransactionEvent")
    assert started["eventType"] == "Started" and started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 42
    assert started["idToken"] == {"idToken": "R1", "type": "Central"}
    assert "Authorize" not in fake.actions()  # AuthorizeRemoteStart is false
    tx = started["transactionInfo"]["transactionId"]
    busy = await fake.send_call("RequestStartTransaction", {**start, "remoteStartId": 43})
    assert busy == {"status": "Rejected"}

    await sim.flush_queue()  # the fake records Started before the station hears the answer
    status = await fake.send_call("GetTransactionStatus", {"transactionId": tx})
    assert status == {"messagesInQueue": False, "ongoingIndicator": True}
    assert await fake.send_call("UnlockConnector", {"evseId": 1, "connectorId": 1}) == {
        "status": "OngoingAuthorizedTransaction"
    }
    unknown = await fake.send_call("RequestStopTransaction", {"transactionId": "nope"})
    assert unknown == {"status": "Rejected"}
    stopped = await fake.send_call("RequestStopTransaction", {"transactionId": tx})
    assert stopped == {"status": "Accepted"}
    await fake.wait_until(lambda: _events(fake)[-1]["eventType"] == "Ended")
    end = _events(fake)[-1]
    assert end["triggerReason"] == "RemoteStop"
    assert end["transactionInfo"]["stoppedReason"] == "Remote"
    assert [e["seqNo"] for e in _events(fake)] == list(range(len(_events(fake))))
    await fake.wait_until(
        lambda: (
            [s["connectorStatus"] for s in fake.payloads("StatusNotification")][-2:]
            == ["Occupied", "Available"]
        )
    )
    await sim.flush_queue()
    status = await fake.send_call("GetTransactionStatus", {"transactionId": tx})
    assert status == {"messagesInQueue": False, "ongoingIndicator": False}


async def test_reset_immediate_ends_transactions_and_reboots(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint201Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    tx = await sim.start_transaction(evse_id=2, id_token="TAG1", meter_start_wh=0)
    since = len(sim.received)
    assert await fake.send_call("Reset", {"type": "Immediate"}) == {"status": "Accepted"}
    await sim.wait_for_call("Reset", timeout=1, since=since)
    second = await fake.wait_for("BootNotification", count=2)
    assert second["reason"] == "RemoteReset"
    await sim.wait_booted(timeout=5)
    assert sim.boot_count == 2 and len(fake.paths) == 2
    end = _events(fake)[-1]
    assert end["transactionInfo"] == {"transactionId": tx, "stoppedReason": "ImmediateReset"}
    assert end["triggerReason"] == "ResetCommand"
    # Ended went out before the link was dropped for the reboot.
    actions = fake.actions()
    boots = [i for i, a in enumerate(actions) if a == "BootNotification"]
    assert max(i for i, a in enumerate(actions) if a == "TransactionEvent") < boots[1]


async def test_other_server_calls(
    fake_csms: tuple[FakeCsms, str], sim: ChargePoint201Simulator
) -> None:
    fake, _ = fake_csms
    await sim.wait_booted(timeout=5)
    tx = await sim.start_transaction(evse_id=1, id_token="TAG1", meter_start_wh=0)
    sim.evses[1].outlet.start()
    profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "transactionId": tx,
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6900}],
            }
        ],
    }
    answer = await fake.send_call("SetChargingProfile", {"evseId": 1, "chargingProfile": profile})
    assert answer == {"status": "Accepted"}
    assert sim.evses[1].outlet.power_w == pytest.approx(6900)  # 10 A on 3 phases
    composite = await fake.send_call("GetCompositeSchedule", {"evseId": 1, "duration": 60})
    assert composite["schedule"]["chargingSchedulePeriod"][0]["limit"] == 6900
    cleared = await fake.send_call("ClearChargingProfile", {"chargingProfileId": 1})
    assert cleared == {"status": "Accepted"}
    assert sim.evses[1].outlet.power_w == pytest.approx(11000)

    trigger = await fake.send_call("TriggerMessage", {"requestedMessage": "TransactionEvent"})
    assert trigger == {"status": "Accepted"}
    await fake.wait_until(lambda: _events(fake)[-1]["triggerReason"] == "Trigger")
    for message, status in (
        ("MeterValues", "Accepted"),
        ("BootNotification", "Rejected"),  # already accepted (F06.FR.17)
        ("LogStatusNotification", "NotImplemented"),
    ):
        answer = await fake.send_call("TriggerMessage", {"requestedMessage": message})
        assert answer == {"status": status}, message
    assert (await fake.wait_for("MeterValues"))["evseId"] in (1, 2)

    scheduled = await fake.send_call(
        "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    )
    assert scheduled == {"status": "Scheduled"}
    now_off = await fake.send_call(
        "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}}
    )
    assert now_off == {"status": "Accepted"}
    await fake.wait_until(
        lambda: (
            {"evseId": 2, "connectorStatus": "Unavailable"}.items()
            <= fake.payloads("StatusNotification")[-1].items()
        )
    )

    firmware = {
        "requestId": 3,
        "firmware": {"location": "http://example.invalid/fw.bin", "retrieveDateTime": now_iso()},
    }
    assert await fake.send_call("UpdateFirmware", firmware) == {"status": "Accepted"}
    boots = len(fake.payloads("BootNotification"))
    installed = await fake.wait_for("FirmwareStatusNotification", 5, within=15)
    assert installed == {"status": "Installed", "requestId": 3}
    statuses = [p["status"] for p in fake.payloads("FirmwareStatusNotification")]
    assert statuses == ["Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed"]
    # It rebooted into the new firmware before reporting Installed.
    reboot = fake.payloads("BootNotification")[boots]
    assert reboot["chargingStation"]["firmwareVersion"] == "fw"
    log = {
        "log": {"remoteLocation": "ftp://example.invalid/"},
        "logType": "DiagnosticsLog",
        "requestId": 4,
    }
    got = await fake.send_call("GetLog", log)
    assert got["status"] == "Accepted" and got["filename"].startswith("diagnosticslog-CP-201-")
    assert await fake.wait_for("LogStatusNotification", 2) == {"status": "Uploaded", "requestId": 4}

    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    token = {"idToken": "R", "type": "Central"}
    reserve = {"id": 5, "expiryDateTime": expiry, "idToken": token, "evseId": 1}
    # The firmware reboot ended EVSE 1's transaction, so the Inoperative scheduled for it earlier
    # has taken effect.
    assert await fake.send_call("ReserveNow", reserve) == {"status": "Unavailable"}
    assert await fake.send_call("ReserveNow", {**reserve, "evseId": 2}) == {"status": "Unavailable"}
    operative = {"operationalStatus": "Operative", "evse": {"id": 2}}
    assert await fake.send_call("ChangeAvailability", operative) == {"status": "Accepted"}
    assert await fake.send_call("ReserveNow", {**reserve, "evseId": 2}) == {"status": "Accepted"}
    await fake.wait_until(
        lambda: fake.payloads("StatusNotification")[-1]["connectorStatus"] == "Reserved"
    )
    assert await fake.send_call("CancelReservation", {"reservationId": 5}) == {"status": "Accepted"}
    assert await fake.send_call("CancelReservation", {"reservationId": 5}) == {"status": "Rejected"}
    local_list = {
        "versionNumber": 3,
        "updateType": "Full",
        "localAuthorizationList": [
            {
                "idToken": {"idToken": "L1", "type": "ISO14443"},
                "idTokenInfo": {"status": "Accepted"},
            }
        ],
    }
    assert await fake.send_call("SendLocalList", local_list) == {"status": "Accepted"}
    assert await fake.send_call("GetLocalListVersion", {}) == {"versionNumber": 3}
    assert await fake.send_call("ClearCache", {}) == {"status": "Accepted"}
    assert await fake.send_call("DataTransfer", {"vendorId": "x"}) == {"status": "UnknownVendorId"}
    await sim.flush_queue()
    status = await fake.send_call("GetTransactionStatus", {})
    assert status == {"messagesInQueue": False}


async def test_automatic_session_lifecycle(fake_csms: tuple[FakeCsms, str]) -> None:
    fake, url = fake_csms
    station = ChargePoint201Simulator(
        "CP-AUTO",
        url,
        evses=1,
        auto=True,
        meter_interval=0.1,
        session_seconds=0.5,
        idle_seconds=0.05,
        power_w=36000,
        id_tag="AUTO",
        id_token_type="Central",
    )
    await station.start()
    try:
        await fake.wait_until(
            lambda: any(e["eventType"] == "Ended" for e in _events(fake)), within=5
        )
        await fake.wait_for("StatusNotification", count=3)
    finally:
        await station.shutdown(timeout=2)
    statuses = [s["connectorStatus"] for s in fake.payloads("StatusNotification")]
    assert statuses[:3] == ["Available", "Occupied", "Available"]
    assert fake.actions().index("Authorize") < fake.actions().index("TransactionEvent")
    first = next(e for e in _events(fake) if e["seqNo"] == 0)
    tx = first["transactionInfo"]["transactionId"]
    events = [e for e in _events(fake) if e["transactionInfo"]["transactionId"] == tx]
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert events[0]["idToken"] == {"idToken": "AUTO", "type": "Central"}
    energies = [_measurands(e)["Energy.Active.Import.Register"]["value"] for e in events]
    assert len(energies) >= 4 and energies == sorted(energies)
    assert events[-1]["transactionInfo"]["stoppedReason"] == "Local"


def test_fleet_builds_201_stations() -> None:
    options = FleetOptions(
        chargers=2,
        url="ws://127.0.0.1:1/ocpp",
        prefix="S-",
        connectors=3,
        ocpp="2.0.1",
        id_token_type="Central",
    )
    fleet = build_fleet(options)
    assert all(isinstance(s, ChargePoint201Simulator) for s in fleet)
    first = fleet[0]
    assert isinstance(first, ChargePoint201Simulator)
    assert first.identity == "S-1" and len(first.evses) == 3 and first.id_token_type == "Central"
    with pytest.raises(ValueError):
        build_fleet(FleetOptions(chargers=1, url="ws://x", ocpp="2.1"))
