"""Nodes of a cluster in this process, on the real PostgreSQL and NATS of this machine: one
empty database and NATS subjects of their own per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from csms.config import ClusterSettings, DatabaseSettings
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.databases import PostgresServer, reset_database

NATS_URL = os.environ.get("CSMS_TEST_NATS", "nats://127.0.0.1:4222")

StartNodes = Callable[..., Awaitable[tuple[RunningCsms, ...]]]


@pytest.fixture
async def start_nodes(postgres_server: PostgresServer) -> AsyncIterator[StartNodes]:
    """``await start_nodes("n1", "n2", node_timeout_s=..., nats_url=...)``: started in order,
    stopped in reverse at the end of the test."""
    url = postgres_server.require()
    await reset_database(url)
    prefix = f"t{uuid.uuid4().hex[:12]}"
    running: list[RunningCsms] = []

    async def start(
        *node_ids: str, node_timeout_s: float = 5.0, nats_url: str = NATS_URL
    ) -> tuple[RunningCsms, ...]:
        started = []
        for node_id in node_ids:
            cluster = ClusterSettings(
                nats_url=nats_url,
                node_id=node_id,
                subject_prefix=prefix,
                heartbeat_interval_s=0.1,
                node_timeout_s=node_timeout_s,
            )
            settings = make_settings(DatabaseSettings(url=url))
            node = await start_csms(settings.model_copy(update={"cluster": cluster}))
            running.append(node)
            started.append(node)
        return tuple(started)

    yield start
    for node in reversed(running):
        await stop_csms(node)


@pytest.fixture
async def two_nodes(start_nodes: StartNodes) -> tuple[RunningCsms, ...]:
    return await start_nodes("n1", "n2")
