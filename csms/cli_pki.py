"""The certificate commands of the command line: ``csms ca init`` and
``csms cert issue|revoke|list``."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from csms.config import Settings
from csms.domain.clock import format_timestamp, system_clock
from csms.domain.errors import Invalid, NotFound
from csms.domain.paging import Page
from csms.services.certificate_authority import (
    CaError,
    CaFiles,
    CertificateAuthority,
    write_private,
)
from csms.services.certificates import CertificateService
from csms.services.events import EventBus
from csms.store.repositories import Store

__all__ = ["add_parsers", "certificate_command", "init_ca"]

Configured = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], with_config: Configured
) -> None:
    ca = commands.add_parser("ca", help="the certificate authority that signs charger certificates")
    ca_commands = ca.add_subparsers(dest="ca_command", required=True)
    with_config(
        ca_commands.add_parser(
            "init",
            help="create the CSMS's own CA in its data directory (kept if it exists); prints "
            "the CA certificate's path",
        )
    )

    cert = commands.add_parser("cert", help="charger client certificates (security profile 3)")
    cert_commands = cert.add_subparsers(dest="cert_command", required=True)
    issue = with_config(
        cert_commands.add_parser(
            "issue",
            help="issue a client certificate and key for a charger provisioned by hand (CN = its "
            "identity); prints the serial",
        )
    )
    issue.add_argument("--charger", required=True, help="the charge point identity")
    issue.add_argument("--out", type=Path, required=True, help="directory for the files")
    issue.add_argument("--key-type", choices=["ecdsa", "rsa"], default="ecdsa")
    revoke = with_config(
        cert_commands.add_parser(
            "revoke",
            help="revoke a certificate: refused from then on; a live connection using it ends "
            "at the server's next check (SIGHUP: at once)",
        )
    )
    revoke.add_argument("serial", help="hex, as `csms cert list` or `openssl x509 -serial` shows")
    listing = with_config(
        cert_commands.add_parser(
            "list",
            help="the certificates issued, one per line: serial, chargePointId, issuedAt, "
            "notAfter, revokedAt (tab-separated, '-' when unset)",
        )
    )
    listing.add_argument("--charger", default=None, help="only this charge point's")


def _ca_files(settings: Settings) -> CaFiles | None:
    return CaFiles.resolve(settings.tls.ca_cert_file, settings.tls.ca_key_file, settings.pki_dir)


def init_ca(settings: Settings) -> int:
    files = _ca_files(settings)
    if files is None:
        print(
            "error: no place for the CA: set [tls] data_dir (with PostgreSQL there is no SQLite "
            "file to keep it next to), or [tls] ca_cert_file and ca_key_file",
            file=sys.stderr,
        )
        return 1
    try:
        _, created = CertificateAuthority.ensure(files, system_clock())
    except CaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if created:
        print(f"created the CA (key: {files.key}, mode 0600)", file=sys.stderr)
    elif files.own:
        print("the CA exists already; kept as it is", file=sys.stderr)
    else:
        print("the configured CA ([tls] ca_cert_file) is readable", file=sys.stderr)
    print(files.certificate)
    return 0


def _file_name(identity: str) -> str:
    # An identity may hold any character a URL segment can (RDAM|123); file names get a safe one.
    return re.sub(r"[^A-Za-z0-9._-]", "_", identity) or "charger"


async def certificate_command(store: Store, settings: Settings, args: argparse.Namespace) -> int:
    service = CertificateService(
        store.certificates,
        EventBus(system_clock),
        system_clock,
        files=_ca_files(settings),
        validity_days=settings.tls.client_cert_days,
    )
    try:
        if args.cert_command == "issue":
            return await _issue(store, service, settings, args)
        if args.cert_command == "revoke":
            revoked = await service.revoke(args.serial)
            print(f"revoked certificate {revoked.serial} of {revoked.charge_point_id}")
            print(
                "a running csms serve refuses it from now on, and disconnects a charger still "
                "using it within [tls] revocation_check_s, or at once on SIGHUP",
                file=sys.stderr,
            )
            return 0
        return await _list(service, args.charger)
    except (NotFound, Invalid, CaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


async def _issue(
    store: Store, service: CertificateService, settings: Settings, args: argparse.Namespace
) -> int:
    charger = await store.chargers.get_charge_point(args.charger)
    if charger is None:
        print(
            f"error: unknown charge point {args.charger!r}; register it first (csms charger add)",
            file=sys.stderr,
        )
        return 1
    out: Path = args.out
    name = _file_name(charger.id)
    cert_path, key_path, ca_path = out / f"{name}.crt", out / f"{name}.key", out / "ca.crt"
    existing = [str(p) for p in (cert_path, key_path) if p.exists()]
    if existing:
        print(f"error: {', '.join(existing)} exist; choose another --out", file=sys.stderr)
        return 1
    service.start()
    issued = await service.issue(charger.id, args.key_type)
    _write(
        out, {key_path: issued.key_pem, cert_path: issued.certificate_pem, ca_path: issued.ca_pem}
    )
    print(issued.record.serial)
    print(
        f"issued {cert_path} and {key_path} (mode 0600) for {charger.id}, valid until "
        f"{format_timestamp(issued.record.not_after)}; the CA certificate is {ca_path}",
        file=sys.stderr,
    )
    if charger.security_profile < 3:
        print(
            f"note: {charger.id} is at security profile {charger.security_profile}; its "
            "certificate counts from profile 3 on",
            file=sys.stderr,
        )
    return 0


def _write(out: Path, files: dict[Path, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        if path.suffix == ".key":
            write_private(path, text.encode("ascii"))  # 0600, never over an existing key
        else:
            path.write_text(text, encoding="ascii")


async def _list(service: CertificateService, cp_id: str | None) -> int:
    page: Page[str] = Page(1000)
    while True:
        listed = await service.list_certificates(page, cp_id=cp_id)
        for c in listed.items:
            times = (c.issued_at, c.not_after, c.revoked_at)
            cells = [c.serial, c.charge_point_id]
            cells += ["-" if t is None else format_timestamp(t) for t in times]
            print("\t".join(cells))
        if not listed.has_more:
            return 0
        page = Page(1000, listed.items[-1].serial)
