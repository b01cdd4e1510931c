"""``csms`` as a real process, for tests of what only a process shows: the command line, start-up
failures, signals, and a kill -9 under load."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx

from csms.config import DatabaseSettings

__all__ = [
    "EXAMPLE_CONFIG",
    "database_environment",
    "environment",
    "free_port",
    "run_csms",
    "start_server",
    "wait_healthy",
]

EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "config.example.toml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_environment(database: DatabaseSettings) -> dict[str, str]:
    if database.url is not None:
        return {"CSMS_DATABASE_URL": database.url}
    return {"CSMS_DATABASE_PATH": str(database.path)}


def environment(
    tmp_path: Path,
    ocpp_port: int,
    api_port: int,
    database: DatabaseSettings | None = None,
    **extra: str,
) -> dict[str, str]:
    database = database or DatabaseSettings(path=tmp_path / "cli.db")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CSMS_")},
        "CSMS_OCPP_HOST": "127.0.0.1",
        "CSMS_OCPP_PORT": str(ocpp_port),
        "CSMS_API_PORT": str(api_port),
        **database_environment(database),
        **extra,
    }


async def run_csms(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def start_server(env: dict[str, str]) -> asyncio.subprocess.Process:
    """``csms serve`` with the example config and ``env``, healthy when this returns."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "serve",
        "--config",
        str(EXAMPLE_CONFIG),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{env['CSMS_API_PORT']}", server)
    except BaseException:
        server.kill()
        await server.wait()
        raise
    return server


async def wait_healthy(api: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(30):
        while process.returncode is None:
            try:
                if (await client.get(f"{api}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.1)  # the server is still binding its ports
    raise AssertionError("csms serve exited before it was healthy")
