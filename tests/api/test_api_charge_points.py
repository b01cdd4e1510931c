"""Registering, reading, changing and deleting charge points."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from csms.domain.models import BootInfo, ConnectorState
from csms.ocpp.connection import OcppConnection
from csms.ocpp.schemas import V16_SCHEMAS
from tests.api.conftest import ApiHarness

DETAIL_KEYS = {
    "id",
    "name",
    "ocppVersion",
    "connected",
    "lastSeenAt",
    "connectedSince",
    "registrationStatus",
    "bootInfo",
    "firmwareStatus",
    "diagnosticsStatus",
    "evses",
    "activeTransactions",
}
BOOT_KEYS = {
    "vendor",
    "model",
    "serialNumber",
    "firmwareVersion",
    "iccid",
    "imsi",
    "meterType",
    "meterSerialNumber",
}


class _IdleTransport:
    """A socket that never receives anything; records how it was closed."""

    def __init__(self) -> None:
        self.closed_with: tuple[int, str] | None = None

    async def send(self, message: str) -> None:
        pass

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = (code, reason)

    async def _frames(self) -> AsyncIterator[str | bytes]:
        return
        yield ""

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._frames()


async def _connect(harness: ApiHarness, cp_id: str) -> tuple[OcppConnection, _IdleTransport]:
    transport = _IdleTransport()
    connection = OcppConnection(
        charge_point_id=cp_id,
        ocpp_version="1.6",
        transport=transport,
        handlers={},
        schemas=V16_SCHEMAS,
        recorder=harness.message_log,
        clock=harness.clock,
        boot_accepted=True,
        allowed_before_boot=frozenset(),
    )
    await harness.ctx.chargers.connected(cp_id, "1.6", registered=True)
    await harness.ctx.sessions.attach(connection)
    return connection, transport


async def test_register_and_read_back(harness: ApiHarness, api: httpx.AsyncClient) -> None:
    assert (
        await api.post("/api/v1/sites", json={"id": "depot", "name": "Depot"})
    ).status_code == 201
    response = await api.post(
        "/api/v1/charge-points",
        json={"id": "CP-1", "name": "Bay 1", "password": "s3cret-pass", "siteId": "depot"},
    )
    assert response.status_code == 201
    created = response.json()["data"]
    assert created["id"] == "CP-1"
    assert created["securityProfile"] == 1  # a password without a profile means Basic auth
    assert created["hasPassword"] is True
    assert "password" not in created and "s3cret-pass" not in response.text

    response = await api.get("/api/v1/charge-points/CP-1")
    assert response.status_code == 200
    cp = response.json()["data"]
    assert cp.keys() >= DETAIL_KEYS
    assert set(cp["bootInfo"]) == BOOT_KEYS
    assert cp["name"] == "Bay 1" and cp["siteId"] == "depot"
    assert cp["connected"] is False and cp["connectedSince"] is None
    assert cp["registrationStatus"] is None and cp["bootAnswer"] is None
    assert cp["modelId"] is None and cp["externalId"] is None
    assert cp["evses"] == [] and cp["activeTransactions"] == []
    assert cp["createdAt"].endswith("Z")


async def test_detail_shape_after_boot_and_status(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    await harness.register("CP-1")
    chargers = harness.ctx.chargers
    await chargers.connected("CP-1", "1.6", registered=True)
    await chargers.boot(
        "CP-1",
        "1.6",
        BootInfo(vendor="Acme", model="X1", serial_number="S-9", firmware_version="1.2.3"),
    )
    now = harness.clock()
    for evse, connector, status in [
        (2, 2, "Charging"),
        (0, 0, "Available"),
        (1, 2, "Faulted"),
        (1, 1, "Available"),
    ]:
        await chargers.connector_status(
            "CP-1",
            ConnectorState(
                evse, connector, status, "NoError" if status != "Faulted" else "GroundFailure", now
            ),
        )
    await chargers.firmware_status("CP-1", "Downloading")

    cp = (await api.get("/api/v1/charge-points/CP-1")).json()["data"]
    assert cp["ocppVersion"] == "1.6"
    assert cp["connected"] is True  # from the store: no live session in this process
    assert cp["connectedSince"].endswith("Z") and cp["lastSeenAt"].endswith("Z")
    assert cp["bootInfo"]["vendor"] == "Acme" and cp["bootInfo"]["serialNumber"] == "S-9"
    assert cp["bootInfo"]["iccid"] is None
    assert cp["firmwareStatus"] == "Downloading" and cp["diagnosticsStatus"] is None
    assert [e["evseId"] for e in cp["evses"]] == [0, 1, 2]
    evse1 = cp["evses"][1]["connectors"]
    assert [c["connectorId"] for c in evse1] == [1, 2]
    assert set(evse1[1]) >= {"connectorId", "status", "errorCode", "updatedAt"}
    assert evse1[1]["status"] == "Faulted" and evse1[1]["errorCode"] == "GroundFailure"
    assert evse1[1]["updatedAt"].endswith("Z")


async def test_connection_state_comes_from_the_live_session(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    await harness.register("CP-1")
    connection, _ = await _connect(harness, "CP-1")
    connection.last_seen_at = harness.clock()  # a frame arrived after the store's last write

    cp = (await api.get("/api/v1/charge-points/cp-1")).json()["data"]
    assert cp["connected"] is True
    assert cp["lastSeenAt"] == connection.last_seen_at.strftime("%Y-%m-%dT%H:%M:%S.123Z")
    assert cp["connectedSince"] == connection.connected_at.strftime("%Y-%m-%dT%H:%M:%S.123Z")
    health = (await harness.client(token=None).get("/health")).json()
    assert health["chargersConnected"] == 1


async def test_duplicate_registration_is_a_conflict(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    await harness.register("CP-1")
    for cp_id in ("CP-1", "cp-1"):  # identities are case-insensitive
        body = {"id": cp_id, "securityProfile": 0}
        response = await api.post("/api/v1/charge-points", json=body)
        assert response.status_code == 409
        error = response.json()["error"]
        assert (
            error["code"] == "conflict" and error["message"] and error["details"] == {"field": "id"}
        )


async def test_registration_validation(api: httpx.AsyncClient) -> None:
    bad_bodies: list[dict[str, Any]] = [
        {},
        {"id": ""},
        {"id": "a/b", "securityProfile": 0},
        {"id": "x" * 49, "securityProfile": 0},
        # Only OCPP identifierString characters: no space, NUL, newline, %, #, ...
        {"id": "CP 1", "securityProfile": 0},
        {"id": "CP\u00001", "securityProfile": 0},
        {"id": "CP\n1", "securityProfile": 0},
        {"id": "CP%2F1", "securityProfile": 0},
        {"id": "CPé", "securityProfile": 0},
        # No password: "no authentication" must be said, never assumed.
        {"id": "CP"},
        {"id": "CP", "securityProfile": 4},
        {"id": "CP", "password": "short"},
        {"id": "CP", "password": "p" * 65},
        {"id": "CP", "registrationStatus": "Accepted"},  # PATCH only
    ]
    for body in bad_bodies:
        response = await api.post("/api/v1/charge-points", json=body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"]["errors"], body
    response = await api.post("/api/v1/charge-points", json={"id": "CP", "password": "xyzzy"})
    assert "xyzzy" not in response.text  # inputs (passwords) are never echoed
    assert response.json()["error"]["details"]["errors"][0]["field"] == "password"
    open_charger = {"id": "CP"}
    response = await api.post("/api/v1/charge-points", json=open_charger)
    assert response.json()["error"]["details"]["field"] == "securityProfile"
    for good in ("x" * 48, "A-z_0.9*=:+|@"):
        body = {"id": good, "securityProfile": 0}
        assert (await api.post("/api/v1/charge-points", json=body)).status_code == 201


async def test_patch_changes_only_the_fields_given(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    assert (
        await api.post("/api/v1/sites", json={"id": "depot", "name": "Depot"})
    ).status_code == 201
    await harness.register("CP-1", name="Bay 1", siteId="depot", securityProfile=0)

    # registrationStatus is an alias of bootAnswer in PATCH; in GET it is the last boot's answer.
    response = await api.patch("/api/v1/charge-points/CP-1", json={"registrationStatus": "Pending"})
    assert response.status_code == 200
    cp = response.json()["data"]
    assert cp["bootAnswer"] == "Pending" and cp["registrationStatus"] is None
    assert cp["name"] == "Bay 1" and cp["siteId"] == "depot" and cp["securityProfile"] == 0
    decision = await harness.ctx.chargers.boot("CP-1", "1.6", BootInfo())
    assert decision.status == "Pending"
    cp = (await api.get("/api/v1/charge-points/CP-1")).json()["data"]
    assert cp["registrationStatus"] == "Pending"

    response = await api.patch(
        "/api/v1/charge-points/CP-1",
        json={"name": None, "password": "a-new-password", "securityProfile": 1},
    )
    cp = response.json()["data"]
    assert cp["name"] is None and cp["securityProfile"] == 1 and cp["hasPassword"] is True
    assert cp["bootAnswer"] == "Pending" and cp["siteId"] == "depot"
    outcome = await harness.ctx.chargers.authenticate(
        "CP-1", (b"CP-1", b"a-new-password"), tls=False
    )
    assert outcome.http_status is None

    response = await api.patch(
        "/api/v1/charge-points/CP-1", json={"bootAnswer": None, "password": None}
    )
    cp = response.json()["data"]
    assert cp["bootAnswer"] is None and cp["hasPassword"] is False
    assert cp["registrationStatus"] == "Pending"  # what it was told stays until it boots again
    decision = await harness.ctx.chargers.boot("CP-1", "1.6", BootInfo())
    assert decision.status == "Accepted"  # the configured default
    cp = (await api.get("/api/v1/charge-points/CP-1")).json()["data"]
    assert cp["registrationStatus"] == "Accepted"

    for body in (
        {"registrationStatus": "Maybe"},
        {"bootAnswer": "Rejected", "registrationStatus": "Accepted"},
        {"securityProfile": None},
        {"siteId": "nowhere"},
        {"bogus": 1},
    ):
        response = await api.patch("/api/v1/charge-points/CP-1", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"

    response = await api.patch("/api/v1/charge-points/NOPE", json={"name": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_delete(harness: ApiHarness, api: httpx.AsyncClient) -> None:
    await harness.register("CP-1")
    response = await api.delete("/api/v1/charge-points/CP-1")
    assert response.status_code == 204 and response.content == b""
    response = await api.get("/api/v1/charge-points/CP-1")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (await api.delete("/api/v1/charge-points/CP-1")).status_code == 404


async def test_delete_closes_a_live_connection(harness: ApiHarness, api: httpx.AsyncClient) -> None:
    await harness.register("CP-1")
    connection, transport = await _connect(harness, "CP-1")
    assert (await api.delete("/api/v1/charge-points/CP-1")).status_code == 204
    assert connection.closed
    assert transport.closed_with is not None and transport.closed_with[0] == 1000


async def test_list_paging_and_filters(harness: ApiHarness, api: httpx.AsyncClient) -> None:
    for cp_id in ("CP-3", "CP-1", "CP-5", "CP-2", "CP-4"):
        await harness.register(cp_id, name=f"name of {cp_id}")
    await harness.ctx.chargers.connected("CP-2", "1.6", registered=True)

    first = (await api.get("/api/v1/charge-points", params={"limit": 2})).json()["data"]
    assert [cp["id"] for cp in first["items"]] == ["CP-1", "CP-2"]
    assert first["hasMore"] is True
    assert first["items"][0].keys() >= DETAIL_KEYS
    rest = (
        await api.get("/api/v1/charge-points", params={"limit": 2, "startingAfter": "CP-2"})
    ).json()["data"]
    assert [cp["id"] for cp in rest["items"]] == ["CP-3", "CP-4"] and rest["hasMore"] is True
    last = (
        await api.get("/api/v1/charge-points", params={"limit": 2, "startingAfter": "CP-4"})
    ).json()["data"]
    assert [cp["id"] for cp in last["items"]] == ["CP-5"] and last["hasMore"] is False
    everything = (await api.get("/api/v1/charge-points")).json()["data"]
    assert len(everything["items"]) == 5 and everything["hasMore"] is False

    connected = (await api.get("/api/v1/charge-points?connected=true")).json()["data"]
    assert [cp["id"] for cp in connected["items"]] == ["CP-2"]
    offline = (await api.get("/api/v1/charge-points?connected=false")).json()["data"]
    assert len(offline["items"]) == 4
    found = (await api.get("/api/v1/charge-points?search=of%20CP-4")).json()["data"]
    assert [cp["id"] for cp in found["items"]] == ["CP-4"]

    for limit in ("0", "1001", "-1", "ten"):
        response = await api.get("/api/v1/charge-points", params={"limit": limit})
        assert response.status_code == 422, limit
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"]["errors"][0]["field"] == "limit"
        assert error["details"]["errors"][0]["location"] == "query"
    response = await api.get("/api/v1/charge-points?connected=maybe")
    assert response.status_code == 422
