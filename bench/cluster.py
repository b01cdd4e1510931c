"""Two nodes of a cluster (ADR 013) on one PostgreSQL database and the NATS server of this
machine, loaded by the benchmark's own generators:

- **fleet**: ``--chargers`` chargers (half 1.6, half 2.0.1), half on each node, each sending one
  call per second (the steady fleet of ``bench.run``); the round trip's percentiles, calls per
  second, errors, and each node's CPU.
- **commands**: operator actions (``POST .../actions/clear-cache``) sent to node A's API at a
  steady rate, for chargers on node A (local) and then for chargers on node B (through NATS).
  The overhead is the API's latency minus the time the charger took to answer (measured at the
  charger); the cross-node cost is the difference of the two medians. Target: under 5 ms.

    python -m bench.cluster [--chargers 20000] [--window 30] [--quick]
        [--database postgresql://postgres@127.0.0.1:5432/postgres] [--nats nats://127.0.0.1:4222]

Writes bench/results/cluster.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from bench import messages as m
from bench.database import PostgresDatabases
from bench.loadgen import Spec
from bench.procs import GeneratorGroup, Placement, ServerProc, placement, raise_nofile
from bench.run import _load_series, percentiles

RESULTS = Path(__file__).parent / "results" / "cluster.json"
MIXED = [m.V16, m.V201]


class NodeProc(ServerProc):
    """``csms serve`` as one node of the cluster."""

    def __init__(self, *args: Any, node_id: str, nats: str, prefix: str, **kw: Any) -> None:
        super().__init__("ours", *args, **kw)
        self.node_id, self.nats, self.prefix = node_id, nats, prefix

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env.update(
            CSMS_CLUSTER_NATS_URL=self.nats,
            CSMS_CLUSTER_NODE_ID=self.node_id,
            CSMS_CLUSTER_SUBJECT_PREFIX=self.prefix,
        )
        return env


@dataclass(frozen=True)
class Sizes:
    chargers: int = 20_000
    warmup: float = 5.0
    window: float = 30.0
    command_chargers: int = 50
    command_rate: float = 50.0
    command_window: float = 10.0


QUICK = Sizes(chargers=600, warmup=2.0, window=6.0, command_window=5.0)


async def _run(
    specs: list[Spec], place: Placement, workdir: Path, sizes: Sizes, window: float
) -> tuple[list[dict[str, Any]], float]:
    """Connect the generators' chargers, run the window, return their results and its length."""
    gens = GeneratorGroup(specs, place, workdir)
    await gens.start()
    try:
        await gens.wait_event("ready", 120 + sum(s.count for s in specs) / 50)
        t_go = time.monotonic() + 0.5
        t_start, t_end = t_go + sizes.warmup, t_go + sizes.warmup + window
        await gens.send(f"go {t_go} {t_start} {t_end}")
        results = await gens.wait_event("result", window + sizes.warmup + 120)
        await gens.send("quit")
        await gens.wait_event("closed", 120)
    finally:
        await gens.stop()
    return results, window


def _rounded(figures: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else round(v, 2) for k, v in figures.items()}


def _latency(results: list[dict[str, Any]], window: float) -> dict[str, Any]:
    latency = _load_series(results, "latency")
    return {
        **_rounded(percentiles(latency)),
        "calls_per_s": round(sum(r["completed"] for r in results) / window, 1),
        "errors": sum(sum(r["errors"].values()) for r in results),
        "timeouts": sum(r["timeouts"] for r in results),
    }


async def run(sizes: Sizes, database_admin: str, nats: str) -> dict[str, Any]:
    raise_nofile()
    place = placement()
    databases = PostgresDatabases(database_admin)
    url = await databases.create()
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    fleet_ids = [f"FLEET-{n}" for n in range(sizes.chargers)]
    command_ids = [f"CMD-{n}" for n in range(2 * sizes.command_chargers)]
    a = NodeProc(place, ping_interval=0, database_url=url, identities=fleet_ids + command_ids,
                 node_id="bench-a", nats=nats, prefix=prefix)  # fmt: skip
    b = NodeProc(place, ping_interval=0, database_url=url, node_id="bench-b", nats=nats,
                 prefix=prefix)  # fmt: skip
    figures: dict[str, Any] = {"sizes": asdict(sizes)}
    try:
        await a.start()
        await b.start()
        half = sizes.chargers // 2
        fleet = [
            Spec(
                url=node.ocpp_url,
                prefix="FLEET-",
                first=first,
                count=count,
                mode="rate",
                workload="fleet",
                versions=MIXED,
                seed=n + 1,
                series_prefix=str(a.workdir / f"fleet-{n}"),
            )
            for n, (node, first, count) in enumerate(
                ((a, 0, half), (b, half, sizes.chargers - half))
            )
        ]
        cpu0 = (a.cpu(), b.cpu())
        results, window = await _run(fleet, place, a.workdir, sizes, sizes.window)
        cpu1 = (a.cpu(), b.cpu())
        figures["fleet"] = {
            **_latency(results, window),
            "chargers": sizes.chargers,
            # Over the connect phase too: an upper bound of the window's share.
            "node_cpu_s": [round(y - x, 1) for x, y in zip(cpu0, cpu1, strict=True)],
        }
        for label, node, first in (("local", a, 0), ("cross_node", b, sizes.command_chargers)):
            spec = Spec(url=node.ocpp_url, prefix="CMD-", first=first,
                        count=sizes.command_chargers, mode="commands", workload="none",
                        versions=MIXED, api_url=a.api_url, api_token=a.token,
                        command_rate=sizes.command_rate,
                        series_prefix=str(a.workdir / f"cmd-{label}"))  # fmt: skip
            results, window = await _run([spec], place, a.workdir, sizes, sizes.command_window)
            figures[label] = {
                **_latency(results, window),
                "overhead": _rounded(percentiles(_load_series(results, "overhead"))),
            }
        local, cross = (
            figures["local"]["overhead"]["p50_ms"],
            figures["cross_node"]["overhead"]["p50_ms"],
        )
        figures["cross_node_extra_p50_ms"] = (
            None if local is None or cross is None else round(cross - local, 2)
        )
    finally:
        for node in (b, a):
            await node.stop()
        with contextlib.suppress(Exception):
            await databases.drop(url)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="600 chargers, short windows")
    parser.add_argument("--chargers", type=int, default=None)
    parser.add_argument("--window", type=float, default=None)
    parser.add_argument(
        "--database",
        default=os.environ.get(
            "CSMS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--nats", default=os.environ.get("CSMS_BENCH_NATS", "nats://127.0.0.1:4222")
    )
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.chargers is not None:
        sizes = Sizes(**{**asdict(sizes), "chargers": args.chargers})
    if args.window is not None:
        sizes = Sizes(**{**asdict(sizes), "window": args.window})
    figures = asyncio.run(run(sizes, args.database, args.nats))
    figures["load_average"] = os.getloadavg()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    fleet = figures["fleet"]
    print(
        f"fleet: {fleet['chargers']:,} chargers on two nodes, {fleet['calls_per_s']:,} calls/s, "
        f"p50 {fleet['p50_ms']} ms p99 {fleet['p99_ms']} ms, {fleet['errors']} errors, "
        f"{fleet['timeouts']} timeouts; node CPU s {fleet['node_cpu_s']}"
    )
    for label in ("local", "cross_node"):
        o = figures[label]["overhead"]
        print(f"commands {label}: overhead p50 {o['p50_ms']} ms p95 {o['p95_ms']} ms")
    extra = figures["cross_node_extra_p50_ms"]
    verdict = "PASS" if extra is not None and extra < 5 else "FAIL"
    print(f"cross-node command overhead (p50, on top of a local one): {extra} ms  {verdict} (< 5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
