"""The charger-facing websocket server: URL → identity, authentication, subprotocol, session.

Only moves frames: everything a frame means is decided in csms.ocpp and csms.services. Besides,
it ends the sessions whose client certificate was revoked since they were admitted.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ssl
import weakref
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, NegotiationError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from csms.config import OcppSettings
from csms.domain.certificates import PeerCertificate
from csms.domain.identities import is_identity
from csms.gateway.admission import AddressCounter, admission_controlled, client_address
from csms.gateway.tls import ServerTls, TlsError, client_certificate
from csms.log import get_logger
from csms.ocpp.connection import OcppConnection
from csms.ocpp.sessions import SessionRegistry
from csms.ocpp.versions import SUBPROTOCOLS
from csms.services.chargers import ChargerService, Connected

__all__ = ["OcppGateway", "RevokedAmong", "identity_from_path", "parse_basic_auth"]

log = get_logger(__name__)

# (identity, version, socket, boot accepted, the client certificate that let it in)
ConnectionFactory = Callable[
    [str, str, ServerConnection, bool, PeerCertificate | None], OcppConnection
]


class RevokedAmong(Protocol):
    """Which of these certificate serials are revoked (csms.services.certificates)."""

    async def revoked_among(self, serials: Collection[str]) -> set[str]: ...


@dataclass(frozen=True, slots=True)
class _Admission:
    """What the handshake decided, for the connection handler."""

    registered: bool
    certificate: PeerCertificate | None


def identity_from_path(path: str) -> str | None:
    """The last path segment, percent-decoded ("RDAM%7C123" → "RDAM|123"), OCPP-J §3.1.1; None
    unless it is an identifierString (so "%2F", a NUL or a newline never go further)."""
    segment = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    identity = unquote(segment)
    return identity if is_identity(identity) else None


def parse_basic_auth(headers: Headers) -> tuple[bytes, bytes] | None:
    """(username, password) as bytes: a 1.6 AuthorizationKey need not be valid UTF-8."""
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    username, sep, password = decoded.partition(b":")
    return (username, password) if sep else None


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    # The charger lists its versions in order of preference (OCPP-J §3.1.2); take its first that
    # we speak. No common one: refuse the upgrade rather than open a session we cannot serve.
    for subprotocol in offered:
        if subprotocol in SUBPROTOCOLS:
            return subprotocol
    raise NegotiationError(
        "no supported OCPP subprotocol offered; supported: " + ", ".join(SUBPROTOCOLS)
    )


class OcppGateway:
    def __init__(
        self,
        settings: OcppSettings,
        chargers: ChargerService,
        sessions: SessionRegistry,
        connection_factory: ConnectionFactory,
        tls: ServerTls | None = None,
    ) -> None:
        self._settings = settings
        self._tls = tls  # None: plain ws:// (csms.gateway.tls builds and reloads the context)
        self._chargers = chargers
        self._sessions = sessions
        self._connection_factory = connection_factory
        self._server: Server | None = None
        # Decided during the handshake, read once by the connection handler. Weak: a handshake
        # that fails after authentication (no common subprotocol) never reaches the handler.
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, _Admission] = (
            weakref.WeakKeyDictionary()
        )
        self._handlers: set[asyncio.Task[Any]] = set()
        self._admission = AddressCounter(settings.max_connections_per_address)
        self._revocations: RevokedAmong | None = None
        self._revocation_check_s = 0.0
        self._revocation_tasks: set[asyncio.Task[None]] = set()
        # In a cluster: told when a connection took its charger over from a node (maybe another
        # one, whose older connection must close).
        self.on_claimed: Callable[[str, Connected], Awaitable[None]] | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

    def watch_revocations(self, revocations: RevokedAmong, every_s: float) -> None:
        """End the sessions whose client certificate gets revoked: every ``every_s`` seconds
        once started (0: never by time), and on reload_certificates (SIGHUP)."""
        self._revocations = revocations
        self._revocation_check_s = every_s

    def _ssl_context(self) -> ssl.SSLContext | None:
        return None if self._tls is None else self._tls.context

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self._settings.host,
            self._settings.port,
            subprotocols=[Subprotocol(token) for token in SUBPROTOCOLS],
            select_subprotocol=_select_subprotocol,
            process_request=self._process_request,
            ping_interval=self._settings.ping_interval or None,
            ping_timeout=self._settings.ping_timeout or None,
            max_size=self._settings.max_frame_bytes,
            ssl=self._ssl_context(),
            # asyncio's default accept backlog (100) overflows in a reconnect storm after a
            # restart, and each dropped SYN costs that charger a 1 s retransmit (bench: 6 %).
            backlog=4096,
            create_connection=admission_controlled(self._admission),
        )
        log.info(
            "ocpp gateway listening",
            host=self._settings.host,
            port=self.port,
            tls=self._tls is not None,
        )
        if self._revocations is not None and self._revocation_check_s > 0:
            self._spawn(self._check_revocations_periodically())

    async def stop_accepting(self) -> None:
        """Stop taking new connections; live ones stay until close_connections."""
        if self._server is not None:
            self._server.close(close_connections=False)
        for task in list(self._revocation_tasks):
            task.cancel()
        await asyncio.gather(*self._revocation_tasks, return_exceptions=True)

    async def close_connections(self, timeout: float) -> None:
        await self._sessions.close_all()
        if self._server is not None:
            try:
                async with asyncio.timeout(timeout):
                    await self._server.wait_closed()
            except TimeoutError:
                log.warning("connections still open at shutdown; cancelling their handlers")
                for task in list(self._handlers):
                    task.cancel()

    def reload_certificates(self) -> None:
        """SIGHUP: new handshakes get the certificates and trust store as the files are now (a
        file that cannot be read is logged, and what was in use stays); sessions whose client
        certificate was revoked meanwhile (`csms cert revoke`, another process) end at once."""
        if self._tls is not None:
            try:
                self._tls.reload()
            except TlsError as exc:
                log.error("TLS certificates not reloaded", error=str(exc))
        if self._revocations is not None:
            self._spawn(self._check_revocations())

    async def close_revoked(self) -> int:
        """End (1008) every session whose client certificate is revoked now; how many.

        `csms cert revoke` runs in another process and writes to the store, which each handshake
        reads; a session admitted before the revocation learns of it here: on SIGHUP and every
        ``revocation_check_s``. One query for all the live certificates, nothing per frame.
        """
        if self._revocations is None:
            return 0
        certified = {
            session: session.certificate.serial
            for session in self._sessions.all()
            if session.certificate is not None
        }
        if not certified:
            return 0
        revoked = await self._revocations.revoked_among(set(certified.values()))
        ending = [s for s, serial in certified.items() if serial in revoked and not s.closed]
        for session in ending:
            log.warning(
                "session ended: client certificate revoked",
                charge_point_id=session.charge_point_id,
                serial=certified[session],
            )
        # At once, not one after the other: each close waits for its charger's close frame.
        await asyncio.gather(
            *(s.close(1008, "client certificate revoked") for s in ending), return_exceptions=True
        )
        return len(ending)

    async def _check_revocations(self) -> None:
        try:
            await self.close_revoked()
        except Exception as exc:  # the database away for a while: the next round tries again
            log.warning("revocation check failed", error=repr(exc))

    async def _check_revocations_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._revocation_check_s)
            await self._check_revocations()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._revocation_tasks.add(task)
        task.add_done_callback(self._revocation_tasks.discard)

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        identity = identity_from_path(request.path)
        if identity is None:
            return connection.respond(
                HTTPStatus.NOT_FOUND, "no valid charge point identity at the end of the URL\n"
            )
        outcome = await self._chargers.authenticate(
            identity,
            parse_basic_auth(request.headers),
            tls=self._server_is_tls(),
            certificate=client_certificate(connection.transport),
            address=client_address(connection),
        )
        if outcome.http_status is not None:
            log.info(
                "connection refused",
                charge_point_id=identity,
                status=outcome.http_status,
                reason=outcome.reason,
                remote=str(connection.remote_address),
            )
            response = connection.respond(outcome.http_status, outcome.reason + "\n")
            if outcome.http_status == HTTPStatus.UNAUTHORIZED:
                response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
            if outcome.retry_after is not None:
                # RFC 9110 §10.2.3: a charger that honours it waits out the lock-out instead of
                # retrying into it, only to be refused again.
                response.headers["Retry-After"] = str(outcome.retry_after)
            return response
        self._admitted[connection] = _Admission(outcome.registered, outcome.certificate)
        return None

    def _server_is_tls(self) -> bool:
        return self._tls is not None

    async def _handle(self, ws: ServerConnection) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve(ws)
        finally:
            self._handlers.discard(task)
            self._admitted.pop(ws, None)

    async def _serve(self, ws: ServerConnection) -> None:
        identity = identity_from_path(ws.request.path if ws.request else "")
        version = SUBPROTOCOLS.get(ws.subprotocol or "")
        if identity is None or version is None:  # cannot happen after _process_request
            await ws.close(1002, "no OCPP session")
            return
        admitted = self._admitted.get(ws, _Admission(True, None))
        connected = await self._chargers.connected(
            identity, version, registered=admitted.registered
        )
        session = self._connection_factory(
            identity, version, ws, connected.boot_accepted, admitted.certificate
        )
        session.holder_seq = connected.holder_seq
        await self._sessions.attach(session)
        if connected.previous_node is not None and self.on_claimed is not None:
            await self.on_claimed(identity, connected)
        log.info(
            "charger connected",
            charge_point_id=identity,
            ocpp_version=version,
            remote=str(ws.remote_address),
        )
        try:
            await session.run()
        except ConnectionClosed:
            pass
        finally:
            # The late close of a replaced connection must not mark the charger offline.
            still_current = self._sessions.detach(session)
            log.info(
                "charger disconnected",
                charge_point_id=identity,
                close_code=ws.close_code,
                close_reason=ws.close_reason,
                replaced=not still_current,
            )
            if still_current:
                await self._chargers.disconnected(
                    identity,
                    version,
                    ws.close_code,
                    holder=self._chargers.holder(session.holder_seq),
                )
