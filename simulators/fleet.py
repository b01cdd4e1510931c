"""Run N simulated chargers until a deadline or a signal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass

import structlog

from simulators.v16 import ChargePoint16Simulator

# Spreading connects avoids a thundering herd on the CSMS at start-up.
START_STAGGER_SECONDS = 0.05

log = structlog.get_logger("simulators.fleet")


@dataclass(frozen=True)
class FleetOptions:
    chargers: int
    url: str
    prefix: str = "SIM-"
    password: str | None = None
    connectors: int = 2
    meter_interval: float = 5.0
    session_seconds: float = 60.0
    idle_seconds: float = 10.0
    id_tag: str = "SIM-TAG"
    power_w: float = 11000.0
    duration: float | None = None


def build_fleet(options: FleetOptions) -> list[ChargePoint16Simulator]:
    return [
        ChargePoint16Simulator(
            identity=f"{options.prefix}{i}",
            url=options.url,
            password=options.password,
            connectors=options.connectors,
            auto=True,
            meter_interval=options.meter_interval,
            session_seconds=options.session_seconds,
            idle_seconds=options.idle_seconds,
            id_tag=options.id_tag,
            power_w=options.power_w,
        )
        for i in range(1, options.chargers + 1)
    ]


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on every platform (e.g. Windows); Ctrl-C still works there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def run_fleet(options: FleetOptions, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    _install_signal_handlers(stop)
    fleet = build_fleet(options)
    log.info("fleet_starting", chargers=len(fleet), url=options.url)
    try:
        for sim in fleet:
            await sim.start()
            if stop.is_set():
                break
            await asyncio.sleep(START_STAGGER_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), options.duration)
    finally:
        log.info("fleet_stopping")
        # Graceful: running sessions end with a StopTransaction first.
        await asyncio.gather(*(sim.shutdown() for sim in fleet), return_exceptions=True)
        log.info("fleet_stopped")
