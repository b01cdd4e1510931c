"""Half-open links: a peer that stops answering pings is closed by the server."""

from __future__ import annotations

import asyncio
import base64
import os

from csms.config import DatabaseSettings
from tests.conftest import make_settings, start_csms, stop_csms


async def test_a_charger_that_never_answers_pings_is_disconnected(
    database: DatabaseSettings,
) -> None:
    running = await start_csms(make_settings(database, ping_interval=0.2, ping_timeout=0.3))
    try:
        await running.register("CP-SILENT")
        events = running.system.services.events
        # A raw socket: it completes the handshake and then never answers anything, pings
        # included, like a charger behind a dead mobile link.
        async with events.subscribe("CP-SILENT") as subscription:
            reader, writer = await asyncio.open_connection("127.0.0.1", running.system.ocpp_port)
            await _silent_handshake(reader, writer)
            async with asyncio.timeout(10):
                assert (await subscription.get()).type == "charger.connected"
                # Pings arrive and go unanswered until the server gives up: its close frame
                # (opcode 0x8) carries 1011, and it then half-closes the TCP connection.
                received = b""
                while chunk := await reader.read(1024):
                    received += chunk
                assert b"\x88" in received and (1011).to_bytes(2, "big") in received
                writer.close()
                await writer.wait_closed()
                assert (await subscription.get()).type == "charger.disconnected"
        detail = (await running.api().get("/api/v1/charge-points/CP-SILENT")).json()["data"]
        assert detail["connected"] is False
    finally:
        await stop_csms(running)


async def _silent_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /ocpp/CP-SILENT HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status_line = await reader.readline()
    assert b" 101 " in status_line
