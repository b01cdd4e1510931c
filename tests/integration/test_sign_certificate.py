"""SignCertificate, both versions: a good CSR is signed by the CSMS's own CA (created in the data
directory at start) and CertificateSigned follows the answer; a bad one is Rejected and raises a
SECURITY_EVENT alert; ISO 15118 requests are not supported."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from csms.config import DatabaseSettings, TlsSettings
from csms.domain.certificates import common_name
from csms.domain.paging import Page
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.integration.test_v201_messages import BOOT as BOOT_201
from tests.ocpp_client import RawClient
from tests.pki import csr_pem, rsa_key

ALL: Page[str] = Page(100)


@dataclass
class Charger:
    cp_id: str
    version: str
    client: RawClient

    def sign_request(self, csr: str) -> dict[str, Any]:
        if self.version == "1.6":
            return {"csr": csr}
        return {"csr": csr, "certificateType": "ChargingStationCertificate"}


@pytest.fixture
async def running(database: DatabaseSettings, tmp_path: Path) -> AsyncIterator[RunningCsms]:
    settings = make_settings(database).model_copy(update={"tls": TlsSettings(data_dir=tmp_path)})
    started = await start_csms(settings)
    try:
        yield started
    finally:
        await stop_csms(started)


@pytest.fixture(params=["1.6", "2.0.1"])
async def charger(request: pytest.FixtureRequest, running: RunningCsms) -> AsyncIterator[Charger]:
    version: str = request.param
    cp_id = f"CP-SIGN-{version}"
    await running.register(cp_id)
    client = await RawClient.connect(running.ocpp_url, cp_id, subprotocols=[f"ocpp{version}"])
    if version == "1.6":
        await client.boot()
    else:
        await client.result("BootNotification", BOOT_201)
    yield Charger(cp_id, version, client)
    await client.close()


async def test_a_good_csr_is_signed_and_certificate_signed_follows_the_answer(
    running: RunningCsms, charger: Charger, tmp_path: Path
) -> None:
    ca_file, key_file = tmp_path / "csms-ca.crt", tmp_path / "csms-ca.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # created at start, owner only
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())

    answer = await charger.client.call(
        "SignCertificate", charger.sign_request(csr_pem(charger.cp_id, key))
    )
    assert answer[0] == 3 and answer[2]["status"] == "Accepted", answer
    assert charger.client.server_calls == []  # nothing came before the answer

    call = await charger.client.recv()
    assert call[0] == 2 and call[2] == "CertificateSigned", call
    expected = {"certificateChain"}
    if charger.version == "2.0.1":
        assert call[3]["certificateType"] == "ChargingStationCertificate"
        expected.add("certificateType")
    assert set(call[3]) == expected
    chain = x509.load_pem_x509_certificates(call[3]["certificateChain"].encode())
    leaf = chain[0]
    leaf.verify_directly_issued_by(ca)
    assert common_name(leaf.subject) == charger.cp_id
    assert leaf.public_key() == key.public_key()
    await charger.client.send_raw(json.dumps([3, call[1], {"status": "Accepted"}]))

    # Kept, so that it can be listed and revoked.
    listed = await running.system.services.certificates.list_certificates(ALL, cp_id=charger.cp_id)
    assert [c.serial for c in listed.items] == [format(leaf.serial_number, "x")]


@pytest.mark.parametrize(
    ("problem", "cn", "key"),
    [
        ("wrong CN", "SOMEONE-ELSE", None),
        ("RSA 1024", None, "rsa1024"),
        ("not a CSR", None, "garbage"),
    ],
)
async def test_a_bad_csr_is_rejected_and_raises_a_security_alert(
    running: RunningCsms, charger: Charger, problem: str, cn: str | None, key: str | None
) -> None:
    if key == "garbage":
        csr = "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----"
    else:
        csr = csr_pem(cn or charger.cp_id, rsa_key(1024) if key == "rsa1024" else None)
    answer = await charger.client.call("SignCertificate", charger.sign_request(csr))
    assert answer[0] == 3 and answer[2]["status"] == "Rejected", (problem, answer)
    if charger.version == "2.0.1":
        assert answer[2]["statusInfo"]["reasonCode"] == "InvalidCSR"

    await running.system.services.alerts.settled()
    alerts = await running.api().get(
        "/api/v1/alerts", params={"chargePointId": charger.cp_id, "name": "SECURITY_EVENT"}
    )
    items = alerts.json()["data"]["items"]
    assert len(items) == 1, items
    assert items[0]["details"]["type"] == "InvalidCertificateSigningRequest"
    assert items[0]["details"]["techInfo"]
    # Nothing signed, nothing sent.
    listed = await running.system.services.certificates.list_certificates(ALL, cp_id=charger.cp_id)
    assert listed.items == []
    assert (await charger.client.result("Heartbeat", {}))["currentTime"]
    assert charger.client.server_calls == []


async def test_iso_15118_certificate_requests_are_not_supported(
    running: RunningCsms, tmp_path: Path
) -> None:
    await running.register("CS-V2G")
    client = await RawClient.connect(running.ocpp_url, "CS-V2G", subprotocols=["ocpp2.0.1"])
    await client.result("BootNotification", BOOT_201)
    answer = await client.result(
        "SignCertificate", {"csr": csr_pem("CS-V2G"), "certificateType": "V2GCertificate"}
    )
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "NotSupported"
    refused = await client.call(
        "Get15118EVCertificate",
        {
            "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
            "action": "Install",
            "exiRequest": "AA",
        },
    )
    assert refused[0] == 4 and refused[2] == "NotSupported", refused
    # Not a bad CSR: no alert.
    await running.system.services.alerts.settled()
    alerts = await running.api().get("/api/v1/alerts", params={"chargePointId": "CS-V2G"})
    assert alerts.json()["data"]["items"] == []
    await client.close()
