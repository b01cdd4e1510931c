"""``make demo-cluster``: three central-system nodes over one PostgreSQL database and one NATS
server (ADR 013), with the demo's simulated chargers spread over them.

The first node runs in this process (it sets up the demo as ``make demo`` does and prints a
token); the two others are ``csms serve`` processes. Each charger is given the three nodes' URLs
and starts with the one its identity picks, as a load balancer would spread them; stop a node
(``kill -9`` its pid, printed at start) and its chargers move to the others. Every node's API
answers for every charger: try a command on one node for a charger held by another.

    python -m simulators.demo_cluster [--config config.toml] [--database-url URL]
        [--nats-url URL] [--ocpp-port 9001] [--api-port 8081] [--chargers 6] [--ocpp201 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx

from csms.app import CentralSystem
from csms.config import ClusterSettings, DatabaseSettings, Settings, load_settings, mask_password
from csms.domain.models import Role, TokenSource
from csms.log import configure_logging
from simulators.demo import (
    DEMO_PASSWORD,
    DEMO_TAG,
    DEMO_TOKEN_TYPE,
    PREFIX_16,
    PREFIX_201,
    set_up_demo,
)
from simulators.fleet import FleetOptions, run_fleet

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/csms_demo_cluster"
DEFAULT_NATS = "nats://127.0.0.1:4222"
NODES = 3
# Node n (from 0) listens for chargers on OCPP_PORT + n and for operators on API_PORT + n; the
# first runs in this process.
OCPP_PORT, API_PORT = 9001, 8081


async def _ensure_database(url: str) -> None:
    """The demo's database, created on first use (the server's own default database is used to
    create it)."""
    base, _, name = url.rpartition("/")
    try:
        conn = await asyncpg.connect(f"{base}/postgres", timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"error: PostgreSQL unreachable at {mask_password(base)}: {exc}") from exc
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _ports(ocpp_port: int, api_port: int) -> list[tuple[int, int]]:
    return [(ocpp_port + n, api_port + n) for n in range(NODES)]


def _node_settings(
    settings: Settings, database: str, nats: str, ports: tuple[int, int], n: int
) -> Settings:
    ocpp, api = ports
    return settings.model_copy(
        update={
            "ocpp": settings.ocpp.model_copy(update={"host": "127.0.0.1", "port": ocpp}),
            "api": settings.api.model_copy(update={"host": "127.0.0.1", "port": api}),
            "database": DatabaseSettings(url=database),
            "cluster": ClusterSettings(nats_url=nats, node_id=f"demo-node-{n + 1}"),
        }
    )


async def _start_node(
    config: Path | None, database: str, nats: str, ports: tuple[int, int], n: int
) -> asyncio.subprocess.Process:
    ocpp, api = ports
    env = {
        **os.environ,
        "CSMS_OCPP_HOST": "127.0.0.1",
        "CSMS_OCPP_PORT": str(ocpp),
        "CSMS_API_HOST": "127.0.0.1",
        "CSMS_API_PORT": str(api),
        "CSMS_DATABASE_URL": database,
        "CSMS_CLUSTER_NATS_URL": nats,
        "CSMS_CLUSTER_NODE_ID": f"demo-node-{n + 1}",
    }
    args = ["--config", str(config)] if config is not None else []
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "csms", "serve", *args, env=env
    )


async def _healthy(apis: list[str], processes: list[asyncio.subprocess.Process]) -> None:
    """Until every node answers (bounded: 60 s), so the chargers find them all up."""
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if any(p.returncode is not None for p in processes):
                raise SystemExit("error: a node did not start (its output above says why)")
            try:
                answers = [(await client.get(f"{api}/health")).status_code for api in apis]
                if all(status == 200 for status in answers):
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("error: the nodes did not answer within 60 s")


async def _demo(
    config: Path | None,
    database: str,
    nats: str,
    ports: list[tuple[int, int]],
    chargers: int,
    ocpp201: int,
) -> None:
    await _ensure_database(database)
    settings = _node_settings(load_settings(config), database, nats, ports[0], 0)
    configure_logging(settings.log.format, settings.log.level)
    first = CentralSystem(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await first.start()
    others: list[asyncio.subprocess.Process] = []
    try:
        setup = await set_up_demo(first, chargers, ocpp201)
        others = [await _start_node(config, database, nats, ports[n], n) for n in range(1, NODES)]
        await _healthy([f"http://127.0.0.1:{api}" for _, api in ports[1:]], others)
        created = await first.services.api_tokens.create(
            "demo-cluster", Role.OPERATOR, source=TokenSource.CLI
        )
        urls = ",".join(f"ws://127.0.0.1:{ocpp}/ocpp" for ocpp, _ in ports)
        apis = [f"http://127.0.0.1:{api}" for _, api in ports]
        pids = ", ".join(f"demo-node-{n + 2} pid {p.pid}" for n, p in enumerate(others))
        print(
            f"\nthree nodes: APIs {', '.join(apis)}   token: {created.token}\n"
            f"nodes: curl {apis[0]}/health   ({pids}; kill -9 one and watch its chargers move)\n"
            f"which node holds a charger: curl -H 'Authorization: Bearer {created.token}' "
            f"{apis[1]}/api/v1/charge-points/{PREFIX_16}1   (nodeId)\n"
            f"network {setup.network_id}; id-tag {setup.id_tag}\n"
        )
        common = FleetOptions(
            chargers=chargers,
            url=urls,
            prefix=PREFIX_16,
            password=DEMO_PASSWORD,
            id_tag=DEMO_TAG,
            session_seconds=45,
            idle_seconds=10,
            meter_interval=5,
            api_url=apis[0],
            power_w=22080,
            single_phase_every=3,
        )
        v201 = replace(
            common, chargers=ocpp201, prefix=PREFIX_201, ocpp="2.0.1", id_token_type=DEMO_TOKEN_TYPE
        )
        await run_fleet([group for group in (common, v201) if group.chargers > 0], stop)
    finally:
        for process in others:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in others:
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
        await first.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.demo_cluster")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument(
        "--database-url", default=os.environ.get("CSMS_DEMO_DATABASE_URL", DEFAULT_DATABASE)
    )
    parser.add_argument("--nats-url", default=os.environ.get("CSMS_DEMO_NATS_URL", DEFAULT_NATS))
    parser.add_argument("--ocpp-port", type=int, default=OCPP_PORT, help="the first node's")
    parser.add_argument("--api-port", type=int, default=API_PORT, help="the first node's")
    parser.add_argument("--chargers", type=int, default=6, help="OCPP 1.6 chargers")
    parser.add_argument("--ocpp201", type=int, default=3, help="OCPP 2.0.1 charging stations")
    args = parser.parse_args(argv)
    ports = _ports(args.ocpp_port, args.api_port)
    asyncio.run(
        _demo(args.config, args.database_url, args.nats_url, ports, args.chargers, args.ocpp201)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
