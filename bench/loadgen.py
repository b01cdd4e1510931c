"""The load generator: many chargers in one asyncio process over raw websockets + orjson.

Run by ``bench.run`` as ``python -m bench.loadgen SPEC.json``; it talks JSON lines on stdout and
reads one-word commands on stdin, so several processes can be driven in step:

    connect + boot every charger   → {"event": "ready", ...}
    stdin "go T_START T_END"       (CLOCK_MONOTONIC seconds, shared by all processes on the host)
    drive the workload until T_END → {"event": "result", ...}  (calls due in the window count)
    stdin "quit"                   → close the connections → {"event": "closed", ...} → exit

One CALL in flight per charger (OCPP-J §4.1.1); a reader task per connection answers the central
system's CALLs at once (``messages.answer_for``) and resolves our pending CALL. Every wait is
bounded (``call_timeout``, ``open_timeout``, the window end, the close deadline).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import resource
import sys
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from bench import messages as m

__all__ = ["Charger", "Recorder", "Spec", "main"]

monotonic = time.monotonic


@dataclass
class Spec:
    """What one generator process does; written as JSON by bench.run."""

    url: str  # ws://127.0.0.1:PORT/ocpp (the identity is appended)
    prefix: str  # identities are PREFIX + index
    first: int  # first index
    count: int
    # "closed" (back-to-back calls), "rate" (scheduled calls), "storm" (connect during the
    # window), "commands" (HTTP operator actions during the window), "idle"
    mode: str
    # "hbmv", "tx", "fleet", "realistic", "disk" (rate: half fleet, half paced transactions)
    # or "none"
    workload: str = "hbmv"
    versions: list[str] = field(default_factory=lambda: [m.V16])  # round-robin per charger
    rate_per_charger: float = 1.0  # "rate" ("fleet", "disk"): calls per second per charger
    meter_interval: float = 60.0  # "realistic"
    heartbeat_interval: float = 300.0  # "realistic"
    storm_rate: float = 500.0  # "storm": connections per second
    connect_concurrency: int = 100  # handshakes in flight while connecting before "ready"
    open_timeout: float = 10.0
    call_timeout: float = 10.0
    api_url: str = ""  # "commands": http://127.0.0.1:PORT
    api_token: str = ""
    command_rate: float = 100.0
    command_path: str = "actions/clear-cache"
    series_prefix: str = ""  # raw latencies go to SERIES_PREFIX.NAME.f64
    seed: int = 1


class Recorder:
    """Latencies (seconds) and failures of calls *sent* within [t_start, t_end)."""

    def __init__(self) -> None:
        self.t_start = float("inf")
        self.t_end = float("-inf")
        self.series: dict[str, array[float]] = {}
        self.by_action: dict[str, array[float]] = {}
        self.errors: Counter[str] = Counter()
        self.timeouts = 0
        self.completed = 0

    def in_window(self, t_sent: float) -> bool:
        return self.t_start <= t_sent < self.t_end

    def add(self, name: str, value: float) -> None:
        series = self.series.get(name)
        if series is None:
            series = self.series[name] = array("d")
        series.append(value)

    def call_done(self, action: str, latency: float) -> None:
        self.completed += 1
        self.add("latency", latency)
        series = self.by_action.get(action)
        if series is None:
            series = self.by_action[action] = array("d")
        series.append(latency)


class CallFailed(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Charger:
    """One charger: its socket, its single pending CALL, and the answers to the server's CALLs."""

    __slots__ = (
        "answer_times",
        "closing",
        "dropped",
        "identity",
        "index",
        "next_id",
        "reader",
        "state",
        "version",
        "waiter",
        "waiting_id",
        "ws",
    )

    def __init__(self, identity: str, index: int, version: str, ws: ClientConnection) -> None:
        self.identity = identity
        self.index = index
        self.version = version
        self.ws = ws
        self.next_id = 0
        self.waiter: asyncio.Future[list[Any]] | None = None
        self.waiting_id = ""
        self.closing = False
        self.dropped = False
        self.answer_times: list[float] = []  # seconds from receiving a server CALL to answering
        self.state: dict[str, Any] = {}  # workload state (transaction ids, meter)
        self.reader: asyncio.Task[None] | None = None

    def start_reader(self) -> None:
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        ws = self.ws
        try:
            while True:
                raw = await ws.recv(decode=False)
                received = monotonic()
                message = orjson.loads(raw)
                kind = message[0]
                if kind == 2:
                    answer = [3, message[1], m.answer_for(message[2])]
                    await ws.send(orjson.dumps(answer), text=True)
                    self.answer_times.append(monotonic() - received)
                elif message[1] == self.waiting_id:
                    waiter = self.waiter
                    if waiter is not None and not waiter.done():
                        waiter.set_result(message)
        except ConnectionClosed:
            pass
        finally:
            if not self.closing:
                self.dropped = True
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                waiter.set_exception(CallFailed("ConnectionClosed"))

    async def call(self, action: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one CALL and wait for its CALLRESULT payload; CallFailed on anything else."""
        if self.dropped:
            raise CallFailed("ConnectionClosed")
        self.next_id += 1
        unique_id = str(self.next_id)
        waiter: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.waiter = waiter
        self.waiting_id = unique_id
        try:
            await self.ws.send(orjson.dumps([2, unique_id, action, payload]), text=True)
        except ConnectionClosed as exc:
            raise CallFailed("ConnectionClosed") from exc
        try:
            async with asyncio.timeout(timeout):
                message = await waiter
        except TimeoutError as exc:
            raise CallFailed("timeout") from exc
        finally:
            self.waiter = None
        if message[0] == 3:
            result: dict[str, Any] = message[2]
            return result
        raise CallFailed(str(message[2]) if len(message) > 2 else "CALLERROR")

    async def timed_call(self, call: m.Call, rec: Recorder, timeout: float, due: float) -> bool:
        """One CALL, recorded when ``due`` (when it should go out) lies in the window.

        Latency runs from the actual send; how late the send was against ``due`` goes to the
        "lag" series (a charger still waiting for its previous answer, or a generator behind).
        """
        action, payload = call
        sent = monotonic()
        try:
            await self.call(action, payload, timeout)
        except CallFailed as exc:
            if rec.in_window(due):
                if exc.code == "timeout":
                    rec.timeouts += 1
                else:
                    rec.errors[f"{action}:{exc.code}"] += 1
            return False
        if rec.in_window(due):
            rec.call_done(action, monotonic() - sent)
            rec.add("lag", sent - due)
        return True

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.ws.close()


# --- workloads -------------------------------------------------------------------------------

CallSource = Callable[[Charger], m.Call]


def _hbmv(ch: Charger) -> m.Call:
    n = ch.state["n"] = ch.state.get("n", 0) + 1
    if n % 2:
        return m.heartbeat(ch.version)
    return m.meter_values(ch.version, 1000.0 + n)


_FLEET_CYCLE: tuple[Callable[[Charger], m.Call], ...] = (
    lambda ch: m.meter_values(ch.version, 1000.0 + ch.state["n"]),
    lambda ch: m.heartbeat(ch.version),
    lambda ch: m.meter_values(ch.version, 1000.0 + ch.state["n"]),
    lambda ch: m.status_notification(ch.version),
)


def _fleet(ch: Charger) -> m.Call:
    n = ch.state["n"] = ch.state.get("n", 0) + 1
    call: m.Call = _FLEET_CYCLE[n % len(_FLEET_CYCLE)](ch)
    return call


def _meter(ch: Charger) -> m.Call:
    n = ch.state["n"] = ch.state.get("n", 0) + 1
    return m.meter_values(ch.version, 1000.0 + n)


def _heartbeat(ch: Charger) -> m.Call:
    return m.heartbeat(ch.version)


# Awaited before each call of a paced transaction; returns when the call was due. Raises
# WindowOver when the next call would be due at or after the window end.
Pace = Callable[[], Awaitable[float]]


class WindowOver(Exception):
    pass


async def _due(pace: Pace | None) -> float:
    return monotonic() if pace is None else await pace()


def pacer(first_due: float, period: float, t_end: float) -> Pace:
    """One call every ``period`` s from ``first_due``. Like ``drive_rate``, a charger that fell
    behind (a slow answer, a timeout) sends back to back until it is on schedule again, so the
    offered rate holds and the delay shows in the "lag" series."""
    next_due = first_due

    async def pace() -> float:
        nonlocal next_due
        due = next_due
        if due >= t_end:
            raise WindowOver
        next_due += period
        delay = due - monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        return due

    return pace


async def _transaction_16(
    ch: Charger, rec: Recorder, spec: Spec, t_end: float, pace: Pace | None = None
) -> bool:
    """Authorize, StartTransaction, 3 MeterValues, StopTransaction (1.6); back to back unless
    ``pace`` spaces the calls."""
    timeout = spec.call_timeout
    t0 = await _due(pace)
    if not await ch.timed_call(m.authorize(m.V16), rec, timeout, t0):
        return False
    meter = 0
    # Each payload is built once its call is due: its timestamps are those of the send.
    t0 = await _due(pace)
    action, payload = m.start_transaction_16(meter)
    sent = monotonic()
    try:
        answer = await ch.call(action, payload, timeout)
    except CallFailed as exc:
        if rec.in_window(t0):
            rec.errors[f"{action}:{exc.code}"] += 1
        return False
    if rec.in_window(t0):
        rec.call_done(action, monotonic() - sent)
        if pace is not None:  # closed mode has no schedule to be late against
            rec.add("lag", sent - t0)
    transaction_id = int(answer["transactionId"])
    for _ in range(3):
        meter += 250
        due = await _due(pace)
        ok = await ch.timed_call(m.meter_values(m.V16, meter, transaction_id), rec, timeout, due)
        if not ok:
            return False
    due = await _due(pace)
    ok = await ch.timed_call(m.stop_transaction_16(transaction_id, meter + 250), rec, timeout, due)
    if ok and rec.in_window(t0):
        rec.add("transactions", 1.0)
    return ok


async def _transaction_201(
    ch: Charger, rec: Recorder, spec: Spec, t_end: float, pace: Pace | None = None
) -> bool:
    """Authorize, TransactionEvent Started, 3 Updated, Ended (2.0.1); back to back unless
    ``pace`` spaces the calls."""
    timeout = spec.call_timeout
    t_first = await _due(pace)
    if not await ch.timed_call(m.authorize(m.V201), rec, timeout, t_first):
        return False
    transaction_id = m.new_transaction_id()
    meter = 0.0
    events = ["Started", "Updated", "Updated", "Updated", "Ended"]
    for seq_no, event_type in enumerate(events):
        due = await _due(pace)
        call = m.transaction_event_201(event_type, transaction_id, seq_no, meter)
        if not await ch.timed_call(call, rec, timeout, due):
            return False
        meter += 250.0
    if rec.in_window(t_first):
        rec.add("transactions", 1.0)
    return True


async def drive_closed(ch: Charger, rec: Recorder, spec: Spec, t_end: float) -> None:
    """Back-to-back calls until the window ends (a failed call is retried after a pause)."""
    if spec.workload == "tx":
        step = _transaction_16 if ch.version == m.V16 else _transaction_201
        while monotonic() < t_end:
            if not await step(ch, rec, spec, t_end):
                if ch.dropped:
                    return
                await asyncio.sleep(0.1)
        return
    source = _hbmv
    while monotonic() < t_end:
        if not await ch.timed_call(source(ch), rec, spec.call_timeout, monotonic()):
            if ch.dropped:
                return
            await asyncio.sleep(0.1)


async def drive_paced_transactions(
    ch: Charger, rec: Recorder, spec: Spec, t_go: float, t_end: float, rng: random.Random
) -> None:
    """Transactions back to back at ``rate_per_charger`` calls/s (a random phase per charger).
    A failed transaction is abandoned and the next one starts at the next slot, as a charger
    would start a new session; the schedule is the only pause."""
    period = 1.0 / spec.rate_per_charger
    pace = pacer(t_go + rng.random() * period, period, t_end)
    step = _transaction_16 if ch.version == m.V16 else _transaction_201
    with contextlib.suppress(WindowOver):
        while not ch.dropped:
            await step(ch, rec, spec, t_end, pace)


async def drive_rate(
    ch: Charger,
    rec: Recorder,
    spec: Spec,
    t_go: float,
    t_end: float,
    streams: list[tuple[float, CallSource]],
    rng: random.Random,
) -> None:
    """Calls at fixed periods (a random phase per stream). Latency counts from the send; a send
    later than due (the previous answer still awaited) shows up in the "lag" series."""
    due = [t_go + rng.random() * period for period, _ in streams]
    while not ch.dropped:
        i = min(range(len(due)), key=due.__getitem__)
        when = due[i]
        if when >= t_end:
            return
        delay = when - monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        period, source = streams[i]
        await ch.timed_call(source(ch), rec, spec.call_timeout, when)
        due[i] += period


# --- the process ---------------------------------------------------------------------------


def _emit(event: str, **fields: Any) -> None:
    sys.stdout.write(orjson.dumps({"event": event, **fields}).decode() + "\n")
    sys.stdout.flush()


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Generator:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.chargers: list[Charger] = []
        self.connect_failures: Counter[str] = Counter()
        self.rec = Recorder()
        self.rng = random.Random(spec.seed)
        self.storm: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def _version(self, index: int) -> str:
        versions = self.spec.versions
        return versions[index % len(versions)]

    async def open_one(self, index: int) -> Charger | None:
        """Connect and boot charger ``index``; None (failure counted) if either fails."""
        spec = self.spec
        version = self._version(index)
        identity = f"{spec.prefix}{index}"
        try:
            ws = await connect(
                f"{spec.url}/{identity}",
                subprotocols=[Subprotocol(m.SUBPROTOCOL[version])],
                compression=None,
                open_timeout=spec.open_timeout,
                ping_interval=None,  # the central system pings; the client only answers
                close_timeout=5,
                max_queue=4,
            )
        except TimeoutError:
            self.connect_failures["handshake_timeout"] += 1
            return None
        except InvalidStatus as exc:
            self.connect_failures[f"http_{exc.response.status_code}"] += 1
            return None
        except (OSError, InvalidHandshake) as exc:
            self.connect_failures[type(exc).__name__] += 1
            return None
        ch = Charger(identity, index, version, ws)
        ch.start_reader()
        action, payload = m.boot(version)
        try:
            answer = await ch.call(action, payload, spec.call_timeout)
        except CallFailed as exc:
            self.connect_failures[f"boot_{exc.code}"] += 1
            await ch.close()
            return None
        if answer.get("status") != "Accepted":
            self.connect_failures[f"boot_{answer.get('status')}"] += 1
            await ch.close()
            return None
        return ch

    async def connect_all(self) -> None:
        gate = asyncio.Semaphore(self.spec.connect_concurrency)

        async def one(index: int) -> None:
            async with gate:
                ch = await self.open_one(index)
            if ch is not None:
                self.chargers.append(ch)

        first = self.spec.first
        async with asyncio.TaskGroup() as group:
            for index in range(first, first + self.spec.count):
                group.create_task(one(index))

    async def run_storm(self, t_go: float, t_end: float) -> None:
        """Connect at ``storm_rate``/s from t_go; record when each charger is booted."""
        spec = self.spec
        booted_at: list[float] = []
        handshake = array("d")

        async def one(i: int, due: float) -> None:
            delay = due - monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            started = monotonic()
            ch = await self.open_one(spec.first + i)
            if ch is None:
                return
            done = monotonic()
            handshake.append(done - started)
            booted_at.append(done)
            self.chargers.append(ch)

        tasks = [asyncio.create_task(one(i, t_go + i / spec.storm_rate)) for i in range(spec.count)]
        # Each task ends within its due time + open_timeout + call_timeout; t_end bounds the rest.
        _, pending = await asyncio.wait(tasks, timeout=max(0.0, t_end - monotonic()))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        self.rec.series["connect_boot"] = handshake
        self.storm = {
            "booted": len(booted_at),
            "unfinished": len(pending),
            "last_booted": max(booted_at) if booted_at else None,
        }

    async def run_commands(self, t_go: float, t_end: float) -> None:
        """Operator actions through the HTTP API at ``command_rate``/s, round-robin."""
        import httpx  # only this mode needs it

        spec, rec = self.spec, self.rec
        by_identity = {ch.identity: ch for ch in self.chargers}
        identities = sorted(by_identity)
        headers = {"Authorization": f"Bearer {spec.api_token}"}
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        in_flight: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(
            base_url=spec.api_url, headers=headers, limits=limits, timeout=spec.call_timeout
        ) as client:

            async def one(identity: str, due: float) -> None:
                ch = by_identity[identity]
                answers_before = len(ch.answer_times)
                counted = rec.in_window(due)
                sent = monotonic()
                try:
                    response = await client.post(
                        f"/api/v1/charge-points/{identity}/{spec.command_path}", json={}
                    )
                except httpx.TimeoutException:
                    rec.timeouts += counted
                    return
                except httpx.HTTPError as exc:
                    rec.errors[type(exc).__name__] += counted
                    return
                latency = monotonic() - sent
                if not counted:
                    return
                rec.add("lag", sent - due)
                if response.status_code != 200:
                    rec.errors[f"http_{response.status_code}"] += 1
                    return
                status = response.json()["data"]["status"]
                rec.completed += 1
                rec.add("latency", latency)
                if len(ch.answer_times) > answers_before:
                    answer = ch.answer_times[-1]
                    rec.add("charger_answer", answer)
                    rec.add("overhead", latency - answer)
                if status != "Accepted":
                    rec.errors[f"status_{status}"] += 1

            n = 0
            while True:
                due = t_go + n / spec.command_rate
                if due >= t_end:
                    break
                delay = due - monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(one(identities[n % len(identities)], due))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                n += 1
            if in_flight:
                _, pending = await asyncio.wait(set(in_flight), timeout=spec.call_timeout + 1)
                for task in pending:
                    task.cancel()

    async def run_load(self, t_go: float, t_end: float) -> None:
        spec = self.spec
        if spec.mode == "closed":
            coros: list[Awaitable[None]] = [
                drive_closed(ch, self.rec, spec, t_end) for ch in self.chargers
            ]
        elif spec.mode == "rate":
            if spec.workload == "realistic":
                streams: list[tuple[float, CallSource]] = [
                    (spec.meter_interval, _meter),
                    (spec.heartbeat_interval, _heartbeat),
                ]
            else:
                streams = [(1.0 / spec.rate_per_charger, _fleet)]
            coros = []
            for ch in self.chargers:
                # index // 2: versions alternate by index % 2, so both versions split in half.
                if spec.workload == "disk" and ch.index // 2 % 2:
                    coros.append(
                        drive_paced_transactions(ch, self.rec, spec, t_go, t_end, self.rng)
                    )
                else:
                    coros.append(drive_rate(ch, self.rec, spec, t_go, t_end, streams, self.rng))
        elif spec.mode == "storm":
            coros = [self.run_storm(t_go, t_end)]
        elif spec.mode == "commands":
            coros = [self.run_commands(t_go, t_end)]
        else:
            coros = [asyncio.sleep(max(0.0, t_end - monotonic()))]
        tasks = [asyncio.ensure_future(c) for c in coros]
        # Closed-loop calls end by t_end + call_timeout; give them that, then cancel.
        _, pending = await asyncio.wait(
            tasks, timeout=max(0.0, t_end - monotonic()) + spec.call_timeout + 2
        )
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)

    def write_series(self) -> dict[str, str]:
        paths: dict[str, str] = {}
        if not self.spec.series_prefix:
            return paths
        for name, values in self.rec.series.items():
            path = Path(f"{self.spec.series_prefix}.{name}.f64")
            with path.open("wb") as fh:
                values.tofile(fh)
            paths[name] = str(path)
        return paths

    def result(self, cpu_seconds: float) -> dict[str, Any]:
        rec = self.rec
        by_action = {}
        for action, values in rec.by_action.items():
            ordered = sorted(values)
            by_action[action] = {
                "count": len(ordered),
                "p50_ms": ordered[len(ordered) // 2] * 1000,
                "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
            }
        return {
            "completed": rec.completed,
            "errors": dict(rec.errors),
            "timeouts": rec.timeouts,
            "by_action": by_action,
            "series": self.write_series(),
            "chargers": len(self.chargers),
            "dropped": sum(ch.dropped for ch in self.chargers),
            "connect_failures": dict(self.connect_failures),
            "storm": self.storm,
            "generator_cpu_s": cpu_seconds,
        }

    async def close_all(self, timeout: float) -> None:
        for ch in self.chargers:
            ch.closing = True
        tasks = [asyncio.create_task(ch.close()) for ch in self.chargers]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def _read_command(reader: asyncio.StreamReader, timeout: float) -> list[str]:
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError:
        return ["quit"]
    return line.decode().split() or ["quit"]


async def amain(spec: Spec) -> None:
    raise_nofile()
    gen = Generator(spec)
    commands = await _stdin_lines()
    if spec.mode != "storm":
        await gen.connect_all()
    _emit(
        "ready",
        chargers=len(gen.chargers),
        connect_failures=dict(gen.connect_failures),
        pid=os.getpid(),
    )
    # The connections are long-lived: keep the collector from walking them during the window
    # (a full collection over 10,000 connections pauses the loop for a visible time).
    gc.collect()
    gc.freeze()
    gc.disable()
    command = await _read_command(commands, 600)
    if command[0] == "go":
        t_go, t_start, t_end = (float(x) for x in command[1:4])
        gen.rec.t_start, gen.rec.t_end = t_start, t_end
        cpu0 = _cpu_seconds()
        await gen.run_load(t_go, t_end)
        _emit("result", **gen.result(_cpu_seconds() - cpu0))
        await _read_command(commands, 900)  # "quit" (or EOF / timeout)
    dropped = sum(ch.dropped for ch in gen.chargers)
    await gen.close_all(timeout=15)
    _emit("closed", dropped_before_close=dropped)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="JSON file with the Spec fields")
    args = parser.parse_args(argv)
    spec = Spec(**orjson.loads(args.spec.read_bytes()))
    asyncio.run(amain(spec))
    sys.stdout.flush()
    os._exit(0)  # do not wait for lingering sockets at interpreter teardown


if __name__ == "__main__":
    main()
