"""wss:// with a configured certificate (security profile 2): Basic auth over TLS."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from csms.config import DatabaseSettings
from tests.conftest import make_settings, start_csms, stop_csms
from tests.ocpp_client import basic_auth


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


async def test_profile_2_charger_connects_over_wss(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    running = await start_csms(
        make_settings(tmp_path / "tls.db", tls_cert_file=cert, tls_key_file=key)
    )
    try:
        await running.register("CP-TLS", password="tls-password-123", securityProfile=2)
        client_context = ssl.create_default_context(cafile=str(cert))
        url = f"wss://127.0.0.1:{running.system.ocpp_port}/ocpp/CP-TLS"
        async with connect(
            url,
            ssl=client_context,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth("CP-TLS", "tls-password-123"),
        ) as ws:
            assert ws.subprotocol == "ocpp1.6"
            tls = ws.transport.get_extra_info("ssl_object")
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        # TLS is no excuse to skip the password.
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, ssl=client_context, subprotocols=["ocpp1.6"])  # type: ignore[list-item]
        assert refused.value.response.status_code == 401
    finally:
        await stop_csms(running)


async def test_profile_2_charger_is_refused_over_plain_ws(database: DatabaseSettings) -> None:
    running = await start_csms(make_settings(database))
    try:
        await running.register("CP-TLS", password="tls-password-123", securityProfile=2)
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                f"{running.ocpp_url}/CP-TLS",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers=basic_auth("CP-TLS", "tls-password-123"),
            )
        assert refused.value.response.status_code == 401
    finally:
        await stop_csms(running)
