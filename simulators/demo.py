"""``make demo``: the central system and a few simulated chargers in one process.

The chargers connect over real websockets on 127.0.0.1 like any charger would. First the demo
sets up what an operator would (``set_up_demo``): a network ``demo-network`` with two sites, a
catalogue model for each simulator model (so the chargers are linked to it when they boot), the
chargers, half in each site, and their id-tag, so their sessions are authorised. ``--chargers``
OCPP 1.6 chargers (DEMO-1..N) run beside ``--ocpp201`` OCPP 2.0.1 stations (DEMO201-1..N).

Every step tolerates what an earlier run left in the database and converges on the same result
(an existing charger is moved into its demo site, a disabled demo tag is enabled again).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from csms.app import CentralSystem
from csms.config import load_settings
from csms.domain.assets import ModelConnector, PowerType
from csms.domain.circuits import CircuitPhases
from csms.domain.errors import Conflict
from csms.domain.models import IdTagStatus, NewIdTag, Role, TokenSource
from csms.domain.paging import Page
from csms.domain.updates import ChargePointChanges, IdTagChanges, SiteChanges
from csms.log import configure_logging
from simulators.fleet import FleetOptions, run_fleet
from simulators.product import MODELS, VENDOR

DEMO_PASSWORD = "demo-password-1"
DEMO_TAG = "DEMO-TAG"
# The tag is registered without a type, so it matches the 2.0.1 stations' tokens whatever
# type they present (an RFID reader's ISO14443 here, the simulators' default).
DEMO_TOKEN_TYPE = "ISO14443"
DEMO_NETWORK_ID = "demo-network"
DEMO_CIRCUIT_ID = "demo-circuit"
# Every demo charger on one 32 A three-phase circuit: more cars than it can feed at full power,
# so the load manager's sharing shows (GET /api/v1/circuits/demo-circuit/allocation).
DEMO_CIRCUIT_AMPS = 32.0
DEMO_NETWORK_NAME = "Demo network"
# (id, name) of the demo sites; the chargers are dealt out over them in turn.
DEMO_SITES: tuple[tuple[str, str], ...] = (
    ("demo-depot", "Depot"),
    ("demo-street", "Street parking"),
)
PREFIX_16 = "DEMO-"
PREFIX_201 = "DEMO201-"
# The catalogue id of the demo entry for each OCPP version's simulator model.
DEMO_MODEL_IDS: Mapping[str, str] = {"1.6": "demo-sim-16", "2.0.1": "demo-sim-201"}
# What the simulators can deliver: 22 kW AC on type 2 sockets (two per charger by default).
DEMO_CONNECTORS = tuple(
    ModelConnector(
        id=n,
        connection_type="type2",
        format="SOCKET",
        max_amperage=32,
        max_voltage=230,
        max_power_watts=22000,
    )
    for n in (1, 2)
)


@dataclass(frozen=True)
class DemoSetup:
    network_id: str
    site_ids: tuple[str, ...]
    # The live catalogue entry the simulators of each OCPP version are linked to.
    model_ids: Mapping[str, str]
    # Charger identity -> the id of its site.
    chargers: Mapping[str, str]
    id_tag: str
    circuit_id: str = ""


def demo_identities(chargers: int, ocpp201: int) -> list[str]:
    return [f"{PREFIX_16}{i}" for i in range(1, chargers + 1)] + [
        f"{PREFIX_201}{i}" for i in range(1, ocpp201 + 1)
    ]


async def set_up_demo(system: CentralSystem, chargers: int = 3, ocpp201: int = 2) -> DemoSetup:
    """What an operator would set up for the demo chargers; safe to run again on the same data."""
    services = system.services
    with contextlib.suppress(Conflict):
        await services.sites.add_network(name=DEMO_NETWORK_NAME, network_id=DEMO_NETWORK_ID)
    for site_id, name in DEMO_SITES:
        try:
            await services.sites.add_site(
                name=name, site_id=site_id, network_id=DEMO_NETWORK_ID, type="site"
            )
        except Conflict:
            site = await services.sites.get_site(site_id)
            if site is not None and site.network_id != DEMO_NETWORK_ID:
                await services.sites.update_site(site_id, SiteChanges(network_id=DEMO_NETWORK_ID))
    model_ids = {version: await _catalogue_entry(system, version) for version in MODELS}
    placed: dict[str, str] = {}
    for n, identity in enumerate(demo_identities(chargers, ocpp201)):
        site_id = DEMO_SITES[n % len(DEMO_SITES)][0]
        try:
            await services.chargers.register(identity, password=DEMO_PASSWORD, site_id=site_id)
        except Conflict:
            existing = await services.chargers.get(identity)
            if existing is not None and existing.site_id != site_id:
                await services.chargers.update(identity, ChargePointChanges(site_id=site_id))
        placed[identity] = site_id
    with contextlib.suppress(Conflict):
        await services.circuits.add_circuit(
            name="Demo depot supply",
            circuit_id=DEMO_CIRCUIT_ID,
            phases=CircuitPhases.THREE,
            max_current=DEMO_CIRCUIT_AMPS,
            site_id=DEMO_SITES[0][0],
        )
    for identity in placed:
        with contextlib.suppress(Conflict):  # on another circuit: the operator moved it, keep it
            await services.circuits.attach(DEMO_CIRCUIT_ID, identity)
    try:
        await services.id_tags.add(NewIdTag(DEMO_TAG, label="demo"))
    except Conflict:
        tag = await services.id_tags.get(DEMO_TAG)
        if tag is not None and (tag.status != IdTagStatus.ENABLED or tag.expire_at is not None):
            changes = IdTagChanges(status=IdTagStatus.ENABLED, expire_at=None)
            await services.id_tags.update(DEMO_TAG, changes)
    return DemoSetup(
        network_id=DEMO_NETWORK_ID,
        site_ids=tuple(site_id for site_id, _ in DEMO_SITES),
        model_ids=model_ids,
        chargers=placed,
        id_tag=DEMO_TAG,
        circuit_id=DEMO_CIRCUIT_ID,
    )


async def _catalogue_entry(system: CentralSystem, version: str) -> str:
    """The id of the live catalogue entry matching the ``version`` simulators' vendor and model."""
    catalogue = system.services.catalogue
    model = MODELS[version]

    async def add(model_id: str | None) -> str:
        entry = await catalogue.add(
            vendor=VENDOR,
            model=model,
            power_type=PowerType.AC_3_PHASE,
            connectors=DEMO_CONNECTORS,
            model_id=model_id,
            friendly_name=f"Simulated 22 kW AC charger (OCPP {version})",
        )
        return entry.id

    try:
        return await add(DEMO_MODEL_IDS[version])
    except Conflict:
        pass
    live = await catalogue.list_models(Page(limit=1), vendor=VENDOR, model=model)
    if live.items:
        return live.items[0].id
    # Our id is taken by an archived entry: a live one is what links the chargers at boot.
    return await add(None)


def _local(host: str) -> str:
    """A host to connect to for a server bound to ``host`` (all interfaces: this machine)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


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
        setup = await set_up_demo(system, chargers, ocpp201)
        created = await system.services.api_tokens.create(
            "demo", Role.OPERATOR, source=TokenSource.CLI
        )
        token = created.token
        api = f"http://{_local(settings.api.host)}:{system.api_port}"
        sites = ", ".join(setup.site_ids)
        print(
            f"\nAPI: {api}/docs   token: {token}\n"
            f"network {setup.network_id} with sites {sites}; id-tag {setup.id_tag}\n"
            f"try: curl -H 'Authorization: Bearer {token}' {api}/api/v1/charge-points\n"
            f"site tree: curl -H 'Authorization: Bearer {token}' {api}/api/v1/site-tree\n"
            f"load sharing on a {DEMO_CIRCUIT_AMPS:.0f} A circuit: curl -H 'Authorization: Bearer "
            f"{token}' {api}/api/v1/circuits/{setup.circuit_id}/allocation\n"
        )
        common = FleetOptions(
            chargers=chargers,
            url=f"ws://{_local(settings.ocpp.host)}:{system.ocpp_port}/ocpp",
            prefix=PREFIX_16,
            password=DEMO_PASSWORD,
            id_tag=DEMO_TAG,
            session_seconds=45,
            idle_seconds=10,
            meter_interval=5,
            api_url=api,
            # 22 kW outlets; every third charger's cars are single-phase, so the fleet is mixed.
            power_w=22080,
            single_phase_every=3,
        )
        v201 = replace(
            common,
            chargers=ocpp201,
            prefix=PREFIX_201,
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
