"""The benchmark: every scenario against our central system and the yardstick, a table, a JSON file,
PASS/FAIL per target.

    python -m bench.run [--quick]
                        [--scenarios saturation,transactions,fleet,hold,storm,commands,disk]
                        [--database postgresql://user@host:5432/db]
                        [--json bench/results/latest.json] [--profile bench/results/x.prof]

Each case starts a fresh server (ours: config.example.toml with free ports, SQLite in a temporary
directory, or with --database a fresh PostgreSQL database on that server, dropped after the case;
the yardstick: bench/yardstick.py), connects the chargers of one or more generator processes,
then runs a measured window ``[t_start, t_end)`` after a warm-up. Only calls *sent* within the
window count; server CPU (utime+stime) is read from /proc at the window's edges. The disk
scenario also reads the database from the runner (bench/database.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from bench import messages as m
from bench.database import POSTGRES_SCHEMES, DiskProbe, PostgresDatabases, describe_url
from bench.loadgen import Spec
from bench.procs import (
    GeneratorGroup,
    Placement,
    ServerProc,
    listen_overflows,
    placement,
    raise_nofile,
)

__all__ = ["main"]

OURS = "ours"
YARDSTICK = "yardstick"
SCENARIOS = ("saturation", "transactions", "fleet", "hold", "storm", "commands", "disk")
MIXED = [m.V16, m.V201]


@dataclass(frozen=True)
class Sizes:
    sat_chargers: int = 100
    sat_warmup: float = 3.0
    sat_window: float = 15.0
    fleet_chargers: int = 1000
    fleet_warmup: float = 5.0
    fleet_window: float = 30.0
    hold_chargers: int = 10_000
    hold_window: float = 60.0
    hold_max_chargers: int | None = None  # None: the open-file limit allows
    hold_max_window: float = 30.0
    storm_chargers: int = 10_000
    storm_rate: float = 500.0
    storm_pre_register: bool = True
    cmd_chargers: int = 100
    cmd_rate: float = 100.0
    cmd_window: float = 30.0
    disk_chargers: int = 1000
    disk_warmup: float = 5.0
    disk_window: float = 120.0


QUICK = Sizes(
    sat_chargers=100,
    sat_warmup=1.0,
    sat_window=4.0,
    fleet_chargers=300,
    fleet_warmup=2.0,
    fleet_window=6.0,
    hold_chargers=1000,
    hold_window=8.0,
    hold_max_chargers=2000,
    hold_max_window=5.0,
    storm_chargers=1000,
    storm_rate=500.0,
    storm_pre_register=False,
    cmd_chargers=50,
    cmd_rate=100.0,
    cmd_window=5.0,
    disk_chargers=300,
    disk_warmup=2.0,
    disk_window=20.0,
)

# Disk targets (scenario "disk").
WAL_MAX_MB = 64.0
BYTES_PER_CALL_MAX = 600.0
DAY_S = 86_400.0
# The message log settles in the database this long after the last answer (it is written
# behind the answers, in batches every 0.1 s); the window's calls must all be in the end reading.
LOG_SETTLE_S = 1.0


@dataclass
class Case:
    name: str
    scenario: str
    chargers: int
    versions: list[str]
    mode: str
    workload: str
    warmup: float
    window: float
    processes: int = 1
    ping_interval: float = 60.0
    servers: tuple[str, ...] = (OURS, YARDSTICK)
    spec_extra: dict[str, Any] = field(default_factory=dict)
    pre_register: bool = False
    note: str = ""
    disk: bool = False  # measure the database's growth and the SQLite WAL (DiskProbe)


def build_cases(sizes: Sizes, nofile_hard: int) -> dict[str, list[Case]]:
    # The server holds one descriptor per charger plus a few dozen of its own (listeners, SQLite,
    # epoll, pipes); 500 to spare. The generators split the chargers so none nears its own limit.
    hold_max = sizes.hold_max_chargers or max(1000, nofile_hard - 500)
    storm_ramp = sizes.storm_chargers / sizes.storm_rate
    return {
        "saturation": [
            Case(
                f"saturation {v}",
                "saturation",
                sizes.sat_chargers,
                [v],
                "closed",
                "hbmv",
                sizes.sat_warmup,
                sizes.sat_window,
                note="closed loop Heartbeat/MeterValues",
            )
            for v in MIXED
        ],
        "transactions": [
            Case(
                f"transactions {v}",
                "transactions",
                sizes.sat_chargers,
                [v],
                "closed",
                "tx",
                sizes.sat_warmup,
                sizes.sat_window,
                note="Authorize/Start/3xMeterValues/Stop"
                if v == m.V16
                else "Authorize/TransactionEvent Started/3xUpdated/Ended",
            )
            for v in MIXED
        ],
        "fleet": [
            Case(
                "steady fleet",
                "fleet",
                sizes.fleet_chargers,
                MIXED,
                "rate",
                "fleet",
                sizes.fleet_warmup,
                sizes.fleet_window,
                spec_extra={"rate_per_charger": 1.0},
                note=f"{sizes.fleet_chargers} chargers x 1 call/s, half 1.6 half 2.0.1",
            )
        ],
        "hold": [
            Case(
                f"hold {sizes.hold_chargers}",
                "hold",
                sizes.hold_chargers,
                MIXED,
                "rate",
                "realistic",
                5.0,
                sizes.hold_window,
                processes=2,
                spec_extra={"meter_interval": 60.0, "heartbeat_interval": 300.0},
                note="MeterValues/60 s + Heartbeat/300 s each, server ping 60 s",
            ),
            Case(
                f"hold max {hold_max}",
                "hold_max",
                hold_max,
                MIXED,
                "rate",
                "realistic",
                5.0,
                sizes.hold_max_window,
                processes=2,
                spec_extra={"meter_interval": 60.0, "heartbeat_interval": 300.0},
                note=f"open-file limit {nofile_hard}",
            ),
        ],
        "storm": [
            Case(
                f"storm {sizes.storm_chargers}@{sizes.storm_rate:.0f}/s",
                "storm",
                sizes.storm_chargers,
                MIXED,
                "storm",
                "none",
                0.0,
                storm_ramp + 15.0,
                processes=1,
                spec_extra={"storm_rate": sizes.storm_rate, "open_timeout": 10.0},
                pre_register=sizes.storm_pre_register,
                note="connect+BootNotification after a server restart"
                if sizes.storm_pre_register
                else "connect+BootNotification, first connection",
            )
        ],
        "commands": [
            Case(
                "commands",
                "commands",
                sizes.cmd_chargers,
                MIXED,
                "commands",
                "none",
                1.0,
                sizes.cmd_window,
                servers=(OURS,),
                spec_extra={"command_rate": sizes.cmd_rate},
                note=f"POST .../actions/clear-cache at {sizes.cmd_rate:.0f}/s",
            )
        ],
        "disk": [
            Case(
                "disk",
                "disk",
                sizes.disk_chargers,
                MIXED,
                "rate",
                "disk",
                sizes.disk_warmup,
                sizes.disk_window,
                servers=(OURS,),
                spec_extra={"rate_per_charger": 1.0},
                disk=True,
                note=f"{sizes.disk_chargers} chargers x 1 call/s, half 1.6 half 2.0.1; half the "
                "fleet cycle, half transactions back to back at the same rate",
            )
        ],
    }


# --- measuring one case on one server --------------------------------------------------------


def percentiles(values: array[float] | list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)
    n = len(ordered)

    def at(q: float) -> float:
        return ordered[min(n - 1, int(q * n))] * 1000.0

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": ordered[-1] * 1e3}


def _load_series(results: list[dict[str, Any]], name: str) -> array[float]:
    merged = array("d")
    for result in results:
        path = result["series"].get(name)
        if path:
            with open(path, "rb") as fh:
                merged.frombytes(fh.read())
    return merged


def _specs(case: Case, server: ServerProc) -> list[Spec]:
    per = -(-case.chargers // case.processes)
    prefix = f"{case.scenario.upper()}-"
    specs = []
    for i in range(case.processes):
        first = i * per
        count = min(per, case.chargers - first)
        if count <= 0:
            break
        spec = Spec(
            url=server.ocpp_url,
            prefix=prefix,
            first=first,
            count=count,
            mode=case.mode,
            workload=case.workload,
            versions=list(case.versions),
            api_url=server.api_url,
            api_token=server.token,
            series_prefix=str(server.workdir / f"series-{i}"),
            seed=i + 1,
        )
        specs.append(replace(spec, **case.spec_extra))
    return specs


async def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _pre_register(case: Case, server: ServerProc, place: Placement) -> None:
    """Connect and boot every charger once (registering it), then disconnect them."""
    idle = replace(case, mode="idle", processes=2)
    gens = GeneratorGroup(_specs(idle, server), place, server.workdir)
    await gens.start()
    try:
        await gens.wait_event("ready", 120 + case.chargers / 50)
        await gens.send("quit")
        await gens.wait_event("closed", 60)
    finally:
        await gens.stop()


async def run_case(
    case: Case,
    kind: str,
    place: Placement,
    log: Callable[[str], None],
    profile_to: Path | None = None,
    databases: PostgresDatabases | None = None,
) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as cleanup:
        # Exits in reverse: the server stops, then the WAL sampler (it covers the whole life of
        # the server), then the files go, then the PostgreSQL database.
        database_url: str | None = None
        if databases is not None and kind == OURS:
            database_url = await databases.create()
            cleanup.push_async_callback(databases.drop, database_url)
        identities = [f"{case.scenario.upper()}-{n}" for n in range(case.chargers)]  # _specs
        server = ServerProc(
            kind,
            place,
            ping_interval=case.ping_interval,
            profile_to=profile_to,
            database_url=database_url,
            identities=identities,
        )
        workdir = server.workdir
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        probe: DiskProbe | None = None
        if case.disk and kind == OURS:
            probe = DiskProbe(server.db_path, database_url)
            probe.start()
            cleanup.push_async_callback(probe.stop)

        async def stop_server() -> None:
            await server.stop()  # the server of the moment: pre-registering restarts it

        cleanup.push_async_callback(stop_server)
        await server.start()
        if case.pre_register:
            log(f"  pre-registering {case.chargers} chargers, then restarting the server")
            await _pre_register(case, server, place)
            await server.stop(keep_workdir=True)
            server = ServerProc(
                kind,
                place,
                ping_interval=case.ping_interval,
                workdir=workdir,
                database_url=database_url,
                identities=identities,
            )
            await server.start()
        await asyncio.sleep(0.5)
        rss_base = server.rss()
        overflows0 = listen_overflows()
        disk0: tuple[int, int | None] = (0, None)
        disk1 = disk0
        gens = GeneratorGroup(_specs(case, server), place, workdir)
        await gens.start()
        try:
            t_connect = time.monotonic()
            ready = await gens.wait_event("ready", 120 + case.chargers / 50)
            connect_s = time.monotonic() - t_connect
            connected = sum(r["chargers"] for r in ready)
            connect_failures: dict[str, int] = {}
            for r in ready:
                for key, n in r["connect_failures"].items():
                    connect_failures[key] = connect_failures.get(key, 0) + n
            rss_connected = server.rss()
            t_go = time.monotonic() + 0.5
            t_start = t_go + case.warmup
            t_end = t_start + case.window
            await gens.send(f"go {t_go} {t_start} {t_end}")
            await _sleep_until(t_start)
            cpu0, threads0 = server.cpu(), server.thread_cpu()
            if probe is not None:
                disk0 = await probe.in_use()
            await _sleep_until(t_end)
            cpu1, threads1 = server.cpu(), server.thread_cpu()
            rss_end = server.rss()
            results = await gens.wait_event("result", 60)
            rss_after = server.rss()
            if probe is not None:
                # Before "quit": the chargers' disconnections are writes of their own.
                await asyncio.sleep(LOG_SETTLE_S)
                disk1 = await probe.in_use()
            await gens.send("quit")
            closed = await gens.wait_event("closed", 120)
        finally:
            await gens.stop()
        alive = server.proc is not None and server.proc.returncode is None
        measured = _measure(
            case, kind, results, closed,
            window=t_end - t_start, server_cpu=cpu1 - cpu0, rss_base=rss_base,
            rss_connected=rss_connected, rss_end=max(rss_end, rss_after), connected=connected,
            connect_failures=connect_failures, connect_s=connect_s, t_go=t_go,
        )  # fmt: skip
        measured["server_alive"] = alive
        measured["database"] = _backend(database_url) if kind == OURS else "memory"
        window = t_end - t_start
        measured["extra"]["loop_thread_cpu_pct"] = (threads1[0] - threads0[0]) / window * 100
        measured["extra"]["other_threads_cpu_pct"] = (threads1[1] - threads0[1]) / window * 100
        measured["extra"]["listen_overflows"] = listen_overflows() - overflows0
        measured["server_log_tail"] = server.log_tail(5)
    if probe is not None:  # after the server stopped: the WAL sampler has seen all of it
        _add_disk(measured, case, probe, disk0, disk1)
    return measured


def _backend(database_url: str | None) -> str:
    return "sqlite" if database_url is None else "postgresql"


def _add_disk(
    row: dict[str, Any],
    case: Case,
    probe: DiskProbe,
    start: tuple[int, int | None],
    end: tuple[int, int | None],
) -> None:
    """The disk scenario's figures: WAL high-water mark, bytes per acknowledged call, per day."""
    calls = row["calls"]
    per_call = (end[0] - start[0]) / calls if calls else None
    log_start, log_end = start[1], end[1]
    log_per_call = (
        (log_end - log_start) / calls
        if calls and log_start is not None and log_end is not None
        else None
    )
    sqlite = probe.backend == "sqlite"
    calls_per_charger_day = float(case.spec_extra.get("rate_per_charger", 1.0)) * DAY_S
    fleet_calls_day = calls_per_charger_day * case.chargers
    row["wal_max_mb"] = probe.wal_max_bytes / 2**20 if sqlite else None
    row["db_bytes_per_call"] = per_call
    row["extra"]["disk"] = {
        "backend": probe.backend,
        "wal_max_bytes": probe.wal_max_bytes if sqlite else None,
        "wal_samples": probe.wal_samples if sqlite else None,
        "wal_sample_interval_s": probe.interval if sqlite else None,
        "db_bytes_start": start[0],
        "db_bytes_end": end[0],
        "log_bytes_start": log_start,
        "log_bytes_end": log_end,
        "log_bytes_per_call": log_per_call,
        "log_measured_by": (
            ("dbstat" if log_end is not None else "not measured: no dbstat in this SQLite")
            if sqlite
            else "pg_total_relation_size"
        ),
        "calls_per_charger_per_day": calls_per_charger_day,
        "fleet_chargers": case.chargers,
        "fleet_bytes_per_day": per_call * fleet_calls_day if per_call is not None else None,
        "log_bytes_per_retention_day": (
            log_per_call * fleet_calls_day if log_per_call is not None else None
        ),
    }


def _measure(
    case: Case,
    kind: str,
    results: list[dict[str, Any]],
    closed: list[dict[str, Any]],
    *,
    window: float,
    server_cpu: float,
    rss_base: int,
    rss_connected: int,
    rss_end: int,
    connected: int,
    connect_failures: dict[str, int],
    connect_s: float,
    t_go: float,
) -> dict[str, Any]:
    errors: dict[str, int] = {}
    for r in results:
        for key, n in r["errors"].items():
            errors[key] = errors.get(key, 0) + n
        for key, n in r["connect_failures"].items():  # storm: failures happen in the window
            connect_failures[key] = connect_failures.get(key, 0) + n
    completed = sum(r["completed"] for r in results)
    timeouts = sum(r["timeouts"] for r in results)
    gen_cpu = sum(r["generator_cpu_s"] for r in results)
    latency = _load_series(results, "latency")
    extra: dict[str, Any] = {"connect_phase_s": round(connect_s, 2)}
    chargers = max(connected, sum(r["chargers"] for r in results))
    if case.mode == "storm":
        latency = _load_series(results, "connect_boot")
        booted = sum(r["storm"].get("booted", 0) for r in results)
        last = [r["storm"]["last_booted"] for r in results if r["storm"].get("last_booted")]
        completed = booted
        all_booted_s = (max(last) - t_go) if last and booted == case.chargers else None
        extra.update(
            booted=booted,
            ramp_s=case.chargers / float(case.spec_extra["storm_rate"]),
            all_booted_s=all_booted_s,
            last_booted_s=(max(last) - t_go) if last else None,
            unfinished=sum(r["storm"].get("unfinished", 0) for r in results),
        )
        # Storm throughput: boots per second of the time it took to boot them all.
        window = max(last) - t_go if last else window
    lag = _load_series(results, "lag")
    if lag:
        extra["send_lag"] = percentiles(lag)
        extra["late_sends_10ms"] = sum(1 for x in lag if x > 0.010)
    if case.mode == "commands":
        overhead = _load_series(results, "overhead")
        answers = _load_series(results, "charger_answer")
        extra["overhead"] = percentiles(overhead)
        extra["charger_answer"] = percentiles(answers)
    transactions = len(_load_series(results, "transactions"))
    if transactions:
        extra["transactions_per_s"] = transactions / window
    by_action: dict[str, Any] = {}
    for r in results:
        by_action.update(r["by_action"])
    if by_action:
        extra["by_action"] = by_action
    dropped = sum(r["dropped"] for r in results)
    return {
        "case": case.name,
        "scenario": case.scenario,
        "server": kind,
        "note": case.note,
        "chargers": chargers,
        "chargers_wanted": case.chargers,
        "window_s": round(window, 3),
        "calls": completed,
        "calls_per_s": completed / window if window > 0 else None,
        **percentiles(latency),
        "server_cpu_s": server_cpu,
        "cpu_us_per_call": server_cpu / completed * 1e6 if completed else None,
        "cpu_pct_core": server_cpu / window * 100 if window > 0 else None,
        "rss_base_mb": rss_base / 2**20,
        "rss_connected_mb": rss_connected / 2**20,
        "rss_end_mb": rss_end / 2**20,
        "rss_per_conn_kb": (rss_end - rss_base) / 1024 / chargers if chargers else None,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "timeouts": timeouts,
        "connect_failures": connect_failures,
        "handshake_timeouts": connect_failures.get("handshake_timeout", 0),
        "dropped": max(dropped, max((c.get("dropped_before_close", 0) for c in closed), default=0)),
        "gen_cpu_pct": gen_cpu / (window + case.warmup) * 100 if window > 0 else None,
        "extra": extra,
    }


# --- ratios, targets, table ------------------------------------------------------------------

RATIO_FIELDS = (
    "calls_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "cpu_us_per_call",
    "cpu_pct_core",
    "rss_per_conn_kb",
)


def ratios(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    by_case: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_case.setdefault(row["case"], {})[row["server"]] = row
    for case, servers in by_case.items():
        ours, yard = servers.get(OURS), servers.get(YARDSTICK)
        if ours is None:
            continue
        values: dict[str, float | None] = {}
        for key in RATIO_FIELDS:
            a = ours.get(key)
            b = yard.get(key) if yard else None
            values[key] = a / b if isinstance(a, float | int) and b else None
        out[case] = values
    return out


@dataclass
class Target:
    name: str
    passed: bool | None  # None: not measured in this run
    detail: str


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def targets(rows: list[dict[str, Any]], quick: bool) -> list[Target]:
    found: list[Target] = []

    def row(scenario: str, server: str, contains: str = "") -> dict[str, Any] | None:
        for r in rows:
            if r["scenario"] == scenario and r["server"] == server and contains in r["case"]:
                return r
        return None

    for version in MIXED:
        ours, yard = row("saturation", OURS, version), row("saturation", YARDSTICK, version)
        if ours is None:
            continue
        rate, p99 = ours["calls_per_s"] or 0.0, ours["p99_ms"]
        yard_rate = (yard or {}).get("calls_per_s")
        found.append(
            Target(
                f"saturation {version}: >= 10,000 calls/s",
                rate >= 10_000,
                f"{rate:,.0f} calls/s",
            )
        )
        found.append(
            Target(
                f"saturation {version}: >= 3x yardstick",
                None if not yard_rate else rate >= 3 * yard_rate,
                f"{rate / yard_rate:.2f}x" if yard_rate else "yardstick not run",
            )
        )
        found.append(
            Target(
                f"saturation {version}: p99 <= 50 ms",
                p99 is not None and p99 <= 50,
                f"p99 {_fmt(p99, 2)} ms",
            )
        )
    fleet = row("fleet", OURS)
    if fleet is not None:
        p99 = fleet["p99_ms"]
        found.append(
            Target(
                f"steady fleet: p99 <= 5 ms at {fleet['chargers_wanted']:,} calls/s offered",
                p99 is not None and p99 <= 5 and fleet["errors"] + fleet["timeouts"] == 0,
                f"p99 {_fmt(p99, 2)} ms at {fleet['calls_per_s']:,.0f} calls/s, "
                f"{fleet['errors']} errors, {fleet['timeouts']} timeouts",
            )
        )
    hold_max = row("hold_max", OURS)
    if hold_max is not None:
        ok = (
            hold_max["chargers"] == hold_max["chargers_wanted"]
            and hold_max["dropped"] == 0
            and not hold_max["connect_failures"]
        )
        found.append(
            Target(
                "connections up to the open-file limit, none dropped",
                ok,
                f"{hold_max['chargers']:,}/{hold_max['chargers_wanted']:,} connected, "
                f"{hold_max['dropped']} dropped, failures {hold_max['connect_failures'] or 0}",
            )
        )
        per = hold_max["rss_per_conn_kb"]
        found.append(
            Target(
                "<= 25 KB RSS per connection",
                per is not None and per <= 25,
                f"{_fmt(per)} KB at {hold_max['chargers']:,} connections",
            )
        )
    hold = row("hold", OURS)
    if hold is not None:
        pct = hold["cpu_pct_core"]
        found.append(
            Target(
                f"<= 15 % of a core to hold {hold['chargers']:,} chargers",
                pct is not None and pct <= 15 and hold["dropped"] == 0,
                f"{_fmt(pct)} % of a core ({hold['calls_per_s']:,.0f} calls/s + pings), "
                f"{hold['dropped']} dropped",
            )
        )
    storm = row("storm", OURS)
    if storm is not None:
        extra = storm["extra"]
        limit = extra["ramp_s"] + 5
        all_s = extra["all_booted_s"]
        found.append(
            Target(
                f"storm: all {storm['chargers_wanted']:,} booted within ramp + 5 s "
                f"({limit:.0f} s), no handshake timeouts",
                all_s is not None and all_s <= limit and storm["handshake_timeouts"] == 0,
                f"booted {extra['booted']:,}, all in {_fmt(all_s, 1)} s, "
                f"handshake timeouts {storm['handshake_timeouts']}, "
                f"failures {storm['connect_failures'] or 0}",
            )
        )
    commands = row("commands", OURS)
    if commands is not None:
        p50 = commands["extra"]["overhead"]["p50_ms"]
        found.append(
            Target(
                "command overhead p50 <= 2 ms",
                p50 is not None and p50 <= 2 and commands["errors"] + commands["timeouts"] == 0,
                f"p50 {_fmt(p50, 2)} ms, {commands['errors']} errors, "
                f"{commands['timeouts']} timeouts",
            )
        )
    disk = row("disk", OURS)
    if disk is not None:
        wal, per_call = disk["wal_max_mb"], disk["db_bytes_per_call"]
        backend = disk["extra"]["disk"]["backend"]
        found.append(
            Target(
                f"disk: WAL never above {WAL_MAX_MB:.0f} MB",
                None if wal is None else wal <= WAL_MAX_MB,
                f"n/a on {backend} (no SQLite WAL)"
                if wal is None
                else f"max {wal:.1f} MB, sampled every "
                f"{disk['extra']['disk']['wal_sample_interval_s']} s from server start to stop",
            )
        )
        found.append(
            Target(
                f"disk: < {BYTES_PER_CALL_MAX:.0f} bytes of database per acknowledged call",
                per_call is not None and per_call < BYTES_PER_CALL_MAX,
                f"{_fmt(per_call, 0)} bytes/call on {backend} ({disk['calls']:,} calls)",
            )
        )
        p99 = disk["p99_ms"]
        found.append(
            Target(
                f"disk: p99 <= 5 ms at {disk['chargers_wanted']:,} calls/s offered",
                p99 is not None and p99 <= 5 and disk["errors"] + disk["timeouts"] == 0,
                f"p99 {_fmt(p99, 2)} ms at {disk['calls_per_s']:,.0f} calls/s, "
                f"{disk['errors']} errors, {disk['timeouts']} timeouts",
            )
        )
    if quick:
        for target in found:
            target.detail += " [--quick: scaled down]"
    return found


COLUMNS = (
    ("server", "server", 9),
    ("chargers", "conns", 7),
    ("calls_per_s", "calls/s", 9),
    ("p50_ms", "p50 ms", 8),
    ("p95_ms", "p95 ms", 8),
    ("p99_ms", "p99 ms", 8),
    ("max_ms", "max ms", 8),
    ("cpu_us_per_call", "CPU us/call", 11),
    ("cpu_pct_core", "CPU %", 6),
    ("rss_per_conn_kb", "KB/conn", 8),
    ("errors", "err", 5),
    ("timeouts", "t/o", 5),
    ("dropped", "drop", 5),
    ("gen_cpu_pct", "gen CPU%", 8),
)
# Only in the table of a case that measured the disk.
DISK_COLUMNS = (
    ("wal_max_mb", "WAL MB", 7),
    ("db_bytes_per_call", "B/call", 7),
)


def _size(n: float) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,.0f} B"


def _disk_note(r: dict[str, Any]) -> str:
    d = r["extra"]["disk"]
    bits = []
    if d["wal_max_bytes"] is not None:
        bits.append(f"WAL max {_size(d['wal_max_bytes'])} ({d['wal_samples']} samples)")
    per_call = r["db_bytes_per_call"]
    text = (
        f"database in use {_size(d['db_bytes_start'])} -> {_size(d['db_bytes_end'])}, "
        f"{_fmt(per_call, 0)} B per acknowledged call"
    )
    if d["log_bytes_per_call"] is not None:
        text += f" (message log {d['log_bytes_per_call']:,.0f} B, {d['log_measured_by']})"
    else:
        text += f" (message log {d['log_measured_by']})"
    bits.append(text)
    if d["fleet_bytes_per_day"] is not None:
        day = (
            f"{d['fleet_chargers']:,} chargers at {d['calls_per_charger_per_day']:,.0f} calls "
            f"per charger per day need {_size(d['fleet_bytes_per_day'])}/day"
        )
        if d["log_bytes_per_retention_day"] is not None:
            day += (
                f", of which the message log {_size(d['log_bytes_per_retention_day'])} per day "
                "of retention"
            )
        bits.append(day)
    return f"disk ({d['backend']}): " + "; ".join(bits)


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "n/a"
    if key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        return f"{value:.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    return _fmt(value)


def render(
    rows: list[dict[str, Any]],
    ratio: dict[str, dict[str, float | None]],
    found: list[Target],
    header: list[str],
) -> str:
    lines = list(header)
    cases: list[str] = []
    for r in rows:
        if r["case"] not in cases:
            cases.append(r["case"])
    for case in cases:
        case_rows = [r for r in rows if r["case"] == case]
        columns = COLUMNS + (DISK_COLUMNS if any("disk" in r["extra"] for r in case_rows) else ())
        head = " ".join(title.rjust(width) for _, title, width in columns)
        lines.append("")
        lines.append(f"== {case} — {case_rows[0]['note']}")
        lines.append(head)
        for r in case_rows:
            lines.append(" ".join(_cell(r.get(k), k).rjust(w) for k, _, w in columns))
        values = ratio.get(case)
        if values is not None:
            cells = []
            for key, _, width in columns:
                if key == "server":
                    cells.append("ratio".rjust(width))
                elif key in values:
                    v = values[key]
                    cells.append(("n/a" if v is None else f"{v:.2f}x").rjust(width))
                else:
                    cells.append("".rjust(width))
            lines.append(" ".join(cells))
        for r in case_rows:
            extra = r["extra"]
            bits = []
            if "all_booted_s" in extra:
                bits.append(
                    f"booted {extra['booted']:,}/{r['chargers_wanted']:,}; all booted after "
                    f"{_fmt(extra['all_booted_s'])} s (ramp {extra['ramp_s']:.0f} s); last "
                    f"{_fmt(extra['last_booted_s'])} s; latency = connect+boot"
                )
            if "overhead" in extra:
                o, a = extra["overhead"], extra["charger_answer"]
                bits.append(
                    f"overhead (API latency - charger answer) p50/p95/p99 "
                    f"{_fmt(o['p50_ms'], 2)}/{_fmt(o['p95_ms'], 2)}/{_fmt(o['p99_ms'], 2)} ms; "
                    f"charger answer p50/p99 {_fmt(a['p50_ms'], 3)}/{_fmt(a['p99_ms'], 3)} ms"
                )
            if "send_lag" in extra:
                bits.append(
                    f"send lag vs schedule p99 {_fmt(extra['send_lag']['p99_ms'], 2)} ms, "
                    f"{extra['late_sends_10ms']} sends > 10 ms late"
                )
            if "disk" in extra:
                bits.append(_disk_note(r))
            if "transactions_per_s" in extra:
                bits.append(f"{extra['transactions_per_s']:,.0f} transactions/s")
            if extra.get("listen_overflows"):
                bits.append(f"{extra['listen_overflows']} SYNs dropped (accept queue full)")
            if r["connect_failures"]:
                bits.append(f"connect failures {r['connect_failures']}")
            if r["error_kinds"]:
                bits.append(f"errors {dict(list(r['error_kinds'].items())[:4])}")
            bits.append(
                f"CPU event loop {extra['loop_thread_cpu_pct']:.0f} % + other threads "
                f"{extra['other_threads_cpu_pct']:.0f} %"
            )
            bits.append(
                f"RSS {r['rss_base_mb']:.0f} -> {r['rss_end_mb']:.0f} MB; "
                f"connect phase {extra['connect_phase_s']} s"
            )
            if not r.get("server_alive", True):
                bits.append("SERVER DIED")
            lines.append(f"   {r['server']}: " + "; ".join(bits))
    lines.append("")
    lines.append("Targets")
    for target in found:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[target.passed]
        lines.append(f"  {verdict}  {target.name}: {target.detail}")
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


async def amain(args: argparse.Namespace) -> int:
    place = placement()
    if place.generator_cpus is not None:
        os.sched_setaffinity(0, place.generator_cpus)  # the runner stays off the server's CPU
    soft, hard = raise_nofile()
    sizes = QUICK if args.quick else Sizes()
    all_cases = build_cases(sizes, hard)
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        print(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    databases: PostgresDatabases | None = None
    database = "sqlite"
    ours_store = "SQLite (synchronous=FULL) in a temp dir"
    if args.database:
        if not args.database.startswith(POSTGRES_SCHEMES):
            print("--database takes a postgresql:// URL", file=sys.stderr)
            return 2
        databases = PostgresDatabases(args.database)
        try:
            version = await databases.server_version()
        except Exception as exc:  # whatever asyncpg raises, no case could run
            print(f"--database: cannot use {describe_url(args.database)}: {exc!r}", file=sys.stderr)
            return 2
        database = "postgresql"
        ours_store = (
            f"PostgreSQL {version} at {describe_url(args.database).rsplit('/', 1)[0]}, "
            "a fresh database per case"
        )
    started = time.time()
    t0 = time.monotonic()
    rows: list[dict[str, Any]] = []

    def log(text: str) -> None:
        print(f"[{time.monotonic() - t0:6.1f}s] {text}", flush=True)

    log(f"placement: {place.describe()}; open files {soft}/{hard}; ours on {ours_store}")
    if args.profile:  # the first case of the first scenario chosen
        case = all_cases[chosen[0]][0]
        return await _profile(case, place, Path(args.profile), log, databases)
    for scenario in chosen:
        for case in all_cases[scenario]:
            for kind in case.servers:
                log(f"{case.name} on {kind} ...")
                try:
                    row = await run_case(case, kind, place, log, databases=databases)
                except Exception as exc:  # one broken case must not lose the others
                    log(f"  FAILED: {exc!r}")
                    continue
                rows.append(row)
                log(
                    f"  {_fmt(row['calls_per_s'], 0)} calls/s, p99 {_fmt(row['p99_ms'], 2)} ms, "
                    f"CPU {_fmt(row['cpu_pct_core'])} %, {row['chargers']} conns, "
                    f"errors {row['errors']}, timeouts {row['timeouts']}, dropped {row['dropped']}"
                )
                if "disk" in row["extra"]:
                    log(f"  {_disk_note(row)}")
    ratio = ratios(rows)
    found = targets(rows, args.quick)
    header = [
        "",
        f"csms benchmark — {time.strftime('%Y-%m-%d %H:%M:%S')}"
        f"{' (--quick)' if args.quick else ''}, database {database}, "
        f"{time.monotonic() - t0:.0f} s",
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"open files {soft}/{hard}; {place.describe()}",
        f"ours: csms serve, config.example.toml, {ours_store}, "
        "chargers registered beforehand (csms charger add --ids-file); "
        "yardstick: bench/yardstick.py (ocpp library, in memory)",
        "latency = CALL sent (or due, for scheduled calls) -> answer received, at the generator; "
        "CPU = server utime+stime over the window; ratio = ours / yardstick",
    ]
    if databases is not None:
        header.append(
            "PostgreSQL's own processes are neither pinned nor in the CPU columns: they share "
            "both CPUs with the server and the generators"
        )
    table = render(rows, ratio, found, header)
    print(table)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "meta": {
            "started": started,
            "duration_s": time.monotonic() - t0,
            "quick": args.quick,
            "database": database,
            "database_server": ours_store,
            "cpus": os.cpu_count(),
            "placement": place.describe(),
            "nofile": [soft, hard],
            "python": platform.python_version(),
            "sizes": sizes.__dict__,
        },
        "results": rows,
        "ratios": ratio,
        "targets": [t.__dict__ for t in found],
        "table": table,
    }
    await asyncio.to_thread(out.write_bytes, orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"\nJSON: {out}")
    return 0


async def _profile(
    case: Case,
    place: Placement,
    path: Path,
    log: Callable[[str], None],
    databases: PostgresDatabases | None,
) -> int:
    """Run one case on our server under cProfile and print where its time goes."""
    import pstats

    log(f"{case.name} on ours under cProfile -> {path}")
    row = await run_case(case, OURS, place, log, profile_to=path, databases=databases)
    log(f"  {_fmt(row['calls_per_s'], 0)} calls/s under the profiler")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="csms performance benchmark")
    parser.add_argument("--quick", action="store_true", help="every scenario shrunk (~1-2 min)")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated: {','.join(SCENARIOS)}"
    )
    parser.add_argument("--json", default="bench/results/latest.json")
    parser.add_argument(
        "--database",
        default="",
        metavar="URL",
        help="run our server on PostgreSQL: postgresql://user@host:port/db of a server where "
        "that user may create databases; each case gets a fresh one, dropped afterwards "
        "(default: SQLite in each case's temp dir)",
    )
    parser.add_argument(
        "--profile",
        default="",
        metavar="PATH",
        help="run only the first case of the first --scenarios on our server under cProfile "
        "(default: saturation 1.6), write PATH and print the top functions",
    )
    args = parser.parse_args(argv)
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
        Path(args.profile).parent.mkdir(parents=True, exist_ok=True)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
