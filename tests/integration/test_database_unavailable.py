"""When the database is not there: a clear refusal at start-up, and while running, errors that
never acknowledge anything falsely, then recovery by itself (PostgreSQL, the backend whose
server can go away)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from csms.config import DatabaseSettings
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.databases import PostgresServer, reset_database
from tests.ocpp_client import RawClient
from tests.processes import EXAMPLE_CONFIG, environment, free_port, run_csms


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://csms:s3cret@127.0.0.1:1/csms",  # nothing listens there
        "postgresql://postgres:s3cret@127.0.0.1:5432/no_such_database_here",
    ],
)
async def test_an_unreachable_database_stops_start_up_with_one_clear_line(
    tmp_path: Path, url: str
) -> None:
    env = environment(
        tmp_path, free_port(), free_port(), DatabaseSettings(url=url), CSMS_LOG_LEVEL="error"
    )
    code, _, err = await run_csms(env, "serve", "--config", str(EXAMPLE_CONFIG))
    assert code == 1
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    masked = url.replace(":s3cret@", ":***@")
    assert line.startswith(f"error: cannot reach the database at {masked}: ")
    assert "s3cret" not in err


async def _allow_connections(admin_url: str, database: str, allowed: bool) -> None:
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(
            f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}'
        )
        if not allowed:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                database,
            )
    finally:
        await conn.close()


@pytest.fixture
async def on_postgres(postgres_server: PostgresServer) -> AsyncIterator[RunningCsms]:
    url = postgres_server.require()
    await reset_database(url)
    running = await start_csms(make_settings(DatabaseSettings(url=url)))
    try:
        yield running
    finally:
        await _allow_connections(postgres_server.admin_url, postgres_server.name, True)
        await stop_csms(running)


async def _meter_values(client: RawClient, value: int) -> list[object]:
    sample = {"value": str(value), "measurand": "Energy.Active.Import.Register"}
    return await client.call(
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {"timestamp": f"2026-05-01T10:00:{value:02d}.000Z", "sampledValue": [sample]}
            ],
        },
    )


async def test_while_the_database_is_away_nothing_is_acknowledged_and_it_recovers(
    on_postgres: RunningCsms, postgres_server: PostgresServer
) -> None:
    csms = on_postgres
    await csms.register("CP-PG")
    client = await RawClient.connect(csms.ocpp_url, "CP-PG")
    await client.boot()
    assert (await _meter_values(client, 1))[0] == 3

    await _allow_connections(postgres_server.admin_url, postgres_server.name, False)
    answer = await _meter_values(client, 2)
    assert answer[0] == 4 and answer[2] == "InternalError", answer
    response = await csms.api().get("/api/v1/charge-points/CP-PG")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert "database" in response.json()["error"]["message"]
    # The charger's connection and the gateway carry on.
    assert (await client.call("Heartbeat", {}))[0] == 3

    await _allow_connections(postgres_server.admin_url, postgres_server.name, True)
    # A charger retries what was refused; the writer reconnects at most once a second.
    for _ in range(75):
        answer = await _meter_values(client, 3)
        if answer[0] == 3:
            break
        await asyncio.sleep(0.2)
    assert answer[0] == 3, answer
    for _ in range(75):
        response = await csms.api().get("/api/v1/charge-points/CP-PG")
        if response.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert response.status_code == 200, response.text
    # What was refused was not stored (the charger will send it again); the rest was.
    conn = await asyncpg.connect(postgres_server.url)
    try:
        stored = [r[0] for r in await conn.fetch("SELECT value FROM meter_values ORDER BY at")]
    finally:
        await conn.close()
    assert stored == ["1", "3"]
    await client.close()
