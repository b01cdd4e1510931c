"""The site tree's read time: ``GET /api/v1/site-tree`` of 10,000 chargers on 500 sites in three
levels, through the real HTTP API of a started central system (target: under 50 ms).

    python -m bench.site_tree [--chargers 10000] [--reads 50] [--database postgresql://...]

The estate is written through the store's repositories before the server starts: one network;
10 regions, 90 cities below them, 400 depots below those (500 sites); the chargers spread over the
depots, two sockets each. Once started, half the chargers are marked connected and one socket in
twenty Faulted through the event bus (the path a real StatusNotification takes), so the counts
are a real mix. Each read is timed from request to the last byte of the answer; the first ones
warm up and are left out. Writes bench/results/site_tree.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.database import POSTGRES_SCHEMES, PostgresDatabases
from csms.app import CentralSystem, open_store
from csms.config import ApiSettings, DatabaseSettings, OcppSettings, Settings
from csms.domain.assets import Network, Site
from csms.domain.models import ConnectorState, Role, TokenSource
from csms.domain.updates import ChargePointChanges

__all__ = ["main"]

TARGET_MS = 50.0
_WARMUP_READS = 5
_NOW = datetime(2026, 1, 1, tzinfo=UTC)
_RESULTS = Path(__file__).parent / "results" / "site_tree.json"


def _estate(chargers: int) -> tuple[list[Site], list[tuple[str, str]]]:
    """500 sites in three levels (10 / 90 / 400) and each charger on a depot."""
    regions = [Site(f"region-{i}", f"Region {i}", "area", _NOW, _NOW, "net") for i in range(10)]
    cities = [
        Site(f"city-{i}", f"City {i}", "area", _NOW, _NOW, None, f"region-{i % 10}")
        for i in range(90)
    ]
    depots = [
        Site(f"depot-{i}", f"Depot {i}", "site", _NOW, _NOW, None, f"city-{i % 90}")
        for i in range(400)
    ]
    placed = [(f"TREE-{n:05d}", f"depot-{n % 400}") for n in range(chargers)]
    return regions + cities + depots, placed


async def _populate(settings: Settings, chargers: int) -> None:
    store = open_store(settings)
    await store.open()
    try:
        await store.sites.add_network(Network("net", "Bench network", _NOW, _NOW))
        sites, placed = _estate(chargers)
        for site in sites:  # parents first: each is checked against those before it
            await store.sites.add_site(site)
        for start in range(0, len(placed), 500):
            chunk = placed[start : start + 500]
            await asyncio.gather(*(_add_charger(store, cp_id, site) for cp_id, site in chunk))
    finally:
        await store.close()


async def _add_charger(store: Any, cp_id: str, site_id: str) -> None:
    await store.chargers.add_charge_point(
        cp_id, name=None, password_hash=None, security_profile=0, site_id=None, created_at=_NOW
    )
    await store.chargers.update_charge_point(cp_id, ChargePointChanges(site_id=site_id))
    for connector_id in (1, 2):
        await store.chargers.record_connector_status(
            cp_id, ConnectorState(connector_id, connector_id, "Available", "NoError", _NOW)
        )


def _liven(system: CentralSystem, chargers: int) -> None:
    """Half the chargers connected, one socket in twenty Faulted, as live events would say."""
    events = system.services.events
    for n in range(0, chargers, 2):
        events.publish("charger.connected", f"TREE-{n:05d}", ocppVersion="1.6")
    for n in range(0, chargers, 10):
        events.publish(
            "connector.status", f"TREE-{n:05d}", evseId=1, connectorId=1, status="Faulted"
        )


async def _read(client: httpx.AsyncClient) -> tuple[float, int, dict[str, Any]]:
    started = time.perf_counter()
    response = await client.get("/api/v1/site-tree")
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, len(response.content), response.json()["data"][0]


async def run(chargers: int, reads: int, database: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        admin = PostgresDatabases(database) if database else None
        url = await admin.create() if admin else None
        db = DatabaseSettings(url=url) if url else DatabaseSettings(path=Path(tmp) / "tree.db")
        settings = Settings(
            ocpp=OcppSettings(host="127.0.0.1", port=0, ping_interval=0),
            api=ApiSettings(host="127.0.0.1", port=0),
            database=db,
        )
        try:
            began = time.perf_counter()
            await _populate(settings, chargers)
            populate_s = time.perf_counter() - began
            system = CentralSystem(settings)
            await system.start()
            try:
                _liven(system, chargers)
                token = await system.services.api_tokens.create(
                    "bench", Role.VIEWER, source=TokenSource.CLI
                )
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{system.api_port}",
                    headers={"Authorization": f"Bearer {token.token}"},
                    timeout=30,
                ) as client:
                    timings: list[float] = []
                    size = 0
                    root: dict[str, Any] = {}
                    for i in range(_WARMUP_READS + reads):
                        elapsed, size, root = await _read(client)
                        if i >= _WARMUP_READS:
                            timings.append(elapsed)
            finally:
                await system.stop()
        finally:
            if admin is not None and url is not None:
                await admin.drop(url)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return {
        "backend": "postgresql" if database else "sqlite",
        "chargers": chargers,
        "sites": 500,
        "reads": reads,
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(timings[-1], 2),
        "bytes": size,
        "counts": [root["onlineSocket"], root["offlineSocket"], root["errorSocket"]],
        "populate_s": round(populate_s, 1),
        "target_ms": TARGET_MS,
        "passed": p95 < TARGET_MS,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.site_tree", description=__doc__)
    parser.add_argument("--chargers", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=50)
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args(argv)
    if args.database and not args.database.startswith(POSTGRES_SCHEMES):
        parser.error("--database takes a postgresql:// URL")
    result = asyncio.run(run(args.chargers, args.reads, args.database))
    verdict = "PASS" if result["passed"] else "FAIL"
    print(
        f"site tree, {result['chargers']:,} chargers on 500 sites ({result['backend']}): "
        f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms, max {result['max_ms']} ms, "
        f"{result['bytes']:,} bytes; counts online/offline/error {result['counts']} "
        f"[{verdict}: p95 < {TARGET_MS:.0f} ms]"
    )
    _RESULTS.parent.mkdir(parents=True, exist_ok=True)
    _RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
