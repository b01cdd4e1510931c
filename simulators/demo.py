"""``make demo``: the central system and a few simulated chargers in one process.

The chargers connect over real websockets on 127.0.0.1 like any charger would; the demo only
registers them and their id-tag first, so their sessions are authorised. ``--chargers`` OCPP 1.6
chargers (DEMO-1..N) run beside ``--ocpp201`` OCPP 2.0.1 stations (DEMO201-1..N).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from csms.app import CentralSystem
from csms.config import load_settings
from csms.domain.errors import Conflict
from csms.domain.models import NewIdTag, Role, TokenSource
from csms.log import configure_logging
from simulators.fleet import FleetOptions, run_fleet

DEMO_PASSWORD = "demo-password-1"
DEMO_TAG = "DEMO-TAG"
# The tag is registered without a type, so it matches the 2.0.1 stations' tokens whatever
# type they present (an RFID reader's ISO14443 here, the simulators' default).
DEMO_TOKEN_TYPE = "ISO14443"


async def _demo(config: Path | None, chargers: int, ocpp201: int) -> None:
    settings = load_settings(config)
    configure_logging(settings.log.format, settings.log.level)
    system = CentralSystem(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await system.start()
    try:
        identities = [f"DEMO-{i}" for i in range(1, chargers + 1)]
        identities += [f"DEMO201-{i}" for i in range(1, ocpp201 + 1)]
        for identity in identities:
            with contextlib.suppress(Conflict):
                await system.services.chargers.register(identity, password=DEMO_PASSWORD)
        with contextlib.suppress(Conflict):
            await system.services.id_tags.add(NewIdTag(DEMO_TAG, label="demo"))
        created = await system.services.api_tokens.create(
            "demo", Role.OPERATOR, source=TokenSource.CLI
        )
        token = created.token
        api = f"http://{settings.api.host}:{system.api_port}"
        print(
            f"\nAPI: {api}/docs   token: {token}\n"
            f"try: curl -H 'Authorization: Bearer {token}' {api}/api/v1/charge-points\n"
        )
        host = "127.0.0.1" if settings.ocpp.host in ("0.0.0.0", "::") else settings.ocpp.host
        common = FleetOptions(
            chargers=chargers,
            url=f"ws://{host}:{system.ocpp_port}/ocpp",
            prefix="DEMO-",
            password=DEMO_PASSWORD,
            id_tag=DEMO_TAG,
            session_seconds=45,
            idle_seconds=10,
            meter_interval=5,
        )
        v201 = replace(
            common,
            chargers=ocpp201,
            prefix="DEMO201-",
            ocpp="2.0.1",
            id_token_type=DEMO_TOKEN_TYPE,
        )
        await run_fleet([group for group in (common, v201) if group.chargers > 0], stop)
    finally:
        await system.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.demo")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--chargers", type=int, default=3, help="OCPP 1.6 chargers")
    parser.add_argument("--ocpp201", type=int, default=2, help="OCPP 2.0.1 charging stations")
    args = parser.parse_args(argv)
    asyncio.run(_demo(args.config, args.chargers, args.ocpp201))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
