"""The certificate actions through the HTTP API: the exact OCPP call(s) each version's charger
receives, the values one version cannot express refused with 422 before anything is sent, and
set-security-profile's stored profile following only what the charger took."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from csms.domain.updates import ChargePointChanges
from tests.conftest import RunningCsms
from tests.integration.test_v201_messages import BOOT as BOOT_201
from tests.ocpp_client import RawClient

HASH_DATA = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a1b2c3",
    "issuerKeyHash": "d4e5f6",
    "serialNumber": "1f2e",
}
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@dataclass
class Charger:
    cp_id: str
    version: str
    client: RawClient


async def _booted(csms: RunningCsms, version: str) -> Charger:
    """A booted raw charger at security profile 1."""
    cp_id = "CP-CERT16" if version == "1.6" else "CS-CERT201"
    await csms.register(cp_id, securityProfile=1, password="a-password-1234")
    client = await RawClient.connect(
        csms.ocpp_url, cp_id, subprotocols=[f"ocpp{version}"], password="a-password-1234"
    )
    if version == "1.6":
        await client.boot()
    else:
        await client.result("BootNotification", BOOT_201)
    return Charger(cp_id, version, client)


@pytest.fixture(params=["1.6", "2.0.1"])
async def charger(request: pytest.FixtureRequest, csms: RunningCsms) -> AsyncIterator[Charger]:
    booted = await _booted(csms, request.param)
    yield booted
    await booted.client.close()


@pytest.fixture
async def charger16(csms: RunningCsms) -> AsyncIterator[Charger]:
    booted = await _booted(csms, "1.6")
    yield booted
    await booted.client.close()


@pytest.fixture
async def charger201(csms: RunningCsms) -> AsyncIterator[Charger]:
    booted = await _booted(csms, "2.0.1")
    yield booted
    await booted.client.close()


def _post(csms: RunningCsms, cp_id: str, action: str, body: dict[str, Any]) -> Any:
    return asyncio.create_task(
        csms.api().post(f"/api/v1/charge-points/{cp_id}/actions/{action}", json=body)
    )


async def _answer(charger: Charger, answer: dict[str, Any]) -> list[Any]:
    call = await charger.client.recv()
    assert call[0] == 2, call
    await charger.client.send_raw(json.dumps([3, call[1], answer]))
    return call


async def _stored_profile(csms: RunningCsms, cp_id: str) -> int:
    detail = await csms.api().get(f"/api/v1/charge-points/{cp_id}")
    profile: int = detail.json()["data"]["securityProfile"]
    return profile


# action, body, {version: (OCPP action, payload, the charger's answer)}
CASES: list[tuple[str, dict[str, Any], dict[str, tuple[str, dict[str, Any], dict[str, Any]]]]] = [
    (
        "install-certificate",
        {"certificateType": "CSMSRootCertificate", "certificate": PEM},
        {
            "1.6": (
                "InstallCertificate",
                {"certificateType": "CentralSystemRootCertificate", "certificate": PEM},
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "InstallCertificate",
                {"certificateType": "CSMSRootCertificate", "certificate": PEM},
                {"status": "Accepted"},
            ),
        },
    ),
    (
        # 1.6's name is taken too, and means the same.
        "install-certificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": PEM},
        {
            "1.6": (
                "InstallCertificate",
                {"certificateType": "CentralSystemRootCertificate", "certificate": PEM},
                {"status": "Rejected"},
            ),
            "2.0.1": (
                "InstallCertificate",
                {"certificateType": "CSMSRootCertificate", "certificate": PEM},
                {"status": "Rejected"},
            ),
        },
    ),
    (
        "get-installed-certificate-ids",
        {"certificateType": "ManufacturerRootCertificate"},
        {
            "1.6": (
                "GetInstalledCertificateIds",
                {"certificateType": "ManufacturerRootCertificate"},
                {"status": "Accepted", "certificateHashData": [HASH_DATA]},
            ),
            "2.0.1": (
                "GetInstalledCertificateIds",
                {"certificateType": ["ManufacturerRootCertificate"]},
                {"status": "NotFound"},
            ),
        },
    ),
    (
        "delete-certificate",
        {"certificateHashData": HASH_DATA},
        {
            "1.6": (
                "DeleteCertificate",
                {"certificateHashData": HASH_DATA},
                {"status": "Accepted"},
            ),
            "2.0.1": (
                "DeleteCertificate",
                {"certificateHashData": HASH_DATA},
                {"status": "NotFound"},
            ),
        },
    ),
    (
        "certificate-signed",
        {"certificateChain": PEM},
        {
            "1.6": ("CertificateSigned", {"certificateChain": PEM}, {"status": "Accepted"}),
            "2.0.1": ("CertificateSigned", {"certificateChain": PEM}, {"status": "Accepted"}),
        },
    ),
    (
        "get-security-log",
        {"location": "ftp://logs.example/", "start": "2026-01-01T00:00:00Z", "retries": 2},
        {
            version: (
                "GetLog",
                {
                    "logType": "SecurityLog",
                    "requestId": "COMMAND_ID",
                    "retries": 2,
                    "log": {
                        "remoteLocation": "ftp://logs.example/",
                        "oldestTimestamp": "2026-01-01T00:00:00.000Z",
                    },
                },
                {"status": "Accepted", "filename": "security.log"},
            )
            for version in ("1.6", "2.0.1")
        },
    ),
]


async def test_certificate_actions_become_each_versions_call(
    csms: RunningCsms, charger: Charger
) -> None:
    for action, body, expected in CASES:
        ocpp_action, payload, answer = expected[charger.version]
        request = _post(csms, charger.cp_id, action, body)
        call = await _answer(charger, answer)
        response: httpx.Response = await request
        assert response.status_code == 200, (action, response.text)
        data = response.json()["data"]
        if payload.get("requestId") == "COMMAND_ID":
            payload = {**payload, "requestId": data["commandId"]}
        assert call[2:] == [ocpp_action, payload], action
        assert data["ocppAction"] == ocpp_action and data["status"] == answer["status"]
        assert data["response"] == answer


# What each version cannot express (or a body no version takes), by the charger's version.
UNSENDABLE: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "1.6": [
        ("install-certificate", {"certificateType": "V2GRootCertificate", "certificate": PEM}),
        ("get-installed-certificate-ids", {"certificateType": "V2GCertificateChain"}),
        ("get-installed-certificate-ids", {}),  # 1.6 asks for one kind at a time
        ("certificate-signed", {"certificateChain": PEM, "certificateType": "V2GCertificate"}),
        ("set-security-profile", {"securityProfile": 2, "csmsUrl": "wss://x/ocpp"}),
    ],
    "2.0.1": [
        ("install-certificate", {"certificateType": "Nonsense", "certificate": PEM}),
        ("set-security-profile", {"securityProfile": 2}),  # no slot, no URL
        ("set-security-profile", {"securityProfile": 3, "csmsUrl": "wss://x/ocpp"}),
        (
            "set-security-profile",
            {"securityProfile": 3, "configurationSlot": 1, "csmsUrl": "ws://x/ocpp"},
        ),
    ],
}


async def test_what_a_version_cannot_express_is_422_and_never_sent(
    csms: RunningCsms, charger: Charger
) -> None:
    api = csms.api()
    for action, body in UNSENDABLE[charger.version]:
        response = await api.post(
            f"/api/v1/charge-points/{charger.cp_id}/actions/{action}", json=body
        )
        assert response.status_code == 422, (action, body, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    with pytest.raises(TimeoutError):
        await charger.client.recv(timeout=0.2)


async def test_no_downgrade_through_set_security_profile(
    csms: RunningCsms, charger: Charger
) -> None:
    api = csms.api()
    # Upgraded while connected (as after the charger accepted profile 2): the session stays.
    await csms.system.services.chargers.update(
        charger.cp_id, ChargePointChanges(security_profile=2), by_charger=True
    )
    body: dict[str, Any] = {"securityProfile": 1}
    if charger.version == "2.0.1":
        body |= {"configurationSlot": 1, "csmsUrl": "wss://csms.example/ocpp"}
    response = await api.post(
        f"/api/v1/charge-points/{charger.cp_id}/actions/set-security-profile", json=body
    )
    assert response.status_code == 422, response.text
    assert "never lowered" in response.json()["error"]["message"]
    assert await _stored_profile(csms, charger.cp_id) == 2


async def test_v16_security_profile_follows_only_an_accepted_change(
    csms: RunningCsms, charger16: Charger
) -> None:
    charger = charger16
    for answer, stored in (("Rejected", 1), ("Accepted", 2)):
        request = _post(csms, charger.cp_id, "set-security-profile", {"securityProfile": 2})
        call = await _answer(charger, {"status": answer})
        assert call[2:] == ["ChangeConfiguration", {"key": "SecurityProfile", "value": "2"}]
        response = await request
        assert response.json()["data"]["status"] == answer
        assert await _stored_profile(csms, charger.cp_id) == stored


async def test_v201_security_profile_goes_through_a_network_profile_then_a_reset(
    csms: RunningCsms, charger201: Charger
) -> None:
    charger = charger201
    body = {"securityProfile": 3, "configurationSlot": 2, "csmsUrl": "wss://csms.example/ocpp"}

    # Refused at the first step: nothing else is sent, the stored profile stays.
    request = _post(csms, charger.cp_id, "set-security-profile", body)
    call = await _answer(charger, {"status": "Rejected"})
    assert call[2] == "SetNetworkProfile"
    response = await request
    assert response.json()["data"]["status"] == "Rejected"
    assert response.json()["data"]["response"] == {"SetNetworkProfile": {"status": "Rejected"}}
    assert await _stored_profile(csms, charger.cp_id) == 1

    # All three taken: the charger is held to profile 3 from now on.
    request = _post(csms, charger.cp_id, "set-security-profile", body)
    network = await _answer(charger, {"status": "Accepted"})
    assert network[2:] == [
        "SetNetworkProfile",
        {
            "configurationSlot": 2,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": "wss://csms.example/ocpp",
                "messageTimeout": 30,
                "securityProfile": 3,
                "ocppInterface": "Wired0",
            },
        },
    ]
    priority_result = {
        "attributeStatus": "Accepted",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "NetworkConfigurationPriority"},
    }
    priority = await _answer(charger, {"setVariableResult": [priority_result]})
    assert priority[2:] == [
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": "2",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "NetworkConfigurationPriority"},
                }
            ]
        },
    ]
    reset = await _answer(charger, {"status": "Scheduled"})
    assert reset[2:] == ["Reset", {"type": "OnIdle"}]
    response = await request
    data = response.json()["data"]
    assert data["ocppAction"] == "SetNetworkProfile" and data["status"] == "Scheduled"
    # Each call's answer under its action (sent in this order; a JSON object keeps none).
    assert set(data["response"]) == {"SetNetworkProfile", "SetVariables", "Reset"}
    assert data["response"]["Reset"] == {"status": "Scheduled"}
    assert await _stored_profile(csms, charger.cp_id) == 3
