"""API hardening: /metrics behind a token, request bodies capped before parsing, failed bearer
tokens throttled per client address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from csms.app import CentralSystem
from csms.config import ApiSettings
from csms.domain.models import Role, TokenSource
from tests.conftest import make_settings


@dataclass
class Api:
    app: FastAPI
    viewer: str
    operator: str
    clients: list[httpx.AsyncClient]

    def client(self, token: str | None = None, address: str = "10.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        client = httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)
        self.clients.append(client)
        return client


@asynccontextmanager
async def api_with(tmp_path: Path, **api: Any) -> AsyncIterator[Api]:
    settings = make_settings(tmp_path / "csms.db").model_copy(
        update={"api": ApiSettings(host="127.0.0.1", port=0, **api)}
    )
    system = CentralSystem(settings)
    await system.store.open()
    tokens = system.services.api_tokens
    viewer = (await tokens.create("watcher", Role.VIEWER, source=TokenSource.CLI)).token
    operator = (await tokens.create("ops", Role.OPERATOR, source=TokenSource.CLI)).token
    running = Api(system.api, viewer, operator, [])
    try:
        yield running
    finally:
        for client in running.clients:
            await client.aclose()
        await system.store.close()


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_metrics_need_a_token_unless_public(tmp_path: Path) -> None:
    async with api_with(tmp_path) as api:
        refused = await api.client().get("/metrics")
        assert refused.status_code == 401 and _error(refused)["code"] == "unauthorized"
        wrong = await api.client("not-a-token-at-all").get("/metrics")
        assert wrong.status_code == 401
        allowed = await api.client(api.viewer).get("/metrics")  # any role
        assert allowed.status_code == 200 and "csms_chargers_connected" in allowed.text
        assert (await api.client().get("/health")).status_code == 200  # still open
    async with api_with(tmp_path, public_metrics=True) as api:
        public = await api.client().get("/metrics")
        assert public.status_code == 200 and "csms_chargers_connected" in public.text


async def test_request_bodies_are_capped_before_parsing(tmp_path: Path) -> None:
    async with api_with(tmp_path, max_body_bytes=2048) as api:
        client = api.client(api.operator)
        small = await client.post("/api/v1/id-tags", json={"idTagUid": "TAG-1"})
        assert small.status_code == 201
        # Announced too large (Content-Length): refused before the body is read or parsed.
        big = {"idTagUid": "TAG-2", "label": "x" * 4000}
        declared = await client.post("/api/v1/id-tags", json=big)
        assert declared.status_code == 413
        error = _error(declared)
        assert error["code"] == "payload_too_large" and error["message"]

        # Streamed without a length: counted as it arrives.
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"idTagUid": "TAG-3", "label": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        streamed = await client.post(
            "/api/v1/id-tags", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413 and _error(streamed)["code"] == "payload_too_large"
        listed = (await client.get("/api/v1/id-tags")).json()["data"]["items"]
        assert [tag["idTagUid"] for tag in listed] == ["TAG-1"]


async def test_failed_tokens_are_throttled_per_client_address(tmp_path: Path) -> None:
    async with api_with(
        tmp_path, auth_max_failures=3, auth_failure_window_s=60, auth_lockout_s=30
    ) as api:
        guesses = [
            await api.client(f"guess-{n}-xxxxxxxxxxxx").get("/api/v1/charge-points")
            for n in range(3)
        ]
        assert [r.status_code for r in guesses] == [401, 401, 401]
        # Locked out: the right token too waits, and is told for how long.
        locked = await api.client(api.viewer).get("/api/v1/charge-points")
        assert locked.status_code == 429
        assert _error(locked)["code"] == "too_many_requests"
        assert 0 < int(locked.headers["Retry-After"]) <= 30
        assert (await api.client(api.viewer).get("/metrics")).status_code == 429
        # Another address is not affected.
        other = api.client(api.viewer, "10.0.0.2")
        assert (await other.get("/api/v1/charge-points")).status_code == 200
        # A missing token is not a guess: it never locks an address out.
        for _ in range(5):
            assert (await api.client(address="10.0.0.3").get("/api/v1/sites")).status_code == 401
        ok = await api.client(api.viewer, "10.0.0.3").get("/api/v1/sites")
        assert ok.status_code == 200
