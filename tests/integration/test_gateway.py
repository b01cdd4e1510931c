"""The websocket handshake: identity, Basic auth, subprotocols, replacement, frame limits."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from csms.config import DatabaseSettings
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.ocpp_client import RawClient, basic_auth


async def test_unknown_identity_is_refused_with_404(csms: RunningCsms) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.connect(csms.ocpp_url, "NOBODY")
    assert refused.value.response.status_code == 404


async def test_wrong_or_missing_password_is_refused_with_401(csms: RunningCsms) -> None:
    await csms.register("CP-AUTH", password="correct-horse-battery")
    with pytest.raises(InvalidStatus) as missing:
        await RawClient.connect(csms.ocpp_url, "CP-AUTH")
    assert missing.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as wrong:
        await RawClient.connect(csms.ocpp_url, "CP-AUTH", password="wrong-password")
    assert wrong.value.response.status_code == 401
    # The Basic username must be the identity in the URL.
    with pytest.raises(InvalidStatus) as other_user:
        await connect(
            f"{csms.ocpp_url}/CP-AUTH",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth("CP-OTHER", "correct-horse-battery"),
        )
    assert other_user.value.response.status_code == 401

    client = await RawClient.connect(csms.ocpp_url, "CP-AUTH", password="correct-horse-battery")
    assert (await client.boot())["status"] == "Accepted"
    await client.close()


async def test_password_bytes_need_not_be_utf8(csms: RunningCsms) -> None:
    """1.6 AuthorizationKeys are raw bytes in the Basic header (OCPP-J 1.6 §6.2.2)."""
    await csms.register("CP-BYTES", password="ascii-password-1")
    with pytest.raises(InvalidStatus):
        await RawClient.connect(csms.ocpp_url, "CP-BYTES", password=b"\xff\xfe-not-utf8")
    client = await RawClient.connect(csms.ocpp_url, "CP-BYTES", password=b"ascii-password-1")
    await client.close()


async def test_subprotocol_negotiation(csms: RunningCsms) -> None:
    await csms.register("CP-PROTO")
    # Nothing we speak → no session.
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.connect(csms.ocpp_url, "CP-PROTO", subprotocols=["ocpp0.1"])
    assert refused.value.response.status_code == 400
    # No subprotocol at all → refused too.
    with pytest.raises(InvalidStatus):
        await connect(f"{csms.ocpp_url}/CP-PROTO", open_timeout=5)
    # The charger's list is read in order; the first we speak wins (TC_088).
    client = await RawClient.connect(csms.ocpp_url, "CP-PROTO", subprotocols=["ocpp0.1", "ocpp1.6"])
    assert client.ws.subprotocol == "ocpp1.6"
    await client.close()


async def test_identity_is_the_percent_decoded_last_path_segment(csms: RunningCsms) -> None:
    await csms.register("RDAM|123")
    client = await RawClient.connect(
        csms.ocpp_url + "/some/deeper/path", "RDAM|123", path_identity="RDAM%7C123"
    )
    await client.boot()
    detail = await csms.api().get("/api/v1/charge-points/RDAM%7C123")
    assert detail.json()["data"]["connected"] is True
    await client.close()


async def test_second_connection_replaces_the_first(csms: RunningCsms) -> None:
    await csms.register("CP-DUP")
    first = await RawClient.connect(csms.ocpp_url, "CP-DUP")
    await first.boot()
    second = await RawClient.connect(csms.ocpp_url, "CP-DUP")
    # The old socket is closed by the server...
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(5):
            await first.ws.recv()
    # ...and its late close does not mark the charger offline: the new one is served.
    result = await second.result("Heartbeat", {})
    assert result["currentTime"].endswith("Z")
    detail = (await csms.api().get("/api/v1/charge-points/CP-DUP")).json()["data"]
    assert detail["connected"] is True
    await second.close()


async def test_oversized_frame_closes_with_1009(database: DatabaseSettings) -> None:
    running = await start_csms(make_settings(database, max_frame_bytes=4096))
    try:
        await running.register("CP-BIG")
        client = await RawClient.connect(running.ocpp_url, "CP-BIG")
        await client.boot()
        big = "a" * 8000
        await client.send_raw(f'[2,"big","DataTransfer",{{"vendorId":"x","data":"{big}"}}]')
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                await client.ws.recv()
        assert client.ws.close_code == 1009
    finally:
        await stop_csms(running)


async def test_unknown_charger_may_connect_when_allowed(database: DatabaseSettings) -> None:
    running = await start_csms(make_settings(database, allow_unknown_chargers=True))
    try:
        client = await RawClient.connect(running.ocpp_url, "CP-NEW")
        assert (await client.boot())["status"] == "Accepted"
        detail = await running.api().get("/api/v1/charge-points/CP-NEW")
        assert detail.status_code == 200
        assert detail.json()["data"]["bootInfo"]["vendor"] == "Test"
        await client.close()
    finally:
        await stop_csms(running)
