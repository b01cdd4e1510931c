"""Command line: ``csms serve``, ``csms token create|list|revoke``, ``csms charger add``, and
the certificate commands ``csms ca init``, ``csms cert issue|revoke|list`` (csms.cli_pki)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from csms import cli_pki
from csms.app import CentralSystem, open_store
from csms.config import ConfigError, Settings, load_settings
from csms.domain.clock import format_timestamp, system_clock
from csms.domain.errors import Conflict, DatabaseUnavailable, Invalid, NotFound
from csms.domain.models import Role, TokenSource
from csms.domain.paging import Page
from csms.log import configure_logging
from csms.services.api_tokens import ApiTokenService
from csms.services.chargers import ChargerService
from csms.services.events import EventBus

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="csms", description="OCPP 1.6J / 2.0.1 central system")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_config(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--config", type=Path, default=None, help="TOML config file (see config.example.toml)"
        )
        return sub

    with_config(commands.add_parser("serve", help="run the central system"))

    token = commands.add_parser("token", help="operator API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = with_config(token_commands.add_parser("create", help="create and print a new token"))
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    label = create.add_mutually_exclusive_group()
    label.add_argument("--label", default=None, help="who or what the token is for")
    label.add_argument("--name", dest="label", help="the same as --label")
    create.add_argument(
        "--expires-in", type=_days, default=None, metavar="DAYS", help="expire after DAYS days"
    )
    with_config(
        token_commands.add_parser(
            "list",
            help="list the tokens, one per line: id, role, label, source, createdAt, expiresAt, "
            "lastUsedAt (tab-separated, '-' when unset; never the token)",
        )
    )
    revoke = with_config(token_commands.add_parser("revoke", help="delete a token by its id"))
    revoke.add_argument("id", help="the token's id (tok_...), as `csms token list` shows it")

    charger = commands.add_parser("charger", help="charge points")
    charger_commands = charger.add_subparsers(dest="charger_command", required=True)
    add = with_config(charger_commands.add_parser("add", help="register charge points"))
    add.add_argument(
        "id", nargs="*", help="OCPP identities (the last segment of each charger's URL)"
    )
    add.add_argument(
        "--ids-file", type=Path, default=None, help="a file of identities, one per line"
    )
    add.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave identities already registered as they are",
    )
    add.add_argument("--password", default=None, help="HTTP Basic password (security profile 1/2)")
    add.add_argument("--name", default=None)
    add.add_argument("--security-profile", type=int, choices=[0, 1, 2, 3], default=None)
    cli_pki.add_parsers(commands, with_config)
    return parser


_MAX_DAYS = 36_500  # a century: beyond it, leave the expiry out


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 0 < days <= _MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {_MAX_DAYS}: {text!r}")
    return days


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return format_timestamp(value)
    return str(value)


async def _token_command(tokens: ApiTokenService, args: argparse.Namespace) -> int:
    if args.token_command == "create":
        expires_at = None
        if args.expires_in is not None:
            expires_at = system_clock() + timedelta(days=args.expires_in)
        created = await tokens.create(
            args.label, Role(args.role), expires_at, source=TokenSource.CLI
        )
        # stdout carries the token alone, so that scripts can capture it.
        print(created.token)
        print(f"created API token {created.record.id} ({args.role})", file=sys.stderr)
        return 0
    if args.token_command == "list":
        page: Page[str] = Page(1000)
        while True:
            listed = await tokens.list_api_tokens(page)
            for t in listed.items:
                row = (t.id, t.role, t.label, t.source, t.created_at, t.expires_at, t.last_used_at)
                print("\t".join(_cell(value) for value in row))
            if not listed.has_more:
                return 0
            page = Page(1000, listed.items[-1].id)
    try:
        await tokens.revoke(args.id)
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"revoked API token {args.id}")
    return 0


_REGISTER_CONCURRENCY = 500  # registrations in flight at once: they share group commits


async def _add_chargers(chargers: ChargerService, args: argparse.Namespace) -> int:
    identities: list[str] = list(args.id)
    if args.ids_file is not None:
        lines = args.ids_file.read_text(encoding="utf-8").splitlines()
        identities += [line.strip() for line in lines if line.strip()]
    if not identities:
        print("error: name at least one identity, or --ids-file", file=sys.stderr)
        return 2
    added = skipped = 0
    failed: list[str] = []

    async def add(identity: str) -> None:
        nonlocal added, skipped
        try:
            await chargers.register(
                identity,
                name=args.name,
                password=args.password,
                security_profile=args.security_profile,
            )
            added += 1
        except Conflict as exc:
            if args.skip_existing:
                skipped += 1
            else:
                failed.append(str(exc))
        except Invalid as exc:
            failed.append(f"{identity!r}: {exc}")

    for start in range(0, len(identities), _REGISTER_CONCURRENCY):
        await asyncio.gather(*(add(i) for i in identities[start : start + _REGISTER_CONCURRENCY]))
    for failure in failed:
        print(f"error: {failure}", file=sys.stderr)
    if len(identities) == 1 and added:
        print(f"registered charge point {identities[0]}")
    else:
        print(
            f"registered {added} charge points" + (f", {skipped} already were" if skipped else "")
        )
    return 1 if failed else 0


async def _with_store_services(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings)
    await store.open()
    try:
        if args.command == "token":
            return await _token_command(ApiTokenService(store.api_tokens, system_clock), args)
        if args.command == "cert":
            return await cli_pki.certificate_command(store, settings, args)
        chargers = ChargerService(
            store.chargers,
            EventBus(system_clock),
            system_clock,
            heartbeat_interval=settings.ocpp.heartbeat_interval,
            boot_retry_interval=settings.ocpp.boot_retry_interval,
            default_registration_status=settings.ocpp.default_registration_status,
            allow_unknown_chargers=settings.ocpp.allow_unknown_chargers,
        )
        return await _add_chargers(chargers, args)
    finally:
        await store.close()


def _loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise RuntimeError('event_loop = "uvloop" but uvloop is not installed') from None
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log.format, settings.log.level)
    if args.command == "serve":
        try:
            with asyncio.Runner(loop_factory=_loop_factory(settings.runtime.event_loop)) as runner:
                runner.run(CentralSystem(settings).serve_forever())
        except (RuntimeError, DatabaseUnavailable) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "ca":
        return cli_pki.init_ca(settings)
    try:
        return asyncio.run(_with_store_services(settings, args))
    except DatabaseUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
