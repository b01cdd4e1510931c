"""Every OCPP 1.6 Core message a charge point sends: answered, and what it says is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.domain.paging import Page
from tests.conftest import RunningCsms
from tests.ocpp_client import RawClient


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
async def client(csms: RunningCsms) -> RawClient:
    await csms.register("CP-16")
    connected = await RawClient.connect(csms.ocpp_url, "CP-16")
    return connected


async def test_boot_notification_is_accepted_and_stored(
    csms: RunningCsms, client: RawClient
) -> None:
    result = await client.result(
        "BootNotification",
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "Fast-22",
            "chargePointSerialNumber": "SN-1",
            "firmwareVersion": "4.2",
            "iccid": "8931",
            "imsi": "2620",
            "meterType": "DZG",
            "meterSerialNumber": "M-9",
        },
    )
    assert result["status"] == "Accepted"
    assert result["interval"] == csms.settings.ocpp.heartbeat_interval
    assert result["currentTime"].endswith("Z") and len(result["currentTime"]) == 24
    detail = (await csms.api().get("/api/v1/charge-points/CP-16")).json()["data"]
    assert detail["ocppVersion"] == "1.6"
    assert detail["bootInfo"] == {
        "vendor": "Acme",
        "model": "Fast-22",
        "serialNumber": "SN-1",
        "firmwareVersion": "4.2",
        "iccid": "8931",
        "imsi": "2620",
        "meterType": "DZG",
        "meterSerialNumber": "M-9",
    }


async def test_heartbeat_answers_utc_time(client: RawClient) -> None:
    await client.boot()
    result = await client.result("Heartbeat", {})
    sent = datetime.fromisoformat(result["currentTime"])
    assert abs(sent - datetime.now(UTC)) < timedelta(seconds=5)
    assert result["currentTime"].endswith("Z")


async def test_status_notifications_per_connector(csms: RunningCsms, client: RawClient) -> None:
    await client.boot()
    for connector, status in ((0, "Available"), (1, "Charging"), (2, "Faulted")):
        payload = {"connectorId": connector, "errorCode": "NoError", "status": status}
        if status == "Faulted":
            payload.update(
                errorCode="ConnectorLockFailure", info="lock stuck", vendorErrorCode="E42"
            )
        assert await client.result("StatusNotification", payload) == {}
    detail = (await csms.api().get("/api/v1/charge-points/CP-16")).json()["data"]
    connectors = {
        (e["evseId"], c["connectorId"]): c for e in detail["evses"] for c in e["connectors"]
    }
    assert connectors[(0, 0)]["status"] == "Available"
    assert connectors[(1, 1)]["status"] == "Charging"
    assert connectors[(2, 2)]["status"] == "Faulted"
    assert connectors[(2, 2)]["errorCode"] == "ConnectorLockFailure"


async def test_a_late_status_does_not_overwrite_a_newer_one(
    csms: RunningCsms, client: RawClient
) -> None:
    await client.boot()
    now = datetime.now(UTC)
    await client.result(
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Available",
            "timestamp": iso(now),
        },
    )
    await client.result(
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Charging",
            "timestamp": iso(now - timedelta(minutes=5)),
        },
    )
    detail = (await csms.api().get("/api/v1/charge-points/CP-16")).json()["data"]
    assert detail["evses"][0]["connectors"][0]["status"] == "Available"


async def test_authorize_answers_from_the_id_tags_table(
    csms: RunningCsms, client: RawClient
) -> None:
    await client.boot()
    past = iso(datetime.now(UTC) - timedelta(days=1))
    future = iso(datetime.now(UTC) + timedelta(days=30))
    await csms.add_id_tag("GOOD", expireAt=future, parentIdTag="FLEET")
    await csms.add_id_tag("OFF", status="disabled")
    await csms.add_id_tag("STOLEN", status="blocked")
    await csms.add_id_tag("OLD", expireAt=past)
    good = await client.result("Authorize", {"idTag": "GOOD"})
    assert good["idTagInfo"]["status"] == "Accepted"
    assert good["idTagInfo"]["parentIdTag"] == "FLEET"
    assert good["idTagInfo"]["expiryDate"].endswith("Z")
    assert (await client.result("Authorize", {"idTag": "OFF"}))["idTagInfo"]["status"] == "Blocked"
    stolen = await client.result("Authorize", {"idTag": "STOLEN"})
    assert stolen["idTagInfo"]["status"] == "Blocked"
    assert (await client.result("Authorize", {"idTag": "OLD"}))["idTagInfo"]["status"] == "Expired"
    unknown = await client.result("Authorize", {"idTag": "NOBODY"})
    assert unknown["idTagInfo"]["status"] == "Invalid"
    # idTag is CiString20: matching ignores case.
    lower = await client.result("Authorize", {"idTag": "good"})
    assert lower["idTagInfo"]["status"] == "Accepted"


async def test_start_transaction_always_gets_an_id(csms: RunningCsms, client: RawClient) -> None:
    await client.boot()
    result = await client.result(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "UNKNOWN-TAG",
            "meterStart": 100,
            "timestamp": iso(datetime.now(UTC)),
        },
    )
    assert result["idTagInfo"]["status"] == "Invalid"
    assert isinstance(result["transactionId"], int) and result["transactionId"] > 0
    tx = (await csms.api().get(f"/api/v1/transactions/{result['transactionId']}")).json()["data"]
    assert tx["status"] == "active" and tx["idTag"] == "UNKNOWN-TAG"


async def test_meter_values_with_and_without_transaction(
    csms: RunningCsms, client: RawClient
) -> None:
    await client.boot()
    await csms.add_id_tag("TAG")
    started = datetime.now(UTC).replace(microsecond=123000)
    tx_id = (
        await client.result(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG",
                "meterStart": 1000,
                "timestamp": iso(started),
            },
        )
    )["transactionId"]
    sample_time = started + timedelta(seconds=30)
    assert (
        await client.result(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [
                    {
                        "timestamp": iso(sample_time),
                        "sampledValue": [
                            {"value": "1250"},
                            {"value": "7200.5", "measurand": "Power.Active.Import", "unit": "W"},
                            {
                                "value": "16.1",
                                "measurand": "Current.Import",
                                "unit": "A",
                                "phase": "L1",
                            },
                        ],
                    }
                ],
            },
        )
        == {}
    )
    # Main meter, no transaction (connector 0).
    assert (
        await client.result(
            "MeterValues",
            {
                "connectorId": 0,
                "meterValue": [
                    {
                        "timestamp": iso(sample_time),
                        "sampledValue": [{"value": "99999", "context": "Sample.Clock"}],
                    }
                ],
            },
        )
        == {}
    )
    items = (await csms.api().get(f"/api/v1/transactions/{tx_id}/meter-values")).json()["data"][
        "items"
    ]
    by_measurand = {i["measurand"]: i for i in items}
    assert by_measurand["Energy.Active.Import.Register"]["value"] == 1250
    assert by_measurand["Energy.Active.Import.Register"]["unit"] == "Wh"
    assert by_measurand["Energy.Active.Import.Register"]["context"] == "Sample.Periodic"
    assert by_measurand["Power.Active.Import"]["value"] == 7200.5
    assert by_measurand["Current.Import"]["phase"] == "L1"
    # The charger's milliseconds are kept.
    assert by_measurand["Power.Active.Import"]["timestamp"] == iso(sample_time)
    await csms.system.services.message_log.flush()
    stored = await csms.system.store.message_log.list_messages(
        Page(100), cp_id="CP-16", action="MeterValues"
    )
    assert len([m for m in stored.items if m.direction == "in"]) >= 1


async def test_stop_transaction_with_transaction_data(csms: RunningCsms, client: RawClient) -> None:
    await client.boot()
    await csms.add_id_tag("TAG")
    started = datetime.now(UTC) - timedelta(hours=1)
    tx_id = (
        await client.result(
            "StartTransaction",
            {
                "connectorId": 2,
                "idTag": "TAG",
                "meterStart": 5000,
                "timestamp": iso(started),
            },
        )
    )["transactionId"]
    stopped = started + timedelta(minutes=45)
    result = await client.result(
        "StopTransaction",
        {
            "transactionId": tx_id,
            "idTag": "TAG",
            "meterStop": 12500,
            "timestamp": iso(stopped),
            "reason": "EVDisconnected",
            "transactionData": [
                {
                    "timestamp": iso(started),
                    "sampledValue": [{"value": "5000", "context": "Transaction.Begin"}],
                },
                {
                    "timestamp": iso(stopped),
                    "sampledValue": [{"value": "12500", "context": "Transaction.End"}],
                },
            ],
        },
    )
    assert result == {"idTagInfo": {"status": "Accepted"}}
    tx = (await csms.api().get(f"/api/v1/transactions/{tx_id}")).json()["data"]
    assert tx["status"] == "completed"
    assert tx["meterStartWh"] == 5000 and tx["meterStopWh"] == 12500 and tx["energyWh"] == 7500
    assert tx["stopReason"] == "EVDisconnected"
    assert tx["startedAt"] == iso(started) and tx["stoppedAt"] == iso(stopped)
    assert tx["connectorId"] == 2 and tx["evseId"] == 2
    contexts = [
        i["context"]
        for i in (await csms.api().get(f"/api/v1/transactions/{tx_id}/meter-values")).json()[
            "data"
        ]["items"]
    ]
    assert contexts == ["Transaction.Begin", "Transaction.End"]


async def test_stop_without_reason_defaults_to_local_and_unknown_stop_is_answered(
    csms: RunningCsms, client: RawClient
) -> None:
    await client.boot()
    tx_id = (
        await client.result(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "T",
                "meterStart": 0,
                "timestamp": iso(datetime.now(UTC)),
            },
        )
    )["transactionId"]
    assert (
        await client.result(
            "StopTransaction",
            {
                "transactionId": tx_id,
                "meterStop": 10,
                "timestamp": iso(datetime.now(UTC)),
            },
        )
        == {}
    )
    tx = (await csms.api().get(f"/api/v1/transactions/{tx_id}")).json()["data"]
    assert tx["stopReason"] == "Local"
    # A stop for a transaction we never saw is still acknowledged (it cannot be refused).
    assert (
        await client.result(
            "StopTransaction",
            {
                "transactionId": 987654,
                "meterStop": 10,
                "timestamp": iso(datetime.now(UTC)),
            },
        )
        == {}
    )


async def test_data_transfer_firmware_and_diagnostics_notifications(
    csms: RunningCsms, client: RawClient
) -> None:
    await client.boot()
    transfer = await client.result("DataTransfer", {"vendorId": "com.example", "data": "x"})
    assert transfer["status"] == "UnknownVendorId"
    assert await client.result("FirmwareStatusNotification", {"status": "Downloading"}) == {}
    assert await client.result("DiagnosticsStatusNotification", {"status": "Uploaded"}) == {}
    detail = (await csms.api().get("/api/v1/charge-points/CP-16")).json()["data"]
    assert detail["firmwareStatus"] == "Downloading"
    assert detail["diagnosticsStatus"] == "Uploaded"
