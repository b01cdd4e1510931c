"""Two nodes of a cluster (ADR 013) on one PostgreSQL database and the NATS server of this
machine, loaded by the benchmark's own generators:

- **hold**: ``--chargers`` chargers (half 1.6, half 2.0.1), half on each node, each as a real
  charger sends (MeterValues every 60 s, Heartbeat every 300 s; ``bench.run``'s hold): the
  round trip's percentiles, calls per second, errors, each node's CPU.
- **fleet**: 1,000 chargers, half on each node, one call per second each (``bench.run``'s steady
  fleet), for the per-call figures under a sustained rate.
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
from bench.procs import GeneratorGroup, Placement, ServerProc, raise_nofile
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
    chargers: int = 20_000  # hold
    warmup: float = 5.0
    window: float = 30.0
    fleet_chargers: int = 1000
    command_chargers: int = 50
    command_rate: float = 50.0
    command_window: float = 10.0


QUICK = Sizes(chargers=2000, warmup=2.0, window=6.0, fleet_chargers=300, command_window=5.0)


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
    # Not pinned: two nodes, their generators and PostgreSQL share this machine's cores, and
    # a node's loop waiting for a core behind the other node's would be measured as the
    # cluster's cost. The OS schedules them as it would on a shared host.
    place = Placement(None, None)
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
        for phase, count, extra in (
            ("hold", sizes.chargers, {"workload": "realistic", "meter_interval": 60.0,
                                      "heartbeat_interval": 300.0}),
            ("fleet", sizes.fleet_chargers, {"workload": "fleet"}),
        ):  # fmt: skip
            half = count // 2
            specs = [
                Spec(url=node.ocpp_url, prefix="FLEET-", first=first, count=n, mode="rate",
                     versions=MIXED, seed=k + 1, series_prefix=str(a.workdir / f"{phase}-{k}"),
                     **extra)
                for k, (node, first, n) in enumerate(((a, 0, half), (b, half, count - half)))
            ]  # fmt: skip
            cpu0 = (a.cpu(), b.cpu())
            results, window = await _run(specs, place, a.workdir, sizes, sizes.window)
            cpu1 = (a.cpu(), b.cpu())
            figures[phase] = {
                **_latency(results, window),
                "chargers": count,
                # Over the connect phase too: an upper bound of the window's share.
                "node_cpu_s": [round(y - x, 1) for x, y in zip(cpu0, cpu1, strict=True)],
            }
        # Both kinds in the same window, each at half the rate, so that whatever else the
        # machine does weighs on both alike: actions to node A's API for chargers on node A
        # (local) and for chargers on node B (through NATS).
        labels = (("local", a, 0), ("cross_node", b, sizes.command_chargers))
        specs = [
            Spec(url=node.ocpp_url, prefix="CMD-", first=first, count=sizes.command_chargers,
                 mode="commands", workload="none", versions=MIXED, api_url=a.api_url,
                 api_token=a.token, command_rate=sizes.command_rate / 2,
                 series_prefix=str(a.workdir / f"cmd-{label}"))
            for label, node, first in labels
        ]  # fmt: skip
        results, window = await _run(specs, place, a.workdir, sizes, sizes.command_window)
        for (label, _, _), result in zip(labels, results, strict=True):
            figures[label] = {
                **_latency([result], window),
                "overhead": _rounded(percentiles(_load_series([result], "overhead"))),
            }
        local, cross = (
            figures["local"]["overhead"]["p50_ms"],
            figures["cross_node"]["overhead"]["p50_ms"],
        )
        figures["cross_node_extra_p50_ms"] = (
            None if local is None or cross is None else round(cross - local, 2)
        )
    finally:
        figures["node_log_tails"] = {n.node_id: n.log_tail(8) for n in (a, b)}
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
    for phase in ("hold", "fleet"):
        f = figures[phase]
        print(
            f"{phase}: {f['chargers']:,} chargers on two nodes, {f['calls_per_s']:,} calls/s, "
            f"p50 {f['p50_ms']} ms p99 {f['p99_ms']} ms, {f['errors']} errors, "
            f"{f['timeouts']} timeouts; node CPU s {f['node_cpu_s']}"
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
