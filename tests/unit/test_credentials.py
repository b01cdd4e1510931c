"""Credentials in OCPP calls and answers: recognised in any letter case, masked wherever a call or
an answer is kept, and followed (the stored password moves) once the charger accepted them."""

from __future__ import annotations

from typing import Any

import pytest

from csms.domain.commands import REDACTED, OcppCall, SetConfiguration
from csms.ocpp.credentials import carries_secret, new_password, redact, redact_reported

KEY = bytes(range(0xE0, 0xF4))  # 20 bytes, not UTF-8: travels hex (OCPP-J 1.6 §6.2.2)


@pytest.mark.parametrize(
    "name", ["AuthorizationKey", "authorizationkey", "AUTHORIZATIONKEY", "authorizationKey"]
)
def test_1_6_authorization_key_in_any_case(name: str) -> None:
    # ChangeConfiguration.req key is a CiString50: case-insensitive (OCPP 1.6 §6.9, §7.9).
    payload = {"key": name, "value": KEY.hex()}
    assert redact("ChangeConfiguration", payload) == {"key": name, "value": REDACTED}
    assert carries_secret("ChangeConfiguration", payload)
    call = OcppCall("ChangeConfiguration", payload)
    assert new_password("1.6", call, {"status": "Accepted"}) == KEY
    assert new_password("1.6", call, {"status": "Rejected"}) is None
    assert SetConfiguration(name=name, value=KEY.hex()).sets_credential


def test_other_configuration_keys_are_kept_as_they_are() -> None:
    payload = {"key": "HeartbeatInterval", "value": "300"}
    assert redact("ChangeConfiguration", payload) == payload
    assert not carries_secret("ChangeConfiguration", payload)
    call = OcppCall("ChangeConfiguration", payload)
    assert new_password("1.6", call, {"status": "Accepted"}) is None
    assert not SetConfiguration(name="HeartbeatInterval", value="300").sets_credential


@pytest.mark.parametrize(
    ("component", "variable"),
    [
        ("SecurityCtrlr", "BasicAuthPassword"),
        ("securityctrlr", "basicauthpassword"),
        ("SECURITYCTRLR", "BasicAuthPASSWORD"),
    ],
)
def test_2_0_1_basic_auth_password_in_any_case(component: str, variable: str) -> None:
    # ComponentType.name and VariableType.name: "Case Insensitive" (2.0.1 schemas, part 2 §2).
    item = {"component": {"name": component}, "variable": {"name": variable}}
    other = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    payload = {
        "setVariableData": [
            {**other, "attributeValue": "300"},
            {**item, "attributeValue": "new-password-4567890"},
        ]
    }
    masked = redact("SetVariables", payload)
    assert masked["setVariableData"][0]["attributeValue"] == "300"
    assert masked["setVariableData"][1]["attributeValue"] == REDACTED
    assert carries_secret("SetVariables", payload)
    # The charger may spell the names its own way in the answer.
    answer = {
        "setVariableResult": [
            {
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
                "attributeStatus": "Accepted",
            }
        ]
    }
    call = OcppCall("SetVariables", payload)
    assert new_password("2.0.1", call, answer) == b"new-password-4567890"
    assert SetConfiguration(
        name=variable, value="new-password-4567890", component_name=component
    ).sets_credential


def _network_profile() -> dict[str, Any]:
    return {
        "configurationSlot": 1,
        "connectionData": {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": "wss://csms.example.com/ocpp",
            "messageTimeout": 30,
            "securityProfile": 2,
            "ocppInterface": "Wireless0",
            "apn": {
                "apn": "internet.example",
                "apnUserName": "apn-user",
                "apnPassword": "apn-secret-1",
                "simPin": 4321,
                "apnAuthentication": "AUTO",
            },
            "vpn": {
                "server": "vpn.example.com",
                "user": "vpn-user",
                "password": "vpn-secret-2",
                "key": "vpn-shared-key-3",
                "type": "IPSec",
            },
        },
    }


def test_set_network_profile_secrets_are_masked() -> None:
    payload = _network_profile()
    masked = redact("SetNetworkProfile", payload)
    data = masked["connectionData"]
    assert data["apn"]["apnPassword"] == REDACTED
    assert data["apn"]["simPin"] == REDACTED
    assert data["vpn"]["password"] == REDACTED
    assert data["vpn"]["key"] == REDACTED
    # What is not a secret stays readable, and the call sent is untouched.
    assert data["apn"]["apnUserName"] == "apn-user" and data["vpn"]["user"] == "vpn-user"
    assert data["ocppCsmsUrl"] == "wss://csms.example.com/ocpp"
    assert payload == _network_profile()
    assert carries_secret("SetNetworkProfile", payload)
    without = _network_profile()
    del without["connectionData"]["apn"], without["connectionData"]["vpn"]
    assert redact("SetNetworkProfile", without) == without


def test_authorization_key_echoed_in_a_1_6_get_configuration_answer_is_masked() -> None:
    # AuthorizationKey is write-only (OCPP-J 1.6 §6.2.2), yet some chargers report it.
    answer: dict[str, Any] = {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "authorizationKey", "readonly": False, "value": KEY.hex()},
        ],
        "unknownKey": ["Nope"],
    }
    masked = redact_reported("GetConfiguration", answer)
    assert masked["configurationKey"][0]["value"] == "300"
    assert masked["configurationKey"][1] == {
        "key": "authorizationKey",
        "readonly": False,
        "value": REDACTED,
    }
    assert masked["unknownKey"] == ["Nope"]
    assert answer["configurationKey"][1]["value"] == KEY.hex()  # the original is untouched
    clean = {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False}]}
    assert redact_reported("GetConfiguration", clean) is clean


def test_basic_auth_password_echoed_in_a_get_variables_answer_is_masked() -> None:
    answer = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": {"name": "securityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
                "attributeValue": "leaked-password-123",
            }
        ]
    }
    masked = redact_reported("GetVariables", answer)
    assert masked["getVariableResult"][0]["attributeValue"] == REDACTED
    assert redact_reported("Heartbeat", {"currentTime": "x"}) == {"currentTime": "x"}


def test_basic_auth_password_reported_in_a_notify_report_is_masked() -> None:
    item = {
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "basicAuthPassword"},
        "variableAttribute": [{"type": "Actual", "value": "leaked-password-123"}],
    }
    other = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
        "variableAttribute": [{"type": "Actual", "value": "300"}],
    }
    report = {"requestId": 1, "generatedAt": "x", "seqNo": 0, "reportData": [other, item]}
    masked = redact_reported("NotifyReport", report)
    assert masked["reportData"][0] == other
    assert masked["reportData"][1]["variableAttribute"] == [{"type": "Actual", "value": REDACTED}]
