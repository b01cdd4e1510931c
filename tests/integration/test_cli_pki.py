"""The certificate commands as a real process: csms ca init, csms cert issue / list / revoke, and a
profile-3 charger provisioned by hand connecting to csms serve, which re-reads its certificates on
SIGHUP while that charger stays connected, and disconnects it on SIGHUP once `csms cert revoke`
(another process) revoked its certificate."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
from pathlib import Path

import pytest
from cryptography import x509
from websockets.exceptions import ConnectionClosed, InvalidStatus

from csms import cli
from csms.domain.certificates import common_name
from tests.ocpp_client import RawClient
from tests.pki import Ca, client_context, fingerprint, rsa_key
from tests.processes import environment, free_port, start_server


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("CSMS_")]:
        monkeypatch.delenv(key)
    # The commands configure structlog for the process; the test's own stays as it is.
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    path = tmp_path / "csms.toml"
    path.write_text(f'[database]\npath = "{tmp_path / "cli.db"}"\n')
    return path


def _run(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main([*argv, "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err


def test_ca_init_creates_the_ca_once(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, config, "ca", "init")
    assert code == 0
    ca_file = Path(out.strip())
    assert ca_file == config.parent / "csms-ca.crt"
    assert stat.S_IMODE((config.parent / "csms-ca.key").stat().st_mode) == 0o600
    first = ca_file.read_bytes()
    code, out, err = _run(capsys, config, "ca", "init")
    assert code == 0 and "exists" in err
    assert ca_file.read_bytes() == first

    # With PostgreSQL there is no SQLite file to put it beside: data_dir must say where.
    config.write_text('[database]\nurl = "postgresql://nobody@127.0.0.1:1/none"\n')
    code, _, err = _run(capsys, config, "ca", "init")
    assert code == 1 and "data_dir" in err


def test_cert_issue_list_revoke(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, config, "charger", "add", "CP|7", "--security-profile", "3")[0] == 0
    out_dir = config.parent / "out"
    issue = ("cert", "issue", "--charger", "CP|7", "--out", str(out_dir))
    code, out, err = _run(capsys, config, *issue)
    assert code == 0, err
    serial = out.strip().splitlines()[-1]  # (the test leaves structlog on stdout)
    certificate = x509.load_pem_x509_certificate((out_dir / "CP_7.crt").read_bytes())
    ca = x509.load_pem_x509_certificate((out_dir / "ca.crt").read_bytes())
    certificate.verify_directly_issued_by(ca)
    assert common_name(certificate.subject) == "CP|7"
    assert format(certificate.serial_number, "x") == serial
    assert stat.S_IMODE((out_dir / "CP_7.key").stat().st_mode) == 0o600
    # The same place again would overwrite a key: refused.
    code, _, err = _run(capsys, config, *issue)
    assert code == 1 and "exist" in err
    code, _, err = _run(capsys, config, "cert", "issue", "--charger", "NOBODY", "--out", "x")
    assert code == 1 and "unknown charge point" in err

    code, out, _ = _run(capsys, config, "cert", "list")
    assert code == 0
    assert out.split("\t")[:2] == [serial, "CP|7"] and out.strip().endswith("\t-")
    assert _run(capsys, config, "cert", "revoke", serial.upper())[0] == 0
    code, out, _ = _run(capsys, config, "cert", "list", "--charger", "cp|7")
    assert not out.strip().endswith("\t-")  # revokedAt is set
    code, _, err = _run(capsys, config, "cert", "revoke", "abcdef")
    assert code == 1 and "no certificate" in err


async def test_a_charger_provisioned_by_hand_connects_and_sighup_reloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_ca = Ca.create(tmp_path / "server", "server CA")
    server = server_ca.issue("localhost", key=rsa_key(), server=True, file_name="server")
    ocpp_port, api_port = free_port(), free_port()
    env = environment(
        tmp_path,
        ocpp_port,
        api_port,
        CSMS_TLS_SERVER_CERT_FILE=str(server.cert_file),
        CSMS_TLS_SERVER_KEY_FILE=str(server.key_file),
        CSMS_OCPP_PING_INTERVAL="0",
    )
    # The provisioning commands in-process (a process each costs seconds), the server as one.
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    for key, value in env.items():
        if key.startswith("CSMS_"):
            monkeypatch.setenv(key, value)
    out_dir = tmp_path / "charger"
    for argv in (
        ["charger", "add", "CP-HAND", "--security-profile", "3"],
        # Profile 0: no secret, to look at the server's side.
        ["charger", "add", "CP-PROBE", "--security-profile", "0"],
        ["cert", "issue", "--charger", "CP-HAND", "--out", str(out_dir)],
    ):
        assert await asyncio.to_thread(cli.main, argv) == 0, argv
    hand = x509.load_pem_x509_certificate((out_dir / "CP-HAND.crt").read_bytes())
    context = client_context(server_ca)
    context.load_cert_chain(out_dir / "CP-HAND.crt", out_dir / "CP-HAND.key")
    url = f"wss://127.0.0.1:{ocpp_port}/ocpp"

    process = await start_server(env)
    try:
        charger = await RawClient.connect(url, "CP-HAND", ssl=context)
        assert (await charger.boot())["status"] == "Accepted"
        before = charger.ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        with pytest.raises(InvalidStatus):  # no certificate: no entry
            await RawClient.connect(url, "CP-HAND", ssl=client_context(server_ca))

        fresh = server_ca.issue("localhost", key=rsa_key(which=1), server=True, file_name="new")
        server.cert_file.write_bytes(fresh.cert_file.read_bytes())
        server.key_file.write_bytes(fresh.key_file.read_bytes())
        process.send_signal(signal.SIGHUP)
        async with asyncio.timeout(10):
            while True:  # the signal is handled between two events of the loop
                probe = await RawClient.connect(url, "CP-PROBE", ssl=client_context(server_ca))
                after = probe.ws.transport.get_extra_info("ssl_object").getpeercert(True)
                await probe.close()
                if fingerprint(after) != fingerprint(before):
                    break
                await asyncio.sleep(0.1)
        # The same process, and the charger connected before is still served.
        assert process.returncode is None
        assert (await charger.result("Heartbeat", {}))["currentTime"]

        # Revoked by another process than the server's: on SIGHUP its connection ends (1008).
        revoke = ["cert", "revoke", format(hand.serial_number, "X")]
        assert await asyncio.to_thread(cli.main, revoke) == 0
        process.send_signal(signal.SIGHUP)
        with pytest.raises(ConnectionClosed):
            await charger.recv(timeout=10)
        assert charger.ws.close_code == 1008
        with pytest.raises(InvalidStatus) as refused:
            await RawClient.connect(url, "CP-HAND", ssl=context)
        assert refused.value.response.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await process.wait()
