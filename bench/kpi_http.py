"""The network's KPIs as an operator reads them (python -m bench.kpis): ``GET /api/v1/kpis/...``
of a central system serving the benchmark's store, its clock at the benchmark's now. What
KpiService.report costs plus the body on the way out (25,000 items by connector).

The server runs in a process of its own, as ``csms serve`` would (what it built at start frozen
out of the garbage collector's way, as ``CentralSystem.serve_forever`` does): the benchmark's own
heap would otherwise make every full collection longer than a server's. It prints its API port
and a token (``ready PORT TOKEN``), then serves until its standard input closes.

    python -m bench.kpi_http DATABASE NOW DAYS   (a SQLite file or a PostgreSQL URL)
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import httpx

from csms.app import CentralSystem
from csms.config import ApiSettings, DatabaseSettings, MonitoringSettings, OcppSettings, Settings
from csms.domain.clock import parse_timestamp
from csms.domain.models import Role, TokenSource

__all__ = ["over_http"]

# By connector first: its first request is the server's first read of the week's rows.
_QUERIES = {
    "uptime_by_connector": ("/api/v1/kpis/uptime", {"aggregateByConnector": "true"}),
    "connectivity": ("/api/v1/kpis/connectivity", {}),
    "uptime_any_connector": ("/api/v1/kpis/uptime", {"aggregateByConnector": "false"}),
}
_READY_S = 600.0  # the start's roll-up round, on a slow machine


async def over_http(
    database: Path | str,
    now: datetime,
    days: int,
    network: str,
    runs: int,
    moved: tuple[str, str],
) -> dict[str, object]:
    """Each KPI of ``network`` over the default window (the ``days`` until ``now``), as a client
    on 127.0.0.1 reads it: median and fastest of ``runs`` requests, and how many items; and the
    first request (by connector), the server's first read of the week's rows; and by connector
    the first read after the rows changed (``moved``: a charger put on its own site again, which
    changes what such a read may find, and nothing else).
    ``database``: a SQLite file, or a PostgreSQL URL."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.kpi_http",
        str(database),
        now.isoformat(),
        str(days),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None and server.stdout is not None
    figures: dict[str, object] = {}
    try:
        port, token = await asyncio.wait_for(_ready(server.stdout), _READY_S)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as client:
            for kpi, (url, params) in _QUERIES.items():
                timings = []
                items = 0
                for _ in range(runs):
                    started = time.perf_counter()
                    response = await client.get(url, params={**params, "networkId": network})
                    timings.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                    items = len(response.json()["data"]["items"])
                figures[f"http_{kpi}_ms"] = round(statistics.median(timings), 1)
                figures[f"http_{kpi}_fastest_ms"] = round(min(timings), 1)
                figures[f"http_{kpi}_items"] = items
                figures.setdefault("http_first_ms", round(timings[0], 1))
            cp_id, site = moved
            url, params = _QUERIES["uptime_by_connector"]
            timings = []
            for _ in range(runs):
                changed = await client.patch(
                    f"/api/v1/charge-points/{cp_id}", json={"siteId": site}
                )
                changed.raise_for_status()
                started = time.perf_counter()
                response = await client.get(url, params={**params, "networkId": network})
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            figures["http_changed_ms"] = round(statistics.median(timings), 1)
            figures["http_changed_fastest_ms"] = round(min(timings), 1)
    finally:
        server.stdin.close()
        try:
            await asyncio.wait_for(server.wait(), 30)
        except TimeoutError:
            server.kill()
            await server.wait()
    return figures


async def _ready(out: asyncio.StreamReader) -> tuple[str, str]:
    """The server's port and token, past its log lines (printed on standard output too)."""
    while line := await out.readline():
        if line.startswith(b"ready "):
            _, port, token = line.decode().split()
            return port, token
    raise RuntimeError("the KPI server stopped before it was ready")


async def _serve(database: str, now: datetime, days: int) -> None:
    settings = Settings(
        ocpp=OcppSettings(host="127.0.0.1", port=0, ping_interval=0),
        api=ApiSettings(host="127.0.0.1", port=0),
        database=DatabaseSettings(url=database)
        if database.startswith("postgresql://")
        else DatabaseSettings(path=Path(database)),
        # Only the benchmark's days: the roll-up at start has a day or two to add, not the
        # months since the chargers were registered.
        monitoring=MonitoringSettings(history_retention_days=days + 2),
    )
    system = CentralSystem(settings, clock=lambda: now)
    await system.start()
    try:
        # Closing the connections a stop left open invalidated rows: serve once the start's
        # round (running beside this) and this one find nothing more to write.
        for _ in range(5):
            if await system.services.kpi_rollup.roll_up() == 0:
                break
        token = await system.services.api_tokens.create(
            "bench", Role.OPERATOR, source=TokenSource.CLI
        )
        gc.collect()
        gc.freeze()
        print("ready", system.api_port, token.token, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await system.stop(timeout=10)


def main(argv: Sequence[str] | None = None) -> int:
    db, now, days = argv if argv is not None else sys.argv[1:]
    asyncio.run(_serve(db, parse_timestamp(now), int(days)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
