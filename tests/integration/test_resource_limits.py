"""Resource exhaustion on the charger side: what one charger or one address can make the central
system keep or do is bounded, and the answer says so, over real sockets."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidMessage, InvalidStatus

from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.integration.test_v201_messages import BOOT as BOOT_201
from tests.ocpp_client import RawClient, basic_auth

StartCsms = Callable[..., Awaitable[RunningCsms]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[StartCsms]:
    """Starts a central system on a SQLite file with the given [ocpp] settings."""
    started: list[RunningCsms] = []

    async def run(**ocpp: Any) -> RunningCsms:
        running = await start_csms(make_settings(tmp_path / "csms.db", **ocpp))
        started.append(running)
        return running

    try:
        yield run
    finally:
        for running in started:
            await stop_csms(running)


async def _charger(csms: RunningCsms, cp_id: str, version: str = "1.6") -> RawClient:
    await csms.register(cp_id)
    client = await RawClient.connect(csms.ocpp_url, cp_id, subprotocols=[f"ocpp{version}"])
    if version == "1.6":
        await client.boot()
    else:
        await client.result("BootNotification", BOOT_201)
    return client


async def test_unknown_action_names_leave_the_metrics_flat(start: StartCsms) -> None:
    csms = await start(call_rate_limit=0)
    client = await _charger(csms, "CP-NAMES")
    # Sent back to back, answered in order: 2,000 distinct names nobody knows.
    for n in range(2000):
        await client.send_raw(json.dumps([2, f"m{n}", f"Bogus{n}", {}]))
    for n in range(2000):
        answer = await client.recv()
        assert answer[:3] == [4, f"m{n}", "NotImplemented"]
    metrics = (await csms.api(token="viewer").get("/metrics")).text
    frames = [line for line in metrics.splitlines() if line.startswith("csms_ocpp_frames_total{")]
    assert len(frames) < 10, frames
    assert 'csms_ocpp_frames_total{action="unknown",direction="in"} 2000.0' in frames
    assert "Bogus" not in metrics
    await client.close()


async def test_calls_over_the_rate_limit_get_a_generic_error_and_the_connection_stays(
    start: StartCsms,
) -> None:
    csms = await start(call_rate_limit=0.5, call_rate_burst=4)
    client = await _charger(csms, "CP-FAST")  # the BootNotification took one token
    for n in range(6):
        await client.send_raw(json.dumps([2, f"hb{n}", "Heartbeat", {}]))
    answers = [await client.recv() for _ in range(6)]
    assert [a[0] for a in answers] == [3, 3, 3, 4, 4, 4]
    assert [a[1] for a in answers] == [f"hb{n}" for n in range(6)]
    assert answers[3][2] == "GenericError" and "rate" in answers[3][3]
    await asyncio.sleep(2.1)  # a token back (one per 2 s)
    assert (await client.call("Heartbeat", {}))[0] == 3
    await client.close()


@pytest.mark.parametrize(
    ("version", "code"), [("1.6", "FormationViolation"), ("2.0.1", "RpcFrameworkError")]
)
async def test_a_message_id_longer_than_36_characters_is_not_echoed(
    start: StartCsms, version: str, code: str
) -> None:
    csms = await start()
    client = await _charger(csms, f"CP-LONG-{version}", version)
    long_id = "x" * 37
    await client.send_raw(json.dumps([2, long_id, "Heartbeat", {}]))
    answer = await client.recv()
    assert answer[:3] == [4, "-1", code] and "36" in answer[3]
    # Exactly 36 (a UUID) is fine, and the connection goes on.
    uuid_like = "y" * 36
    await client.send_raw(json.dumps([2, uuid_like, "Heartbeat", {}]))
    answer = await client.recv()
    assert answer[:2] == [3, uuid_like]
    params = {"chargePointId": f"CP-LONG-{version}"}
    items = (await csms.api().get("/api/v1/ocpp-messages", params=params)).json()["data"]["items"]
    # Logged as the invalid frame it is, under no id; the answer went out under "-1".
    [invalid] = [m for m in items if m["messageType"] == "Invalid"]
    assert invalid["uniqueId"] is None and invalid["payload"][1] == long_id
    assert any(m["uniqueId"] == "-1" and m["messageType"] == "CallError" for m in items)
    await client.close()


async def test_connections_per_address_are_capped_before_the_handshake(
    start: StartCsms,
) -> None:
    csms = await start(max_connections_per_address=2)
    await csms.register("CP-CAP")
    # Two sockets that never send a request hold the address's two places.
    idle = [socket.create_connection(("127.0.0.1", csms.system.ocpp_port)) for _ in range(2)]
    try:
        await asyncio.sleep(0.05)
        # Closed at accept, before any HTTP: no status to read (or a reset, on some systems).
        with pytest.raises((InvalidMessage, OSError)):
            await RawClient.connect(csms.ocpp_url, "CP-CAP")
        idle.pop().close()
        # Admitted again once the server has seen that socket close.
        for _ in range(100):  # bounded: 5 s
            try:
                client = await RawClient.connect(csms.ocpp_url, "CP-CAP")
                break
            except (InvalidMessage, OSError):
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the address never got its place back")
        await client.boot()
        await client.close()
    finally:
        for sock in idle:
            sock.close()


async def test_password_failures_are_throttled_per_identity_and_per_address(
    start: StartCsms,
) -> None:
    csms = await start(
        auth_max_failures_per_identity=3,
        auth_max_failures_per_address=5,
        auth_lockout_s=60,
    )
    for cp_id in ("CP-T1", "CP-T2", "CP-T3", "CP-GOOD"):
        await csms.register(cp_id, password=f"{cp_id}-password")
    good = await RawClient.connect(csms.ocpp_url, "CP-GOOD", password="CP-GOOD-password")
    await good.close()

    async def status(cp_id: str, password: str) -> int:
        with pytest.raises(InvalidStatus) as refused:
            await RawClient.connect(csms.ocpp_url, cp_id, password=password)
        code: int = refused.value.response.status_code
        return code

    assert [await status("CP-T1", "wrong-password-x") for _ in range(3)] == [401, 401, 401]
    # Locked out: even the right password is refused, before any hashing.
    assert await status("CP-T1", "CP-T1-password") == 429
    assert [await status("CP-T2", "wrong-password-y") for _ in range(2)] == [401, 401]
    # Five failures from this address: every identity from it now waits...
    assert await status("CP-T3", "CP-T3-password") == 429
    # ...except a charger whose password was verified before (no hashing needed).
    again = await RawClient.connect(csms.ocpp_url, "CP-GOOD", password="CP-GOOD-password")
    await again.close()


async def _raw_upgrade(csms: RunningCsms, cp_id: str, password: str) -> tuple[int, dict[str, str]]:
    """A websocket upgrade written by hand: the status and headers exactly as the server sent
    them (a client library may act on Retry-After, or hide it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", csms.system.ocpp_port)
    headers = {
        "Host": f"127.0.0.1:{csms.system.ocpp_port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "ocpp1.6",
        **basic_auth(cp_id, password),
    }
    lines = [f"GET /ocpp/{cp_id} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
        await writer.wait_closed()
    status_line, *header_lines = head.decode("latin-1").strip().split("\r\n")
    received = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        received[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), received


async def test_a_lock_out_answers_429_with_a_truthful_retry_after(start: StartCsms) -> None:
    csms = await start(auth_max_failures_per_identity=2, auth_lockout_s=30)
    await csms.register("CP-WAIT", password="CP-WAIT-password")
    assert [(await _raw_upgrade(csms, "CP-WAIT", "wrong-password-z"))[0] for _ in range(2)] == [
        401,
        401,
    ]
    status, headers = await _raw_upgrade(csms, "CP-WAIT", "CP-WAIT-password")
    assert status == 429
    # Whole seconds, rounded up, from the lock-out just started: 30, or 29 on a slow machine.
    assert headers["retry-after"].isdigit(), headers
    assert 29 <= int(headers["retry-after"]) <= 30
    # A refusal that is no lock-out says nothing about when to come back.
    status, headers = await _raw_upgrade(csms, "CP-NOBODY", "any-password-at-all")
    assert status == 404 and "retry-after" not in headers


async def test_retry_after_is_at_least_one_second(start: StartCsms) -> None:
    # 0.9 s: ceil() gives 1 whenever the second request arrives within the lock-out.
    csms = await start(auth_max_failures_per_identity=1, auth_lockout_s=0.9)
    await csms.register("CP-BRIEF", password="CP-BRIEF-password")
    assert (await _raw_upgrade(csms, "CP-BRIEF", "wrong-password-z"))[0] == 401
    status, headers = await _raw_upgrade(csms, "CP-BRIEF", "CP-BRIEF-password")
    assert status == 429 and headers["retry-after"] == "1"
