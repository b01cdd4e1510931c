"""Secrets never leak: credentials sent to chargers (in any letter case), network-profile
passwords, a key a charger echoes back, the Basic header in debug logs and internal error text
stay out of the audit trail, the message log and the logs; the stored password still follows."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from csms.log import configure_library_logging
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.integration.test_command_errors import action_url
from tests.integration.test_command_state import answer_next
from tests.integration.test_v201_messages import BOOT as BOOT_201
from tests.ocpp_client import RawClient

OLD = "old-password-123"


@pytest.fixture
async def csms(tmp_path: Path) -> AsyncIterator[RunningCsms]:
    running = await start_csms(make_settings(tmp_path / "csms.db"))
    try:
        yield running
    finally:
        await stop_csms(running)


async def _connect(csms: RunningCsms, cp_id: str, version: str = "1.6") -> RawClient:
    await csms.register(cp_id, password=OLD)
    client = await RawClient.connect(
        csms.ocpp_url, cp_id, password=OLD, subprotocols=[f"ocpp{version}"]
    )
    if version == "1.6":
        await client.boot()
    else:
        await client.result("BootNotification", BOOT_201)
    return client


async def _trail(csms: RunningCsms, cp_id: str) -> str:
    """Everything an operator can read about the charger's commands and frames, as text."""
    api = csms.api(token="viewer")
    commands = (await api.get("/api/v1/commands", params={"chargePointId": cp_id})).json()
    frames = (await api.get("/api/v1/ocpp-messages", params={"chargePointId": cp_id})).json()
    configuration = (await api.get(f"/api/v1/charge-points/{cp_id}/configuration")).json()
    return json.dumps([commands, frames, configuration])


async def _refused(csms: RunningCsms, cp_id: str, password: str | bytes, version: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.connect(
            csms.ocpp_url, cp_id, password=password, subprotocols=[f"ocpp{version}"]
        )
    assert refused.value.response.status_code == 401


async def _admitted(csms: RunningCsms, cp_id: str, password: str | bytes, version: str) -> None:
    client = await RawClient.connect(
        csms.ocpp_url, cp_id, password=password, subprotocols=[f"ocpp{version}"]
    )
    await client.close()


@pytest.mark.parametrize("name", ["authorizationkey", "AUTHORIZATIONKEY", "authorizationKey"])
async def test_1_6_authorization_key_in_any_case_is_masked_and_moves_the_password(
    csms: RunningCsms, name: str
) -> None:
    client = await _connect(csms, "CP-CASE")
    new_key = bytes(range(0xE0, 0xF4))
    request = asyncio.create_task(
        csms.api().post(
            action_url("CP-CASE", "set-configuration"), json={"name": name, "value": new_key.hex()}
        )
    )
    call = await answer_next(client, {"status": "Accepted"})
    assert call[3] == {"key": name, "value": new_key.hex()}  # the charger gets the real key
    response = await request
    assert response.status_code == 200, response.text
    record = response.json()["data"]
    stored = (await csms.api().get(f"/api/v1/commands/{record['commandId']}")).json()["data"]
    assert stored["request"]["value"] == "********"
    assert stored["ocppPayload"]["value"] == "********"
    trail = await _trail(csms, "CP-CASE")
    assert new_key.hex() not in trail and "********" in trail
    await client.close()
    await _refused(csms, "CP-CASE", OLD, "1.6")
    await _admitted(csms, "CP-CASE", new_key, "1.6")


async def test_2_0_1_basic_auth_password_in_any_case_is_masked_and_moves_the_password(
    csms: RunningCsms,
) -> None:
    client = await _connect(csms, "CS-CASE", "2.0.1")
    new = "new-password-4567890"
    item = {"component": {"name": "securityctrlr"}, "variable": {"name": "BASICAUTHPASSWORD"}}
    request = asyncio.create_task(
        csms.api().post(
            "/api/v1/charge-points/CS-CASE/call/SetVariables",
            json={"setVariableData": [{**item, "attributeValue": new}]},
        )
    )
    echoed = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
    call = await answer_next(
        client, {"setVariableResult": [{**echoed, "attributeStatus": "Accepted"}]}
    )
    assert call[3]["setVariableData"][0]["attributeValue"] == new
    response = await request
    assert response.status_code == 200, response.text
    trail = await _trail(csms, "CS-CASE")
    assert new not in trail and "********" in trail
    await client.close()
    await _refused(csms, "CS-CASE", OLD, "2.0.1")
    await _admitted(csms, "CS-CASE", new, "2.0.1")


async def test_set_network_profile_secrets_are_masked(csms: RunningCsms) -> None:
    client = await _connect(csms, "CS-NET", "2.0.1")
    secrets = ("apn-secret-1", "vpn-secret-2", "vpn-shared-key-3")
    profile = {
        "configurationSlot": 1,
        "connectionData": {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": "wss://csms.example.com/ocpp",
            "messageTimeout": 30,
            "securityProfile": 2,
            "ocppInterface": "Wireless0",
            "apn": {"apn": "internet", "apnPassword": secrets[0], "apnAuthentication": "AUTO"},
            "vpn": {
                "server": "vpn.example.com",
                "user": "vpn-user",
                "password": secrets[1],
                "key": secrets[2],
                "type": "IPSec",
            },
        },
    }
    request = asyncio.create_task(
        csms.api().post("/api/v1/charge-points/CS-NET/call/SetNetworkProfile", json=profile)
    )
    call = await answer_next(client, {"status": "Accepted"})
    sent = call[3]["connectionData"]  # the charger gets the real values
    assert sent["vpn"] == profile["connectionData"]["vpn"]  # type: ignore[index]
    assert sent["apn"]["apnPassword"] == secrets[0]
    assert (await request).status_code == 200
    trail = await _trail(csms, "CS-NET")
    assert not any(secret in trail for secret in secrets)
    assert "vpn-user" in trail  # only the secrets are masked
    await client.close()


async def test_an_authorization_key_echoed_by_the_charger_is_masked(
    csms: RunningCsms, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await _connect(csms, "CP-ECHO")
    leaked = "00112233445566778899aabbccddeeff"
    request = asyncio.create_task(
        csms.api().post(action_url("CP-ECHO", "get-configuration"), json={})
    )
    await answer_next(
        client,
        {
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "AuthorizationKey", "readonly": False, "value": leaked},
            ]
        },
    )
    response = await request
    assert response.status_code == 200, response.text
    keys = response.json()["data"]["response"]["configurationKey"]
    assert keys[1] == {"key": "AuthorizationKey", "readonly": False, "value": "********"}
    trail = await _trail(csms, "CP-ECHO")
    assert leaked not in trail and '"300"' in trail
    # Nor in the server's own frame log (debug).
    await client.close()
    assert leaked not in capsys.readouterr().out


@pytest.fixture
def websockets_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The standard-library loggers as ``[log] level = "debug"`` sets them, restored after."""
    loggers = [logging.getLogger(name) for name in ("websockets", "ocpp")]
    saved = [(logger, logger.level, list(logger.filters)) for logger in loggers]
    configure_library_logging("debug")
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for logger, level, filters in saved:
            logger.setLevel(level)
            for extra in logger.filters:
                if extra not in filters:
                    logger.removeFilter(extra)


async def test_websockets_debug_logging_never_writes_the_credentials(
    csms: RunningCsms, websockets_debug: pytest.LogCaptureFixture
) -> None:
    client = await _connect(csms, "CP-DEBUG")
    new_key = bytes(range(0xA0, 0xB4))
    request = asyncio.create_task(
        csms.api().post(
            action_url("CP-DEBUG", "set-configuration"),
            json={"name": "AuthorizationKey", "value": new_key.hex()},
        )
    )
    await answer_next(client, {"status": "Accepted"})
    assert (await request).status_code == 200
    await client.close()
    text = websockets_debug.text
    assert "Authorization" in text  # websockets did log the request headers...
    basic = base64.b64encode(f"CP-DEBUG:{OLD}".encode()).decode()
    assert basic not in text and OLD not in text  # ...but not the credentials
    assert new_key.hex() not in text  # nor the frames that carry a new key
    assert new_key.hex()[-8:] not in text


async def test_an_unexpected_failure_keeps_its_detail_out_of_the_audit_trail(
    csms: RunningCsms, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await _connect(csms, "CP-BUG")
    # A real failure of the follow-up's write: a trigger, added from outside as another process
    # could, makes the database refuse the local list version of this charger.
    detail = "frozen by the test: local_list_version of CP-BUG"
    with sqlite3.connect(csms.settings.database.sqlite_path) as outside:
        outside.execute(
            "CREATE TRIGGER freeze_local_list BEFORE UPDATE OF local_list_version ON"
            f" charge_points WHEN NEW.id = 'CP-BUG' BEGIN SELECT RAISE(ABORT, '{detail}'); END"
        )
    outside.close()
    request = asyncio.create_task(
        csms.api().post(action_url("CP-BUG", "get-local-list-version"), json={})
    )
    call = await client.recv()
    await client.send_raw(json.dumps([3, call[1], {"listVersion": 7}]))
    response = await request
    assert response.status_code == 500
    commands = (
        await csms.api().get("/api/v1/commands", params={"chargePointId": "CP-BUG"})
    ).json()["data"]["items"]
    error: dict[str, Any] = commands[0]["error"]
    assert error["code"] == "internal_error"
    error_id = error["details"]["errorId"]
    assert error_id in error["message"]
    trail = json.dumps(commands)
    assert detail not in trail and "IntegrityError" not in trail and "sqlite" not in trail.lower()
    # The detail is in the server log, under the same id.
    log = capsys.readouterr().out
    assert error_id in log and detail in log and "IntegrityError" in log
    await client.close()
