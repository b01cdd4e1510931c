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


async def test_identities_outside_identifier_string_never_get_in(csms: RunningCsms) -> None:
    await csms.register("CP-X")
    for path_identity in ("CP%2FX", "CP-X%00", "CP-X%0A", "CP%20X", "CP-X%C3%A9", "x" * 49):
        with pytest.raises(InvalidStatus) as refused:
            await RawClient.connect(csms.ocpp_url, "CP-X", path_identity=path_identity)
        assert refused.value.response.status_code == 404, path_identity
        assert b"no valid charge point identity" in refused.value.response.body


async def test_newcomers_wait_pending_within_a_cap_and_lose_access_with_the_flag(
    database: DatabaseSettings,
) -> None:
    settings = make_settings(database, allow_unknown_chargers=True, max_unknown_chargers=2)
    running = await start_csms(settings)
    try:
        for cp_id in ("CP-NEW1", "CP-NEW2"):
            client = await RawClient.connect(running.ocpp_url, cp_id)
            assert (await client.boot())["status"] == "Pending"
            await client.close()
        detail = (await running.api().get("/api/v1/charge-points/CP-NEW1")).json()["data"]
        assert detail["autoRegistered"] is True and detail["registrationStatus"] == "Pending"
        assert detail["bootInfo"]["vendor"] == "Test"
        with pytest.raises(InvalidStatus) as over_the_cap:
            await RawClient.connect(running.ocpp_url, "CP-NEW3")
        assert over_the_cap.value.response.status_code == 404
        # The operator decides about one of them.
        answer = {"bootAnswer": "Accepted"}
        patched = await running.api().patch("/api/v1/charge-points/CP-NEW1", json=answer)
        assert patched.json()["data"]["autoRegistered"] is False
    finally:
        await stop_csms(running)
    running = await start_csms(
        settings.model_copy(
            update={"ocpp": settings.ocpp.model_copy(update={"allow_unknown_chargers": False})}
        )
    )
    try:
        client = await RawClient.connect(running.ocpp_url, "CP-NEW1")  # approved: still in
        assert (await client.boot())["status"] == "Accepted"
        await client.close()
        with pytest.raises(InvalidStatus) as undecided:
            await RawClient.connect(running.ocpp_url, "CP-NEW2")
        assert undecided.value.response.status_code == 404
    finally:
        await stop_csms(running)


@pytest.mark.parametrize(
    "change",
    [{"password": "a-brand-new-password"}, {"securityProfile": 1}, {"bootAnswer": "Rejected"}],
    ids=["password", "security profile", "rejected"],
)
async def test_a_change_of_admission_ends_the_live_session(
    csms: RunningCsms, change: dict[str, object]
) -> None:
    await csms.register("CP-LIVE", password="the-first-password")
    client = await RawClient.connect(csms.ocpp_url, "CP-LIVE", password="the-first-password")
    await client.boot()
    patched = await csms.api().patch("/api/v1/charge-points/CP-LIVE", json=change)
    assert patched.status_code == 200, patched.text
    async with asyncio.timeout(5):
        await client.ws.wait_closed()
    assert client.ws.close_code == 1008
    # A change that does not touch admission leaves the session alone.
    await csms.register("CP-STAYS", password="the-first-password")
    other = await RawClient.connect(csms.ocpp_url, "CP-STAYS", password="the-first-password")
    await other.boot()
    await csms.api().patch("/api/v1/charge-points/CP-STAYS", json={"name": "renamed"})
    assert (await other.call("Heartbeat", {}))[0] == 3
    await other.close()
