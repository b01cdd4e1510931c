"""A bare OCPP-J client for tests that must send exact frames (malformed ones too)."""

from __future__ import annotations

import base64
import json
import ssl as ssl_module
import uuid
from collections.abc import Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


def basic_auth(identity: str, password: str | bytes) -> dict[str, str]:
    secret = password if isinstance(password, bytes) else password.encode()
    token = base64.b64encode(identity.encode() + b":" + secret).decode()
    return {"Authorization": f"Basic {token}"}


class RawClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        # CALLs from the server that arrived while ``call`` waited for its own answer.
        self.server_calls: list[list[Any]] = []

    @classmethod
    async def connect(
        cls,
        base_url: str,
        identity: str,
        *,
        password: str | bytes | None = None,
        subprotocols: Sequence[str] = ("ocpp1.6",),
        path_identity: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
    ) -> RawClient:
        headers = basic_auth(identity, password) if password is not None else {}
        ws = await connect(
            f"{base_url}/{path_identity or identity}",
            subprotocols=list(subprotocols),  # type: ignore[arg-type]
            additional_headers=headers,
            open_timeout=5,
            ssl=ssl,
        )
        return cls(ws)

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def recv(self, timeout: float = 5) -> list[Any]:
        import asyncio

        async with asyncio.timeout(timeout):
            frame = await self.ws.recv()
        parsed: list[Any] = json.loads(frame)
        return parsed

    async def call(self, action: str, payload: dict[str, Any], timeout: float = 5) -> list[Any]:
        """Send a CALL; return the whole answer frame (CALLRESULT or CALLERROR)."""
        unique_id = str(uuid.uuid4())
        await self.ws.send(json.dumps([2, unique_id, action, payload]))
        while (answer := await self.recv(timeout))[0] == 2:
            self.server_calls.append(answer)
        assert answer[1] == unique_id, answer
        return answer

    async def result(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = await self.call(action, payload)
        assert answer[0] == 3, answer
        result: dict[str, Any] = answer[2]
        return result

    async def boot(self) -> dict[str, Any]:
        return await self.result(
            "BootNotification", {"chargePointVendor": "Test", "chargePointModel": "Raw"}
        )

    async def close(self) -> None:
        await self.ws.close()
