"""The commands operators and scripts use: csms serve / token create / charger add."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx

from tests.ocpp_client import RawClient
from tests.processes import EXAMPLE_CONFIG, environment, free_port, run_csms, wait_healthy


async def test_serve_token_and_charger_commands(tmp_path: Path) -> None:
    config = EXAMPLE_CONFIG
    ocpp_port, api_port = free_port(), free_port()
    env = environment(tmp_path, ocpp_port, api_port)

    code, out, _ = await run_csms(
        env, "token", "create", "--role", "operator", "--config", str(config)
    )
    assert code == 0
    token = out.strip()
    assert len(token) >= 32
    code, out, _ = await run_csms(
        env, "charger", "add", "CP-CLI", "--password", "cli-password-123", "--config", str(config)
    )
    assert code == 0
    code, _, err = await run_csms(
        env, "charger", "add", "CP-CLI", "--security-profile", "0", "--config", str(config)
    )
    assert code != 0 and "already exists" in err
    # No password: the security profile must be said; and only identifierString identities.
    code, _, err = await run_csms(env, "charger", "add", "CP-OPEN", "--config", str(config))
    assert code != 0 and "securityProfile" in err
    code, _, err = await run_csms(
        env, "charger", "add", "CP/1", "--security-profile", "0", "--config", str(config)
    )
    assert code != 0 and "identifierString" in err

    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "serve",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        api = f"http://127.0.0.1:{api_port}"
        await wait_healthy(api, server)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
            listed = (await client.get(f"{api}/api/v1/charge-points")).json()["data"]["items"]
            assert [cp["id"] for cp in listed] == ["CP-CLI"]
        charger = await RawClient.connect(
            f"ws://127.0.0.1:{ocpp_port}/ocpp", "CP-CLI", password="cli-password-123"
        )
        assert (await charger.boot())["status"] == "Accepted"
        # SIGTERM: graceful stop, the charger's socket is closed by the server, exit code 0.
        server.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            assert await server.wait() == 0
        assert charger.ws.close_code == 1001
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


async def test_a_bad_config_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[ocpp]\nheartbeat_intervall = 60\n")
    code, _, err = await run_csms(
        environment(tmp_path, free_port(), free_port()), "serve", "--config", str(config)
    )
    assert code == 2
    assert "ocpp.heartbeat_intervall" in err
