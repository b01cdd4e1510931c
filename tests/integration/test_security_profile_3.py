"""Security profile 3 over real wss:// on 127.0.0.1: client certificates, the TLS versions and
cipher suites offered, RSA and ECDSA server certificates, and reloading certificates."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import load_der_x509_certificate
from websockets.exceptions import InvalidStatus

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
    ) -> RawClient:
        return await RawClient.connect(
            self.url,
            cp_id,
            password=password,
            ssl=context or client_context(self.server_ca, client),
        )


@pytest.fixture
async def pki(tmp_path: Path) -> AsyncIterator[Pki]:
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
