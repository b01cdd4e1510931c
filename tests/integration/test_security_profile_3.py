"""Security profile 3 over real wss:// on 127.0.0.1: client certificates, the TLS versions and
cipher suites offered, RSA and ECDSA server certificates, reloading certificates, the 2.0.1
BootNotification checked against the certificate, and revocation reaching live connections."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import load_der_x509_certificate
from websockets.exceptions import ConnectionClosed, InvalidStatus

from csms.config import TlsSettings
from csms.gateway.tls import TlsFiles, build_context
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms
from tests.ocpp_client import RawClient
from tests.pki import Ca, Issued, client_context, fingerprint, rsa_key

CP = "CP-SP3"


@dataclass
class Pki:
    running: RunningCsms
    server_ca: Ca  # signs the CSMS's server certificates
    charger_ca: Ca  # the CSMS's CA ([tls] ca_cert_file): trusted for charger certificates
    server_rsa: Issued
    server_ecdsa: Issued

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.running.system.ocpp_port}/ocpp"

    async def connect(
        self,
        cp_id: str,
        client: Issued | None = None,
        *,
        password: str | None = None,
        context: ssl.SSLContext | None = None,
        subprotocols: Sequence[str] = ("ocpp1.6",),
    ) -> RawClient:
        return await RawClient.connect(
            self.url,
            cp_id,
            password=password,
            ssl=context or client_context(self.server_ca, client),
            subprotocols=subprotocols,
        )


@pytest.fixture
async def pki(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Pki]:
    """A central system serving wss://; ``revocation_check_s`` by indirect parametrisation
    (default: 0, on SIGHUP only, so that no check runs unasked)."""
    server_ca = Ca.create(tmp_path / "server", "server CA")
    server_rsa = server_ca.issue("localhost", key=rsa_key(), server=True, file_name="rsa")
    server_ecdsa = server_ca.issue("localhost", server=True, file_name="ecdsa")
    charger_ca = Ca.create(tmp_path / "chargers", "charger CA")
    tls = TlsSettings(
        server_cert_file=server_rsa.cert_file,
        server_key_file=server_rsa.key_file,
        server_ecdsa_cert_file=server_ecdsa.cert_file,
        server_ecdsa_key_file=server_ecdsa.key_file,
        ca_cert_file=charger_ca.cert_file,
        ca_key_file=charger_ca.key_file,
        revocation_check_s=getattr(request, "param", 0.0),
    )
    settings = make_settings(tmp_path / "sp3.db").model_copy(update={"tls": tls})
    running = await start_csms(settings)
    try:
        await running.register(CP, securityProfile=3)
        yield Pki(running, server_ca, charger_ca, server_rsa, server_ecdsa)
    finally:
        await stop_csms(running)


async def assert_http_401(
    pki: Pki, cp_id: str, client: Issued | None, password: str | None = None
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await pki.connect(cp_id, client, password=password)
    assert refused.value.response.status_code == 401


async def assert_tls_refused(pki: Pki, context: ssl.SSLContext, cp_id: str = CP) -> None:
    """The handshake fails: no HTTP answer at all (a TLS alert, seen as an SSL error or as the
    connection closing before the upgrade's answer)."""
    with pytest.raises(Exception) as refused:
        await pki.connect(cp_id, context=context)
    assert not isinstance(refused.value, InvalidStatus), refused.value
    chain: list[BaseException] = []
    error: BaseException | None = refused.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, ssl.SSLError | EOFError | ConnectionError) for e in chain), chain


async def test_a_certificate_naming_the_charger_lets_it_in(pki: Pki) -> None:
    # CN compared ignoring case, as identities are.
    client = await pki.connect(CP, pki.charger_ca.issue(CP.lower()))
    assert (await client.boot())["status"] == "Accepted"
    await client.close()


async def test_no_certificate_no_entry_not_even_with_a_password(pki: Pki) -> None:
    api = pki.running.api()
    # A password on record does not open a second way in (no downgrade to profile 2).
    response = await api.patch(f"/api/v1/charge-points/{CP}", json={"password": "basic-pw-1234"})
    assert response.status_code == 200
    await assert_http_401(pki, CP, None)
    await assert_http_401(pki, CP, None, password="basic-pw-1234")


async def test_another_chargers_certificate_is_refused(pki: Pki) -> None:
    await assert_http_401(pki, CP, pki.charger_ca.issue("CP-OTHER"))


async def test_a_certificate_from_another_ca_fails_the_handshake(pki: Pki, tmp_path: Path) -> None:
    stranger = Ca.create(tmp_path / "stranger", "stranger CA").issue(CP)
    await assert_tls_refused(pki, client_context(pki.server_ca, stranger))


async def test_a_revoked_certificate_is_refused(pki: Pki) -> None:
    certificates = pki.running.system.services.certificates
    issued = await certificates.issue(CP)  # what `csms cert issue` does
    folder = pki.charger_ca.folder
    (folder / "issued.crt").write_text(issued.certificate_pem)
    (folder / "issued.key").write_text(issued.key_pem)
    context = client_context(pki.server_ca)
    context.load_cert_chain(folder / "issued.crt", folder / "issued.key")
    client = await pki.connect(CP, context=context)
    await client.close()
    await certificates.revoke(issued.record.serial.upper())
    with pytest.raises(InvalidStatus) as refused:
        await pki.connect(CP, context=context)
    assert refused.value.response.status_code == 401


async def test_profile_2_ignores_a_certificate_and_wants_its_password(pki: Pki) -> None:
    await pki.running.register("CP-SP2", password="profile-2-pass", securityProfile=2)
    own = pki.charger_ca.issue("CP-SP2")
    await assert_http_401(pki, "CP-SP2", own)
    client = await pki.connect("CP-SP2", own, password="profile-2-pass")
    await client.close()
    client = await pki.connect("CP-SP2", password="profile-2-pass")
    await client.close()


async def test_profiles_2_and_3_never_connect_over_plain_ws(csms: RunningCsms) -> None:
    await csms.register("CP-PLAIN3", securityProfile=3)
    await csms.register("CP-PLAIN2", password="profile-2-pass", securityProfile=2)
    for cp_id, password in (("CP-PLAIN3", None), ("CP-PLAIN2", "profile-2-pass")):
        with pytest.raises(InvalidStatus) as refused:
            await RawClient.connect(csms.ocpp_url, cp_id, password=password)
        assert refused.value.response.status_code == 401


async def test_tls_1_1_is_refused(pki: Pki) -> None:
    context = client_context(pki.server_ca, pki.charger_ca.issue(CP))
    with warnings.catch_warnings():  # deprecated: which is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer 1.1 at all
    await assert_tls_refused(pki, context)


def test_the_four_ocpp_cipher_suites_are_offered(tmp_path: Path) -> None:
    server_ca = Ca.create(tmp_path, "server CA")
    server = server_ca.issue("localhost", key=rsa_key(), server=True)
    context = build_context(TlsFiles([(server.cert_file, server.key_file)], None))
    names = {c["name"] for c in context.get_ciphers()}
    assert {
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",  # TLS_RSA_WITH_AES_128_GCM_SHA256: not in Python's default list
        "AES256-GCM-SHA384",
    } <= names
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.options & ssl.OP_NO_COMPRESSION


@pytest.mark.parametrize(
    ("cipher", "key_type"),
    [
        ("ECDHE-ECDSA-AES128-GCM-SHA256", ec.EllipticCurvePublicKey),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", ec.EllipticCurvePublicKey),
        ("ECDHE-RSA-AES128-GCM-SHA256", rsa.RSAPublicKey),
        ("AES128-GCM-SHA256", rsa.RSAPublicKey),
        ("AES256-GCM-SHA384", rsa.RSAPublicKey),
    ],
)
async def test_each_suite_negotiates_with_its_server_certificate(
    pki: Pki, cipher: str, key_type: type
) -> None:
    """A TLS 1.2 charger that offers one suite only gets it, with the matching certificate."""
    context = client_context(pki.server_ca, pki.charger_ca.issue(CP))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(cipher)
    client = await pki.connect(CP, context=context)
    tls = client.ws.transport.get_extra_info("ssl_object")
    assert tls.version() == "TLSv1.2" and tls.cipher()[0] == cipher
    server_certificate = load_der_x509_certificate(tls.getpeercert(binary_form=True))
    assert isinstance(server_certificate.public_key(), key_type)
    await client.close()


async def test_reloaded_certificates_serve_new_handshakes_and_keep_live_connections(
    pki: Pki, tmp_path: Path
) -> None:
    before = await pki.connect(CP, pki.charger_ca.issue(CP))
    await before.boot()
    old_server = before.ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)

    # New server certificates from another CA, and a new charger CA, in the same files.
    new_server_ca = Ca.create(tmp_path / "server2", "new server CA")
    for old in (pki.server_rsa, pki.server_ecdsa):
        key = rsa_key(which=1) if old is pki.server_rsa else None
        fresh = new_server_ca.issue("localhost", key=key, server=True, file_name="fresh")
        old.cert_file.write_bytes(fresh.cert_file.read_bytes())
        old.key_file.write_bytes(fresh.key_file.read_bytes())
    new_charger_ca = Ca.create(tmp_path / "chargers2", "new charger CA")
    pki.charger_ca.cert_file.write_bytes(new_charger_ca.cert_file.read_bytes())
    pki.charger_ca.key_file.write_bytes(new_charger_ca.key_file.read_bytes())
    pki.running.system.reload_certificates()  # what SIGHUP runs

    # The live connection carries on...
    assert (await before.result("Heartbeat", {}))["currentTime"]
    # ...new handshakes get the new server certificate and trust the new charger CA only.
    after = await pki.connect(CP, context=client_context(new_server_ca, new_charger_ca.issue(CP)))
    new_server = after.ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
    assert fingerprint(new_server) != fingerprint(old_server)
    await after.close()
    await assert_tls_refused(
        pki, client_context(new_server_ca, pki.charger_ca.issue(CP, file_name="old-ca-client"))
    )
    await before.close()


async def test_a_broken_file_on_reload_keeps_the_certificates_in_use(pki: Pki) -> None:
    pki.server_rsa.key_file.write_text("not a key")
    pki.running.system.reload_certificates()  # logged; the context in use stays
    client = await pki.connect(CP, pki.charger_ca.issue(CP))
    await client.close()


def _boot_201(serial_number: str | None) -> dict[str, Any]:
    station = {"model": "Wallbox-201", "vendorName": "Acme"}
    if serial_number is not None:
        station["serialNumber"] = serial_number
    return {"reason": "PowerUp", "chargingStation": station}


async def _closed_with(client: RawClient, timeout: float = 5) -> int | None:
    """The close code once the server has closed the connection (nothing else may arrive)."""
    with pytest.raises(ConnectionClosed):
        await client.recv(timeout)
    return client.ws.close_code


async def test_a_2_0_1_boot_with_another_serial_number_than_the_certificate_is_closed(
    pki: Pki,
) -> None:
    """B01.FR.11/12: the serialNumber must be the certificate's CN, else the connection ends."""
    client = await pki.connect(CP, pki.charger_ca.issue(CP), subprotocols=["ocpp2.0.1"])
    answer = await client.call("BootNotification", _boot_201("SN-NOT-MINE"))
    assert answer[0] == 4 and answer[2] == "SecurityError", answer
    assert "SN-NOT-MINE" in answer[3]
    assert await _closed_with(client) == 1008  # policy violation

    api = pki.running.api()
    await pki.running.system.services.alerts.settled()
    alerts = await api.get("/api/v1/alerts", params={"chargePointId": CP, "name": "SECURITY_EVENT"})
    [alert] = alerts.json()["data"]["items"]
    assert alert["details"]["type"] == "InvalidChargingStationCertificate"
    assert "SN-NOT-MINE" in alert["details"]["techInfo"]
    # Nothing of a boot that contradicts its certificate is kept.
    charger = (await api.get(f"/api/v1/charge-points/{CP}")).json()["data"]
    assert charger["bootInfo"]["serialNumber"] is None and charger["bootInfo"]["vendor"] is None


@pytest.mark.parametrize("serial_number", [CP, CP.lower(), None])
async def test_a_2_0_1_boot_with_the_certificates_serial_number_or_none_is_accepted(
    pki: Pki, serial_number: str | None
) -> None:
    client = await pki.connect(CP, pki.charger_ca.issue(CP), subprotocols=["ocpp2.0.1"])
    assert (await client.result("BootNotification", _boot_201(serial_number)))["status"] == (
        "Accepted"
    )
    assert (await client.result("Heartbeat", {}))["currentTime"]
    await client.close()


async def test_below_profile_3_the_boot_serial_number_is_not_compared(pki: Pki) -> None:
    await pki.running.register("CS-SP2", password="profile-2-pass", securityProfile=2)
    client = await pki.connect(
        "CS-SP2",
        pki.charger_ca.issue("CS-SP2"),  # presented, but the password is what let it in
        password="profile-2-pass",
        subprotocols=["ocpp2.0.1"],
    )
    assert (await client.result("BootNotification", _boot_201("SN-201")))["status"] == "Accepted"
    await client.close()


@dataclass
class Provisioned:
    client: RawClient
    serial: str
    context: ssl.SSLContext  # presents the certificate


async def _connect_with_issued(pki: Pki, cp_id: str, version: str = "1.6") -> Provisioned:
    """A charger connected with a certificate from the CSMS's CA (kept, so revocable)."""
    issued = await pki.running.system.services.certificates.issue(cp_id)  # `csms cert issue`
    folder = pki.charger_ca.folder
    cert_file, key_file = folder / f"{cp_id}-issued.crt", folder / f"{cp_id}-issued.key"
    cert_file.write_text(issued.certificate_pem)
    key_file.write_text(issued.key_pem)
    context = client_context(pki.server_ca)
    context.load_cert_chain(cert_file, key_file)
    client = await pki.connect(cp_id, context=context, subprotocols=[f"ocpp{version}"])
    if version == "1.6":
        await client.boot()
    else:
        await client.result("BootNotification", _boot_201(cp_id))
    return Provisioned(client, issued.record.serial, context)


@pytest.mark.parametrize("pki", [0.1], indirect=True)
async def test_revoking_a_certificate_ends_the_live_connection_within_the_check_interval(
    pki: Pki,
) -> None:
    await pki.running.register("CP-KEEP", securityProfile=3)
    revoked = await _connect_with_issued(pki, CP)
    kept = await _connect_with_issued(pki, "CP-KEEP", "2.0.1")
    # What `csms cert revoke` does from its own process: a row in the store, nothing more.
    await pki.running.system.services.certificates.revoke(revoked.serial)
    assert await _closed_with(revoked.client) == 1008
    # Another charger's certificate is not touched; the revoked one stays refused.
    assert (await kept.client.result("Heartbeat", {}))["currentTime"]
    await kept.client.close()
    with pytest.raises(InvalidStatus) as refused:
        await pki.connect(CP, context=revoked.context)
    assert refused.value.response.status_code == 401


async def test_on_sighup_a_revoked_certificates_connection_ends_at_once(pki: Pki) -> None:
    charger = await _connect_with_issued(pki, CP, "2.0.1")
    await pki.running.system.services.certificates.revoke(charger.serial)
    # No check by time in this fixture: the connection is served until something asks.
    assert (await charger.client.result("Heartbeat", {}))["currentTime"]
    pki.running.system.reload_certificates()  # what SIGHUP runs
    assert await _closed_with(charger.client) == 1008
