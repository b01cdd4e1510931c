"""Malformed and out-of-order frames get the CALLERROR OCPP-J 1.6 names; nothing else breaks."""

from __future__ import annotations

import pytest

from tests.conftest import RunningCsms
from tests.ocpp_client import RawClient


@pytest.fixture
async def booted(csms: RunningCsms) -> RawClient:
    await csms.register("CP-FRAMES")
    client = await RawClient.connect(csms.ocpp_url, "CP-FRAMES")
    await client.boot()
    return client


async def test_non_json_frame_gets_formation_violation_with_id_minus_one(
    booted: RawClient,
) -> None:
    await booted.send_raw("this is not json")
    answer = await booted.recv()
    assert answer[0] == 4 and answer[1] == "-1"
    assert answer[2] == "FormationViolation"  # the 1.6 spelling, never "FormatViolation"
    assert isinstance(answer[4], dict)
    # The connection carries on.
    assert (await booted.call("Heartbeat", {}))[0] == 3


async def test_wrong_message_type_is_answered(booted: RawClient) -> None:
    await booted.send_raw('[7, "abc-1", "Heartbeat", {}]')
    answer = await booted.recv()
    assert answer[:3] == [4, "abc-1", "FormationViolation"]
    await booted.send_raw('{"not": "an array"}')
    assert (await booted.recv())[:3] == [4, "-1", "FormationViolation"]
    assert (await booted.call("Heartbeat", {}))[0] == 3


async def test_unknown_and_unsupported_actions(booted: RawClient) -> None:
    unknown = await booted.call("MakeCoffee", {})
    assert unknown[0] == 4 and unknown[2] == "NotImplemented"
    # A real 1.6 action, but one a charge point never sends to a central system.
    misdirected = await booted.call("RemoteStartTransaction", {"idTag": "X"})
    assert misdirected[0] == 4 and misdirected[2] == "NotSupported"


async def test_schema_violations_use_the_1_6_codes(booted: RawClient) -> None:
    missing = await booted.call("Authorize", {})
    assert missing[2] == "OccurenceConstraintViolation"  # sic, OCPP-J 1.6 table 7
    wrong_type = await booted.call("Authorize", {"idTag": 12})
    assert wrong_type[2] == "TypeConstraintViolation"
    too_long = await booted.call("Authorize", {"idTag": "X" * 21})
    assert too_long[2] == "PropertyConstraintViolation"
    bad_enum = await booted.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Dancing"}
    )
    assert bad_enum[2] == "PropertyConstraintViolation"
    extra = await booted.call("Heartbeat", {"surprise": True})
    assert extra[2] == "FormationViolation"
    for answer in (missing, wrong_type, too_long, bad_enum, extra):
        assert answer[0] == 4 and isinstance(answer[3], str) and answer[4] == {}
    assert (await booted.call("Heartbeat", {}))[0] == 3


async def test_other_chargers_carry_on_while_one_misbehaves(
    csms: RunningCsms, booted: RawClient
) -> None:
    await csms.register("CP-GOOD")
    good = await RawClient.connect(csms.ocpp_url, "CP-GOOD")
    await good.boot()
    for garbage in ("{", "[2]", '[2, "x", "Authorize", []]', "[]", "null"):
        await booted.send_raw(garbage)
        assert (await booted.recv())[0] == 4
        assert (await good.call("Heartbeat", {}))[0] == 3
    await good.close()


async def test_calls_before_an_accepted_boot_get_security_error(csms: RunningCsms) -> None:
    await csms.register("CP-PENDING")
    patched = await csms.api().patch(
        "/api/v1/charge-points/CP-PENDING", json={"registrationStatus": "Pending"}
    )
    assert patched.status_code == 200
    client = await RawClient.connect(csms.ocpp_url, "CP-PENDING")
    first = await client.call("Heartbeat", {})
    assert first[0] == 4 and first[2] == "SecurityError"
    boot = await client.boot()
    assert boot["status"] == "Pending"
    assert boot["interval"] == csms.settings.ocpp.boot_retry_interval
    assert (await client.call("Heartbeat", {}))[2] == "SecurityError"
    await csms.api().patch("/api/v1/charge-points/CP-PENDING", json={"registrationStatus": None})
    assert (await client.boot())["status"] == "Accepted"
    assert (await client.call("Heartbeat", {}))[0] == 3
    await client.close()


async def test_reconnect_is_not_reboot(csms: RunningCsms) -> None:
    """An Accepted charger that reconnects without booting again is served (OCPP-J 1.6 §5.4)."""
    await csms.register("CP-RECONNECT")
    client = await RawClient.connect(csms.ocpp_url, "CP-RECONNECT")
    await client.boot()
    await client.close()
    again = await RawClient.connect(csms.ocpp_url, "CP-RECONNECT")
    assert (await again.call("Heartbeat", {}))[0] == 3
    await again.close()


async def test_every_frame_is_in_the_message_log(csms: RunningCsms, booted: RawClient) -> None:
    await booted.send_raw("garbage")
    await booted.recv()
    await booted.call("Heartbeat", {})
    response = await csms.api().get(
        "/api/v1/ocpp-messages", params={"chargePointId": "CP-FRAMES", "limit": 100}
    )
    items = response.json()["data"]["items"]
    kinds = [(m["direction"], m["messageType"], m["action"]) for m in items]
    assert ("in", "Call", "BootNotification") in kinds
    assert ("out", "CallResult", "BootNotification") in kinds
    assert ("out", "CallError", None) in kinds
    assert ("in", "Call", "Heartbeat") in kinds
    heartbeat_answer = next(
        m for m in items if m["action"] == "Heartbeat" and m["direction"] == "out"
    )
    assert heartbeat_answer["payload"]["currentTime"].endswith("Z")
    invalid = next(m for m in items if m["payload"] == "garbage")
    assert invalid["direction"] == "in"
