"""Processes of a run: the server under test (ours or the yardstick), the generators, CPU pinning
and /proc sampling (CPU = utime + stime of all threads, RSS = VmRSS)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.loadgen import Spec
from bench.messages import ID_TAG, ID_TOKEN_TYPE

__all__ = [
    "GeneratorGroup",
    "Placement",
    "ServerProc",
    "cpu_seconds",
    "free_port",
    "listen_overflows",
    "placement",
    "raise_nofile",
    "rss_bytes",
    "thread_cpu_seconds",
]

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Placement:
    server_cpus: frozenset[int] | None
    generator_cpus: frozenset[int] | None

    def describe(self) -> str:
        if self.server_cpus is None or self.generator_cpus is None:
            return "not pinned (fewer than 2 CPUs available)"
        return (
            f"server pinned to CPU {sorted(self.server_cpus)}, generators and runner to CPU "
            f"{sorted(self.generator_cpus)} (os.sched_setaffinity)"
        )

    def pin(self, cpus: frozenset[int] | None) -> Callable[[], None] | None:
        if cpus is None:
            return None
        return lambda: os.sched_setaffinity(0, cpus)


def placement() -> Placement:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return Placement(None, None)
    return Placement(frozenset(cpus[:1]), frozenset(cpus[1:]))


def raise_nofile() -> tuple[int, int]:
    """Soft open-file limit up to the hard one (children inherit it); returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """(main thread, all other threads) utime + stime: the event loop vs. worker threads."""
    main = other = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        seconds = (int(fields[11]) + int(fields[12])) / _CLK_TCK
        if task.name == str(pid):
            main += seconds
        else:
            other += seconds
    return main, other


def listen_overflows() -> int:
    """TcpExt ListenOverflows (host-wide): SYNs dropped because an accept queue was full."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0))
    return 0


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def _wait_exit(proc: asyncio.subprocess.Process, timeout: float) -> bool:
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        return False
    return True


class ServerProc:
    """One central system under test on free loopback ports."""

    def __init__(
        self,
        kind: str,
        place: Placement,
        *,
        ping_interval: float,
        profile_to: Path | None = None,
        workdir: Path | None = None,
        database_url: str | None = None,
        identities: Sequence[str] = (),
    ) -> None:
        self.kind = kind  # "ours" | "yardstick"
        self.identities = identities  # ours: registered before it starts
        self.database_url = database_url  # ours: PostgreSQL; None: SQLite at ``db_path``
        self.place = place
        self.ping_interval = ping_interval
        self.profile_to = profile_to
        self.own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
        self.ocpp_port = free_port()
        self.api_port = free_port() if kind == "ours" else 0
        self.token = ""
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = self.workdir / "server.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def db_path(self) -> Path:
        return self.workdir / "bench.db"

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            CSMS_OCPP_HOST="127.0.0.1",
            CSMS_OCPP_PORT=str(self.ocpp_port),
            CSMS_API_HOST="127.0.0.1",
            CSMS_API_PORT=str(self.api_port),
            CSMS_DATABASE_PATH=str(self.db_path),
            CSMS_OCPP_PING_INTERVAL=str(self.ping_interval),
            CSMS_LOG_LEVEL="warning",
            # The load comes from one address, with far more CALLs per charger than a real one
            # sends: the abuse limits would throttle the load itself. The rate limit stays on
            # (its bucket is part of the frame path measured), out of the load's reach.
            CSMS_OCPP_MAX_CONNECTIONS_PER_ADDRESS="0",
            CSMS_OCPP_CALL_RATE_LIMIT="1000000",
            CSMS_OCPP_CALL_RATE_BURST="1000000",
        )
        # Set in the runner's own environment it would silently move a SQLite run elsewhere.
        env.pop("CSMS_DATABASE_URL", None)
        if self.database_url is not None:
            env["CSMS_DATABASE_URL"] = self.database_url
        return env

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def thread_cpu(self) -> tuple[float, float]:
        return thread_cpu_seconds(self.pid)

    def rss(self) -> int:
        return rss_bytes(self.pid)

    async def start(self, ready_timeout: float = 60.0) -> None:
        config = str(ROOT / "config.example.toml")
        if self.kind == "ours":
            await self._create_token(config)
            await self._register_chargers(config)
            cmd = [PYTHON]
            if self.profile_to is not None:
                cmd += ["-m", "cProfile", "-o", str(self.profile_to)]
            cmd += ["-m", "csms", "serve", "--config", config]
        else:
            cmd = [PYTHON, "-m", "bench.yardstick", "--port", str(self.ocpp_port)]
            cmd += ["--ping-interval", str(self.ping_interval)]
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *cmd,
                cwd=str(ROOT),
                env=self._env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=self.place.pin(self.place.server_cpus),
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                break
            if await self._ready():
                if self.kind == "ours":
                    await self._create_id_tag()
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.kind} server did not become ready; see {self.log_path}")

    async def _create_token(self, config: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            PYTHON, "-m", "csms", "token", "create", "--role", "operator", "--config", config,
            cwd=str(ROOT),
            env=self._env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        if proc.returncode != 0:
            raise RuntimeError(f"csms token create failed: {err.decode()}")
        self.token = out.decode().strip().splitlines()[-1]

    async def _register_chargers(self, config: str) -> None:
        """As an operator would: every identity the generators use, no authentication."""
        if not self.identities:
            return
        ids_file = self.workdir / "identities.txt"
        ids_file.write_text("\n".join(self.identities) + "\n", encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            PYTHON, "-m", "csms", "charger", "add", "--ids-file", str(ids_file),
            "--security-profile", "0", "--skip-existing", "--config", config,
            cwd=str(ROOT),
            env=self._env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), 300)
        if proc.returncode != 0:
            raise RuntimeError(f"csms charger add failed: {err.decode()[-2000:]}")

    async def _ready(self) -> bool:
        if self.kind == "ours":
            try:
                async with httpx.AsyncClient(timeout=1.0) as client:
                    response = await client.get(f"{self.api_url}/health")
                return response.status_code == 200
            except httpx.HTTPError:
                return False
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.ocpp_port), 1.0
            )
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    async def _create_id_tag(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.post(
                f"{self.api_url}/api/v1/id-tags",
                json={"idTagUid": ID_TAG, "type": ID_TOKEN_TYPE},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        if response.status_code not in (201, 409):
            raise RuntimeError(
                f"creating the id-tag failed: {response.status_code} {response.text}"
            )

    async def stop(self, *, keep_workdir: bool = False) -> None:
        proc = self.proc
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            if not await _wait_exit(proc, 30):
                proc.kill()
                await _wait_exit(proc, 10)
        self.proc = None
        if self.own_workdir and not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class GeneratorGroup:
    """Several ``bench.loadgen`` processes, pinned to the generator CPUs, driven in step."""

    def __init__(self, specs: list[Spec], place: Placement, workdir: Path) -> None:
        self.specs = specs
        self.place = place
        self.workdir = workdir
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        for i, spec in enumerate(self.specs):
            path = self.workdir / f"gen-{i}.json"
            path.write_bytes(orjson.dumps(asdict(spec)))
            proc = await asyncio.create_subprocess_exec(
                PYTHON, "-m", "bench.loadgen", str(path),
                cwd=str(ROOT),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=None,
                limit=1 << 20,
                preexec_fn=self.place.pin(self.place.generator_cpus),
            )  # fmt: skip
            self.procs.append(proc)

    async def wait_event(self, name: str, timeout: float) -> list[dict[str, Any]]:
        """The next ``name`` event of every generator (a line that is not JSON is skipped)."""

        async def one(proc: asyncio.subprocess.Process) -> dict[str, Any]:
            assert proc.stdout is not None
            for _ in range(1000):
                line = await proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"generator {proc.pid} exited before '{name}'")
                with contextlib.suppress(orjson.JSONDecodeError):
                    event: dict[str, Any] = orjson.loads(line)
                    if event.get("event") == name:
                        return event
            raise RuntimeError(f"generator {proc.pid} never sent '{name}'")

        return list(await asyncio.wait_for(asyncio.gather(*map(one, self.procs)), timeout))

    async def send(self, line: str) -> None:
        for proc in self.procs:
            if proc.stdin is not None and proc.returncode is None:
                with contextlib.suppress(ConnectionError):
                    proc.stdin.write((line + "\n").encode())
                    await proc.stdin.drain()

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None and not await _wait_exit(proc, 30):
                proc.kill()
                await _wait_exit(proc, 10)
