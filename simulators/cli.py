"""Command line: ``python -m simulators --chargers N --url ws://host/ocpp ...``."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence

import structlog

from simulators.fleet import (
    SUPPORTED_OCPP,
    FleetOptions,
    register_command,
    run_fleet,
    show_register_command,
)

LEVELS = ("debug", "info", "warning", "error")
DEFAULT_ID_TAG = "SIM-TAG"

log = structlog.get_logger("simulators.cli")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    p.add_argument("--chargers", type=_positive_int, required=True, help="number of chargers")
    p.add_argument(
        "--url",
        required=True,
        help="CSMS base URL; the identity is appended. Several, comma-separated (the nodes of a "
        "cluster): each charger moves to the next when it cannot connect",
    )
    p.add_argument("--prefix", default="SIM-", help="identity prefix (identity = prefix + i)")
    p.add_argument("--password", default=None, help="HTTP Basic auth password")
    p.add_argument("--ocpp", default="1.6", help=f"OCPP version: {' or '.join(SUPPORTED_OCPP)}")
    p.add_argument(
        "--connectors", type=_positive_int, default=2, help="connectors (1.6) or EVSEs (2.0.1)"
    )
    p.add_argument("--meter-interval", type=_positive_float, default=5.0, help="seconds")
    p.add_argument("--session-seconds", type=_positive_float, default=60.0)
    p.add_argument("--idle-seconds", type=_positive_float, default=10.0)
    p.add_argument(
        "--id-tag",
        default=DEFAULT_ID_TAG,
        help="the id-tag the chargers present; the CSMS must know it (POST /api/v1/id-tags)",
    )
    p.add_argument(
        "--id-token-type", default="ISO14443", help="2.0.1 idToken type (e.g. Central, ISO14443)"
    )
    p.add_argument("--power-w", type=_positive_float, default=11000.0, help="each outlet's rating")
    p.add_argument(
        "--car-max-current",
        type=_positive_float,
        default=32.0,
        help="A per phase the cars take at most (they draw nothing below 6 A)",
    )
    p.add_argument("--car-phases", type=int, choices=(1, 3), default=3, help="phases the cars use")
    p.add_argument(
        "--single-phase-every",
        type=int,
        default=0,
        metavar="N",
        help="every Nth charger has single-phase cars (0: none), for a mixed fleet",
    )
    p.add_argument(
        "--limit-delay",
        type=float,
        default=2.0,
        help="seconds a car takes to follow a new charging limit",
    )
    p.add_argument(
        "--no-smart-charging",
        dest="smart_charging",
        action="store_false",
        help="chargers that refuse every charging profile (Rejected) and ignore limits",
    )
    p.add_argument(
        "--duration", type=_positive_float, default=None, help="seconds (default: until Ctrl-C)"
    )
    p.add_argument("--log-level", choices=LEVELS, default="info")
    p.add_argument(
        "--api-url",
        default=None,
        help="the CSMS's operator API, only for hints (default: the --url host, port 8080)",
    )
    return p


def announce_id_tag(options: FleetOptions) -> None:
    """Say once, at start-up, which id-tag the chargers present and how to register it.

    A CSMS answers Invalid to a tag it does not know, so without this a new user only sees
    ``not_authorized`` lines."""
    extra = {"id_token_type": options.id_token_type} if options.ocpp == "2.0.1" else {}
    log.info(
        "presenting_id_tag",
        id_tag=options.id_tag,
        **extra,
        hint=(
            "sessions are only authorised if the CSMS knows this id-tag: register it once"
            " (an operator token: csms token create --role operator), or pass --id-tag"
        ),
        register=register_command(options.id_tag, options.operator_api_url()),
    )
    show_register_command(options.id_tag, options.operator_api_url())


def configure_logging(level_name: str) -> None:
    level = getattr(logging, level_name.upper())
    logging.basicConfig(level=level, format="%(message)s")
    # The ocpp library logs every frame at INFO; only show that when debugging.
    logging.getLogger("ocpp").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ocpp not in SUPPORTED_OCPP:
        parser.error(
            f"--ocpp {args.ocpp!r} is not supported yet; supported: {', '.join(SUPPORTED_OCPP)}"
        )
    configure_logging(args.log_level)
    options = FleetOptions(
        chargers=args.chargers,
        url=args.url,
        prefix=args.prefix,
        password=args.password,
        connectors=args.connectors,
        meter_interval=args.meter_interval,
        session_seconds=args.session_seconds,
        idle_seconds=args.idle_seconds,
        id_tag=args.id_tag,
        power_w=args.power_w,
        car_max_current=args.car_max_current,
        car_phases=args.car_phases,
        single_phase_every=args.single_phase_every,
        limit_delay=args.limit_delay,
        smart_charging=args.smart_charging,
        duration=args.duration,
        ocpp=args.ocpp,
        id_token_type=args.id_token_type,
        api_url=args.api_url,
    )
    announce_id_tag(options)
    try:
        asyncio.run(run_fleet(options))
    except KeyboardInterrupt:
        # Only reachable where signal handlers are unsupported.
        return 130
    return 0
