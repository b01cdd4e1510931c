"""Shared fixtures: a real central system on 127.0.0.1 (free ports) over a real database.

``database`` is parametrised over both backends: a test that asks for it (or for ``csms``) runs
once on a SQLite file and once on PostgreSQL (tests/databases.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from csms.app import CentralSystem
from csms.config import ApiSettings, DatabaseSettings, OcppSettings, Settings
from csms.domain.models import Role, TokenSource
from tests.databases import PostgresServer, reset_database

os.environ.setdefault("PYTHONASYNCIODEBUG", "1")


def make_settings(database: DatabaseSettings | Path, **ocpp: Any) -> Settings:
    if isinstance(database, Path):
        database = DatabaseSettings(path=database)
    return Settings(
        ocpp=OcppSettings(**{"host": "127.0.0.1", "port": 0, "ping_interval": 0, **ocpp}),
        api=ApiSettings(host="127.0.0.1", port=0),
        database=database,
    )


@dataclass
class RunningCsms:
    """A started central system plus what a test needs to talk to it."""

    settings: Settings
    system: CentralSystem
    operator_token: str
    viewer_token: str
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.system.ocpp_port}/ocpp"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.system.api_port}"

    def api(self, token: str | None = "operator") -> httpx.AsyncClient:
        headers = {}
        if token == "operator":
            headers["Authorization"] = f"Bearer {self.operator_token}"
        elif token == "viewer":
            headers["Authorization"] = f"Bearer {self.viewer_token}"
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        client = httpx.AsyncClient(base_url=self.api_url, headers=headers, timeout=10)
        self.clients.append(client)
        return client

    async def register(self, cp_id: str, password: str | None = None, **extra: Any) -> None:
        body: dict[str, Any] = {"id": cp_id, **extra}
        if password is not None:
            body["password"] = password
        else:
            body.setdefault("securityProfile", 0)  # no password: no authentication, said so
        response = await self.api().post("/api/v1/charge-points", json=body)
        assert response.status_code == 201, response.text

    async def add_id_tag(self, uid: str, **fields: Any) -> None:
        response = await self.api().post("/api/v1/id-tags", json={"idTagUid": uid, **fields})
        assert response.status_code == 201, response.text


async def start_csms(settings: Settings) -> RunningCsms:
    system = CentralSystem(settings)
    await system.start()
    tokens = system.services.api_tokens
    operator = await tokens.create("test-operator", Role.OPERATOR, source=TokenSource.CLI)
    viewer = await tokens.create("test-viewer", Role.VIEWER, source=TokenSource.CLI)
    return RunningCsms(settings, system, operator.token, viewer.token)


async def stop_csms(running: RunningCsms) -> None:
    for client in running.clients:
        await client.aclose()
    await running.system.stop(timeout=5)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.create()
    yield server
    server.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer
) -> DatabaseSettings:
    """Where the central system under test keeps its data: each backend in turn, empty."""
    if request.param == "sqlite":
        return DatabaseSettings(path=tmp_path / "csms.db")
    url = postgres_server.require()
    await reset_database(url)
    return DatabaseSettings(url=url)


@pytest.fixture
async def csms(database: DatabaseSettings) -> AsyncIterator[RunningCsms]:
    running = await start_csms(make_settings(database))
    try:
        yield running
    finally:
        await stop_csms(running)
