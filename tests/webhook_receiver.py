"""A real HTTP receiver for webhook tests: a tiny HTTP/1.1 server on 127.0.0.1
(asyncio.start_server) that answers each POST as the test scripts, and checks of both
signatures a delivery carries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from standardwebhooks import Webhook as StandardWebhook

__all__ = ["WAIT", "Receiver", "Request", "check_signatures", "receiving"]

WAIT = 10.0  # the longest any wait here may take; far beyond what a pass needs


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes

    @property
    def event_id(self) -> str:
        event_id: str = orjson.loads(self.body)["id"]
        return event_id


@dataclass
class Receiver:
    """Answers each POST with the next scripted status (then the last one again); ``None``
    never answers (until the test ends)."""

    script: list[int | None]
    requests: list[Request] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    # The bodies received, each event once (its first delivery), in the order they came.
    events: list[dict[str, Any]] = field(default_factory=list)
    _event_ids: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: its requests in turn (HTTP/1.1 keep-alive) until the sender closes
        it, or a ``None`` answer drops it."""
        try:
            for _ in range(100_000):  # bounded; a test sends far fewer on one connection
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self.script[min(len(self.requests), len(self.script) - 1)]
                async with self.arrived:
                    self.requests.append(Request(headers, body))
                    event = orjson.loads(body)
                    if event["id"] not in self._event_ids:
                        self._event_ids.add(event["id"])
                        self.events.append(event)
                    self.arrived.notify_all()
                if status is None:
                    await self.release.wait()
                    return
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def wait_for(self, count: int, timeout: float = WAIT) -> None:
        async with self.arrived:
            await asyncio.wait_for(
                self.arrived.wait_for(lambda: len(self.requests) >= count), timeout
            )

    async def wait_for_events(self, count: int, timeout: float = WAIT) -> None:
        async with self.arrived:
            await asyncio.wait_for(
                self.arrived.wait_for(lambda: len(self.events) >= count), timeout
            )


@asynccontextmanager
async def receiving(*script: int | None) -> AsyncIterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 for as long as the block runs."""
    receiver = Receiver(list(script))
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.close()
        await server.wait_closed()


def check_signatures(secret: str, request: Request) -> None:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-webhook-signature"] == expected
    assert request.headers["webhook-id"] == request.event_id
    assert request.headers["content-type"] == "application/json"
    sent_at = int(request.headers["webhook-timestamp"])
    assert abs(sent_at - datetime.now(UTC).timestamp()) < 60
    assert StandardWebhook(secret).verify(request.body, request.headers) == orjson.loads(
        request.body
    )
