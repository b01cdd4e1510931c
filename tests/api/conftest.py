"""The operator API over real services and a real SQLite store, driven in-process (ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from csms.api.context import ApiContext
from csms.app import CentralSystem
from csms.domain.models import Role, TokenSource
from csms.services.message_log import MessageLog
from csms.store.repositories import Store
from tests.conftest import make_settings

T0 = datetime(2025, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


class StepClock:
    """A clock that moves one second per reading, so records get distinct, known times."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class ApiHarness:
    store: Store
    ctx: ApiContext
    app: FastAPI
    message_log: MessageLog
    clock: StepClock
    operator_token: str
    viewer_token: str
    admin_token: str
    clients: list[httpx.AsyncClient]

    def client(
        self, token: str | None = "operator", *, raise_app_exceptions: bool = True
    ) -> httpx.AsyncClient:
        headers: dict[str, str] = {}
        if token == "operator":
            headers["Authorization"] = f"Bearer {self.operator_token}"
        elif token == "viewer":
            headers["Authorization"] = f"Bearer {self.viewer_token}"
        elif token == "admin":
            headers["Authorization"] = f"Bearer {self.admin_token}"
        elif token is not None:
            headers["Authorization"] = token
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=raise_app_exceptions)
        client = httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)
        self.clients.append(client)
        return client

    async def register(self, cp_id: str, **fields: Any) -> dict[str, Any]:
        if "password" not in fields:
            fields.setdefault("securityProfile", 0)  # no password: no authentication, said so
        response = await self.client().post("/api/v1/charge-points", json={"id": cp_id, **fields})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[ApiHarness]:
    clock = StepClock()
    # The real composition root, without binding any port: the API is driven in-process.
    system = CentralSystem(make_settings(tmp_path / "csms.db"), clock=clock)
    store = system.store
    await store.open()
    ctx: ApiContext = system.api.state.ctx
    message_log = system.services.message_log
    tokens = ctx.api_tokens
    operator = (await tokens.create("ops", Role.OPERATOR, source=TokenSource.CLI)).token
    viewer = (await tokens.create("watcher", Role.VIEWER, source=TokenSource.CLI)).token
    admin = (await tokens.create("boss", Role.ADMIN, source=TokenSource.CLI)).token
    h = ApiHarness(store, ctx, system.api, message_log, clock, operator, viewer, admin, [])
    try:
        yield h
    finally:
        for client in h.clients:
            await client.aclose()
        await ctx.sessions.close_all()
        await ctx.webhooks.stop()  # workers a PATCH woke, before their store closes
        await store.close()


@pytest.fixture
def api(harness: ApiHarness) -> httpx.AsyncClient:
    """An operator's client."""
    return harness.client()
