"""The charger-facing websocket server: URL → identity, authentication, subprotocol, session.

Only moves frames: everything a frame means is decided in csms.ocpp and csms.services.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ssl
import weakref
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, NegotiationError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from csms.config import OcppSettings
from csms.domain.identities import is_identity
from csms.gateway.admission import AddressCounter, admission_controlled, client_address
from csms.gateway.tls import ServerTls, client_certificate
from csms.log import get_logger
from csms.ocpp.connection import OcppConnection
from csms.ocpp.sessions import SessionRegistry
from csms.ocpp.versions import SUBPROTOCOLS
from csms.services.chargers import ChargerService

__all__ = ["OcppGateway", "identity_from_path", "parse_basic_auth"]

log = get_logger(__name__)

ConnectionFactory = Callable[[str, str, ServerConnection, bool], OcppConnection]


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
        self._registered: weakref.WeakKeyDictionary[ServerConnection, bool] = (
            weakref.WeakKeyDictionary()
        )
        self._handlers: set[asyncio.Task[Any]] = set()
        self._admission = AddressCounter(settings.max_connections_per_address)

    @property
    def port(self) -> int:
        assert self._server is not None
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

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

    async def stop_accepting(self) -> None:
        """Stop taking new connections; live ones stay until close_connections."""
        if self._server is not None:
            self._server.close(close_connections=False)

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
            return response
        self._registered[connection] = outcome.registered
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
            self._registered.pop(ws, None)

    async def _serve(self, ws: ServerConnection) -> None:
        identity = identity_from_path(ws.request.path if ws.request else "")
        version = SUBPROTOCOLS.get(ws.subprotocol or "")
        if identity is None or version is None:  # cannot happen after _process_request
            await ws.close(1002, "no OCPP session")
            return
        boot_accepted = await self._chargers.connected(
            identity, version, registered=self._registered.get(ws, True)
        )
        session = self._connection_factory(identity, version, ws, boot_accepted)
        await self._sessions.attach(session)
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
                await self._chargers.disconnected(identity, version, ws.close_code)
