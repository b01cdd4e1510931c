"""TLS for the charger gateway: the server context of security profiles 2 and 3, the client
certificate a charger presented, and reloading certificates without dropping connections.

One listening context stays with the server for its lifetime; its SNI callback (called for every
ClientHello, with or without a server name) moves each new handshake onto the newest context
built from the files. A reload builds a new context and makes it the newest: connections already
up keep the one they started with, and a reload that fails leaves the one in use in place.
"""

from __future__ import annotations

import ssl
from asyncio import BaseTransport
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from csms.domain.certificates import PeerCertificate, peer_certificate
from csms.log import get_logger

__all__ = [
    "TLS12_CIPHERS",
    "ServerTls",
    "TlsError",
    "TlsFiles",
    "build_context",
    "client_certificate",
]

log = get_logger(__name__)

# OCPP 2.0.1 part 2 A00.FR.318 (and the 1.6 security whitepaper): the TLS 1.2 suites a charger
# may count on, in OpenSSL's names. Python's default server list leaves out the TLS_RSA_* ones
# (no forward secrecy), which chargers are allowed to offer alone; so the list is ours. TLS 1.3
# suites are not set by this string and stay OpenSSL's (all AEAD).
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",  # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        "ECDHE-ECDSA-AES256-GCM-SHA384",  # TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",  # TLS_RSA_WITH_AES_128_GCM_SHA256
        "AES256-GCM-SHA384",  # TLS_RSA_WITH_AES_256_GCM_SHA384
    )
)


class TlsError(RuntimeError):
    """A certificate, key or trust store cannot be loaded; the message names the file."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    # (certificate chain, key): one RSA and/or one ECDSA pair; OpenSSL picks per handshake.
    certificates: Sequence[tuple[Path, Path]]
    # Charger certificates must chain to these (PEM); None: no client certificate is asked.
    trust_store: Path | None


def build_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # TC_A_06: TLS 1.0/1.1 are refused
    context.set_ciphers(TLS12_CIPHERS)
    # A00.FR.321: no TLS compression (CRIME); and no renegotiation a client could start.
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    for certificate, key in files.certificates:
        try:
            context.load_cert_chain(certificate, key)
        except (OSError, ssl.SSLError) as exc:
            raise TlsError(f"TLS certificate {certificate} / key {key}: {exc}") from exc
    if files.trust_store is not None:
        try:
            context.load_verify_locations(cafile=files.trust_store)
        except (OSError, ssl.SSLError) as exc:
            raise TlsError(f"TLS trust store {files.trust_store}: {exc}") from exc
        # Asked for, not required: profile 1/2 chargers share the port and bring none. A
        # certificate that is presented must chain to the trust store, or the handshake fails;
        # whether it had to be presented, and whose it is, the gateway decides per charger.
        context.verify_mode = ssl.CERT_OPTIONAL
        # Every certificate in the trust store is an anchor, a sub-CA too (the operator's CA
        # may be one): the chain need not go on to a self-signed root.
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


class ServerTls:
    """The gateway's TLS: ``context`` for the server, ``reload()`` for SIGHUP."""

    def __init__(self, files: TlsFiles) -> None:
        self._files = files
        self._listening: ssl.SSLContext | None = None
        self._newest: ssl.SSLContext | None = None

    def load(self) -> None:
        """Build the first context (at start, before the server binds); TlsError."""
        context = build_context(self._files)
        context.sni_callback = self._to_newest
        self._listening = self._newest = context

    @property
    def context(self) -> ssl.SSLContext:
        assert self._listening is not None, "ServerTls.load() first"
        return self._listening

    @property
    def newest(self) -> ssl.SSLContext:
        assert self._newest is not None, "ServerTls.load() first"
        return self._newest

    def reload(self) -> None:
        """Re-read the certificates, keys and trust store for the handshakes that follow;
        TlsError leaves the context in use unchanged."""
        context = build_context(self._files)
        context.sni_callback = self._to_newest
        self._newest = context
        log.info("TLS certificates reloaded")

    def _to_newest(
        self, connection: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext
    ) -> None:
        # The verify mode and ciphers were set on the listening context and stay; the new
        # context brings its certificates and its trust store (OpenSSL's SSL_set_SSL_CTX).
        newest = self._newest
        if newest is not None and connection.context is not newest:
            connection.context = newest


def client_certificate(transport: BaseTransport | None) -> PeerCertificate | None:
    """The certificate the charger presented on this connection, verified by TLS; None over
    plain ws://, when none was presented, or when the server did not ask for one."""
    ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    # Only what TLS verified counts: with CERT_NONE a presented certificate is not checked.
    if ssl_object.context.verify_mode == ssl.CERT_NONE:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return None if der is None else peer_certificate(der)
