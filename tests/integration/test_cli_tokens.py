"""``csms token create | list | revoke``, run in-process through ``csms.cli.main``."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csms import cli
from csms.domain.clock import parse_timestamp, system_clock
from csms.domain.models import ApiToken, Role, TokenSource
from csms.services.api_tokens import ApiTokenService
from csms.store.sqlite import SqliteStore


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("CSMS_")]:
        monkeypatch.delenv(key)
    # The commands configure structlog for the process; the test's own stays as it is.
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    path = tmp_path / "csms.toml"
    path.write_text(f'[database]\npath = "{tmp_path / "cli.db"}"\n')
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _authenticate(database: Path, token: str) -> ApiToken | None:
    async def check() -> ApiToken | None:
        store = SqliteStore(database)
        await store.open()
        try:
            return await ApiTokenService(store.api_tokens, system_clock).authenticate(token)
        finally:
            await store.close()

    return asyncio.run(check())


def test_create_list_and_revoke(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = ("--config", str(config))
    before = datetime.now(UTC)
    code, out, err = _run(
        capsys, "token", "create", "--role", "admin", "--label", "ci", "--expires-in", "30", *conf
    )
    assert code == 0, err
    admin_token = out.strip()
    assert len(admin_token) >= 32 and "\n" not in admin_token  # stdout is the token alone
    code, out, _ = _run(capsys, "token", "create", "--role", "viewer", "--name", "wall", *conf)
    assert code == 0
    viewer_token = out.strip()
    code, out, _ = _run(capsys, "token", "create", "--role", "operator", *conf)
    assert code == 0

    record = _authenticate(config.parent / "cli.db", admin_token)
    assert record is not None
    assert (record.role, record.label, record.source) == (Role.ADMIN, "ci", TokenSource.CLI)
    assert record.expires_at is not None
    assert (
        before + timedelta(days=30) <= record.expires_at <= datetime.now(UTC) + timedelta(days=30)
    )
    assert f"created API token {record.id} (admin)" in err

    code, out, _ = _run(capsys, "token", "list", *conf)
    assert code == 0
    assert admin_token not in out and viewer_token not in out
    rows = [line.split("\t") for line in out.splitlines()]
    assert [len(row) for row in rows] == [7, 7, 7]
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)  # ordered by id
    by_label = {row[2]: row for row in rows}
    assert set(by_label) == {"ci", "wall", "-"}
    token_id, role, _, source, created, expires, last_used = by_label["ci"]
    assert (token_id, role, source, last_used) == (record.id, "admin", "cli", "-")
    assert parse_timestamp(created) >= before.replace(microsecond=0) - timedelta(seconds=1)
    assert abs(parse_timestamp(expires) - record.expires_at) < timedelta(milliseconds=1)
    assert (by_label["wall"][1], by_label["wall"][5]) == ("viewer", "-")  # role; no expiry
    assert by_label["-"][1] == "operator"

    code, out, _ = _run(capsys, "token", "revoke", record.id, *conf)
    assert code == 0 and record.id in out
    assert _authenticate(config.parent / "cli.db", admin_token) is None
    code, out, _ = _run(capsys, "token", "list", *conf)
    assert record.id not in out and len(out.splitlines()) == 2

    code, _, err = _run(capsys, "token", "revoke", record.id, *conf)
    assert code == 1 and "error:" in err and record.id in err and "not found" in err


@pytest.mark.parametrize(
    "argv",
    [
        ("--role", "viewer", "--label", "a", "--name", "b"),  # the same option twice
        ("--role", "viewer", "--expires-in", "0"),
        ("--role", "viewer", "--expires-in", "-1"),
        ("--role", "viewer", "--expires-in", "soon"),
        ("--role", "viewer", "--expires-in", "1e9"),
        ("--role", "viewer", "--expires-in", "nan"),
        (
            "--role",
            "root",
        ),
    ],
)
def test_create_refuses_bad_options(
    config: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["token", "create", *argv, "--config", str(config)])
    assert exited.value.code == 2
    assert not (config.parent / "cli.db").exists()  # refused before anything was opened
