"""Run N simulated chargers until a deadline or a signal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from simulators.v16 import ChargePoint16Simulator
from simulators.v201 import ChargePoint201Simulator

# Spreading connects avoids a thundering herd on the CSMS at start-up.
START_STAGGER_SECONDS = 0.05

log = structlog.get_logger("simulators.fleet")

Simulator = ChargePoint16Simulator | ChargePoint201Simulator
SUPPORTED_OCPP = ("1.6", "2.0.1")


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
    ocpp: str = "1.6"
    # 2.0.1 only: the CSMS matches idTokens on value and type.
    id_token_type: str = "ISO14443"


def build_fleet(options: FleetOptions) -> list[Simulator]:
    if options.ocpp == "2.0.1":
        return [_build_201(options, i) for i in range(1, options.chargers + 1)]
    if options.ocpp != "1.6":
        raise ValueError(f"unsupported OCPP version {options.ocpp!r}; supported: {SUPPORTED_OCPP}")
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


def _build_201(options: FleetOptions, i: int) -> ChargePoint201Simulator:
    # --connectors means EVSEs here: each 2.0.1 EVSE has one connector.
    return ChargePoint201Simulator(
        identity=f"{options.prefix}{i}",
        url=options.url,
        password=options.password,
        evses=options.connectors,
        auto=True,
        meter_interval=options.meter_interval,
        session_seconds=options.session_seconds,
        idle_seconds=options.idle_seconds,
        id_tag=options.id_tag,
        id_token_type=options.id_token_type,
        power_w=options.power_w,
    )


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on every platform (e.g. Windows); Ctrl-C still works there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def run_fleet(
    options: FleetOptions | Sequence[FleetOptions], stop: asyncio.Event | None = None
) -> None:
    """Run one fleet, or several side by side (e.g. 1.6 and 2.0.1), until stopped."""
    stop = stop or asyncio.Event()
    _install_signal_handlers(stop)
    groups = [options] if isinstance(options, FleetOptions) else list(options)
    fleet = [sim for group in groups for sim in build_fleet(group)]
    duration = groups[0].duration if groups else None
    log.info("fleet_starting", chargers=len(fleet), urls=sorted({g.url for g in groups}))
    try:
        for sim in fleet:
            await sim.start()
            if stop.is_set():
                break
            await asyncio.sleep(START_STAGGER_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
    finally:
        log.info("fleet_stopping")
        # Graceful: running sessions end with a StopTransaction first.
        await asyncio.gather(*(sim.shutdown() for sim in fleet), return_exceptions=True)
        log.info("fleet_stopped")
