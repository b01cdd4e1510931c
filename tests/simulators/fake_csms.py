"""A tiny fake central system speaking plain OCPP-J frames, for simulator tests.

It checks the simulators' wire format rather than our own API: it records
every CALL as raw camelCase JSON, answers from a per-version table and can
misbehave on purpose (drop the link, stay silent, answer a CALLERROR).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeCsms:
    """Answers the charger's CALLs with ``answer(action, payload)`` and records them."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.paths: list[str] = []
        self.auth: list[str | None] = []
        self.subprotocols: list[str | None] = []
        self.drop_on: dict[str, int] = {}  # action -> drop the link instead of answering N times
        self.silent_on: dict[str, int] = {}  # action -> record but never answer N times
        self.errors: dict[str, str] = {}  # action -> CALLERROR code to answer with
        # What reached us, in order: ("answer", uniqueId) for a CALLRESULT/CALLERROR to one of
        # our CALLs, ("closed", path) when a connection ended.
        self.wire: list[tuple[str, str]] = []
        self._changed = asyncio.Condition()
        self._ws: ServerConnection | None = None
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._counter = 0
        self.last_call_id = ""

    def actions(self) -> list[str]:
        return [action for action, _ in self.calls]

    def payloads(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.calls if a == action]

    async def wait_for(self, action: str, count: int = 1, within: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.payloads(action)) >= count)
        return self.payloads(action)[count - 1]

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def send_call(self, action: str, payload: dict[str, Any]) -> Any:
        """Send a CALL; the CALLRESULT payload, or the whole CALLERROR frame."""
        assert self._ws is not None
        self._counter += 1
        uid = f"srv-{self._counter}"
        self.last_call_id = uid
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[uid] = future
        await self._ws.send(json.dumps([2, uid, action, payload]))
        return await asyncio.wait_for(future, 5)

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.paths.append(ws.request.path)
        self.auth.append(ws.request.headers.get("Authorization"))
        self.subprotocols.append(ws.subprotocol)
        self._ws = ws
        try:
            with contextlib.suppress(ConnectionClosed):
                await self._serve(ws)
        finally:
            async with self._changed:
                self.wire.append(("closed", ws.request.path))
                self._changed.notify_all()

    def _take(self, table: dict[str, int], action: str) -> bool:
        if table.get(action, 0) > 0:
            table[action] -= 1
            return True
        return False

    async def _serve(self, ws: ServerConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message[0] in (3, 4):
                self.wire.append(("answer", message[1]))
                future = self._pending.pop(message[1], None)
                if future is not None and not future.done():
                    future.set_result(message[2] if message[0] == 3 else message)
                continue
            _, uid, action, payload = message
            if self._take(self.drop_on, action):
                ws.transport.abort()  # network failure before the answer
                return
            async with self._changed:
                self.calls.append((action, payload))
                self._changed.notify_all()
            if self._take(self.silent_on, action):
                continue
            if action in self.errors:
                await ws.send(json.dumps([4, uid, self.errors[action], "refused", {}]))
                continue
            await ws.send(json.dumps([3, uid, self.answer(action, payload)]))


@contextlib.asynccontextmanager
async def running(fake: FakeCsms, subprotocol: str) -> AsyncIterator[str]:
    """Serve ``fake`` on 127.0.0.1 (a free port); yields the base URL."""
    server: Server = await serve(
        fake.handler, "127.0.0.1", 0, subprotocols=[Subprotocol(subprotocol)]
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/ocpp"
    finally:
        server.close()
        await server.wait_closed()
