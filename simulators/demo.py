"""``make demo``: the central system and a few simulated chargers in one process.

The chargers connect over real websockets on 127.0.0.1 like any charger would; the demo only
registers them and their id-tag first, so their sessions are authorised.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from pathlib import Path

from csms.app import CentralSystem
from csms.config import load_settings
from csms.domain.errors import Conflict
from csms.domain.models import IdTag, Role
from csms.log import configure_logging
from simulators.fleet import FleetOptions, run_fleet


async def _demo(config: Path | None, chargers: int) -> None:
    settings = load_settings(config)
    configure_logging(settings.log.format, settings.log.level)
    system = CentralSystem(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await system.start()
    try:
        for i in range(1, chargers + 1):
            with contextlib.suppress(Conflict):
                await system.services.chargers.register(f"DEMO-{i}", password="demo-password-1")
        with contextlib.suppress(Conflict):
            await system.services.id_tags.add(IdTag("DEMO-TAG", label="demo"))
        token = await system.services.api_tokens.create("demo", Role.OPERATOR)
        api = f"http://{settings.api.host}:{system.api_port}"
        print(
            f"\nAPI: {api}/docs   token: {token}\n"
            f"try: curl -H 'Authorization: Bearer {token}' {api}/api/v1/charge-points\n"
        )
        host = "127.0.0.1" if settings.ocpp.host in ("0.0.0.0", "::") else settings.ocpp.host
        await run_fleet(
            FleetOptions(
                chargers=chargers,
                url=f"ws://{host}:{system.ocpp_port}/ocpp",
                prefix="DEMO-",
                password="demo-password-1",
                id_tag="DEMO-TAG",
                session_seconds=45,
                idle_seconds=10,
                meter_interval=5,
            ),
            stop,
        )
    finally:
        await system.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.demo")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--chargers", type=int, default=3)
    args = parser.parse_args(argv)
    asyncio.run(_demo(args.config, args.chargers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
