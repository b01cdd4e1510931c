"""Composition root: builds the store, services, gateway and API, and runs them in one event loop.

Shutdown order (as uvicorn does it): stop accepting chargers → close their connections → finish
commands → store the alerts noted → stop the API → stop the webhook deliveries → flush the
message log → close the store, each bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn
from websockets.asyncio.server import ServerConnection

from csms import __version__
from csms.api.app import create_api
from csms.api.context import ApiContext
from csms.cluster.node import ClusterNode, default_node_id
from csms.cluster.routing import RoutedLink
from csms.config import Settings
from csms.domain.certificates import PeerCertificate
from csms.domain.clock import Clock, system_clock
from csms.domain.throttling import FailureThrottle
from csms.gateway.server import OcppGateway
from csms.gateway.tls import ServerTls, TlsFiles
from csms.log import get_logger
from csms.metrics import Metrics
from csms.ocpp.connection import OcppConnection
from csms.ocpp.dispatch import CommandDispatcher
from csms.ocpp.schemas import V16_SCHEMAS, V201_SCHEMAS
from csms.ocpp.sessions import SessionRegistry
from csms.services.certificate_authority import CaError
from csms.services.socket_index import SocketIndex
from csms.store.repositories import Store
from csms.store.sqlite import SqliteStore
from csms.wiring import build_protocols, build_services

__all__ = ["CentralSystem", "open_store"]

log = get_logger(__name__)

_HOUSEKEEPING_SECONDS = 60.0


def open_store(settings: Settings, on_batch: Callable[[int, float], None] | None = None) -> Store:
    """The backend the settings name (``[database] url``): PostgreSQL, or SQLite by default."""
    database = settings.database
    if database.backend == "postgresql":
        # Imported here: a SQLite deployment never loads the PostgreSQL driver.
        from csms.store.postgres import PostgresStore

        assert database.url is not None
        return PostgresStore(
            database.url,
            pool_size=database.pool_size,
            statement_timeout=database.statement_timeout,
            max_batch=database.max_batch,
            on_batch=on_batch,
        )
    return SqliteStore(
        database.sqlite_path,
        synchronous=database.synchronous,
        max_batch=database.max_batch,
        on_batch=on_batch,
    )


class CentralSystem:
    """The whole server. ``start`` binds both ports; ``stop`` shuts down in order."""

    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self._clock = clock
        self.sessions = SessionRegistry()
        self.metrics = Metrics(
            self.sessions.count_by_version,
            known_actions=V16_SCHEMAS.actions | V201_SCHEMAS.actions,
        )
        self.store = open_store(settings, on_batch=self.metrics.db_batch)
        self.sockets = SocketIndex()
        # [cluster] nats_url: one node of several over one PostgreSQL database (ADR 013).
        self.node_id: str | None = None
        self.cluster: ClusterNode | None = None
        routed: RoutedLink | None = None
        if settings.cluster.nats_url is not None:
            self.node_id = settings.cluster.node_id or default_node_id(settings.ocpp.port)
            self.cluster = ClusterNode(settings.cluster, self.node_id, clock, self.sessions)
            assert self.store.cluster is not None  # a cluster runs on PostgreSQL (Settings)
            routed = RoutedLink(
                CommandDispatcher(self.sessions), self.cluster.link, self.store.cluster
            )
        self.services = build_services(
            settings,
            self.store,
            clock,
            sessions=self.sessions,
            sockets=self.sockets,
            metrics=self.metrics,
            is_connected=self._is_connected,
            node_id=self.node_id,
            charger_link=routed,
        )
        services = self.services
        if routed is not None:
            services.chargers.end_session = routed.end_session
        certificates = services.certificates
        events = services.events
        self._protocols = build_protocols(settings, services)
        # wss:// when a server certificate is configured; charger certificates are checked
        # against [tls] client_ca_file, else against the CA (which exists once start() ran).
        self.tls: ServerTls | None = None
        if settings.server_certificates:
            trust_store = settings.tls.client_ca_file or certificates.ca_certificate_file
            if trust_store is None:
                log.warning("no trust store for client certificates: profile 3 cannot log in")
            self.tls = ServerTls(TlsFiles(settings.server_certificates, trust_store))
        self.gateway = OcppGateway(
            settings.ocpp, self.services.chargers, self.sessions, self._new_connection, self.tls
        )
        self.gateway.watch_revocations(certificates, settings.tls.revocation_check_s)
        self.api = create_api(
            ApiContext(
                chargers=self.services.chargers,
                transactions=self.services.transactions,
                id_tags=self.services.id_tags,
                api_tokens=self.services.api_tokens,
                messages=self.services.messages,
                commands=self.services.commands,
                state=self.services.state,
                reports=self.services.reports,
                sites=self.services.sites,
                catalogue=self.services.catalogue,
                evses=self.services.evses,
                circuits=self.services.circuits,
                load_manager=self.services.load_manager,
                history=self.services.history,
                kpis=self.services.kpis,
                alerts=self.services.alerts,
                webhooks=self.services.webhooks,
                sessions=self.sessions,
                events=events,
                version=__version__,
                metrics=self.metrics.render,
                cluster_health=None if self.cluster is None else self.cluster.health,
                public_metrics=settings.api.public_metrics,
                max_body_bytes=settings.api.max_body_bytes,
                token_failures=FailureThrottle(
                    settings.api.auth_max_failures,
                    settings.api.auth_failure_window_s,
                    settings.api.auth_lockout_s,
                ),
            )
        )
        self.services.commands.on_completed = self.metrics.command_completed
        self._recorder = self.metrics.counting(self.services.message_log)
        self._uvicorn: uvicorn.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped = asyncio.Event()

    def _new_connection(
        self,
        identity: str,
        version: str,
        ws: ServerConnection,
        boot_accepted: bool,
        certificate: PeerCertificate | None,
    ) -> OcppConnection:
        protocol = self._protocols[version]
        return OcppConnection(
            charge_point_id=identity,
            ocpp_version=version,
            transport=ws,
            handlers=protocol.handlers,
            schemas=protocol.schemas,
            recorder=self._recorder,
            clock=self._clock,
            boot_accepted=boot_accepted,
            allowed_before_boot=protocol.allowed_before_boot,
            on_handled=self.metrics.handler_latency,
            call_rate_limit=self.settings.ocpp.call_rate_limit,
            call_rate_burst=self.settings.ocpp.call_rate_burst,
            certificate=certificate,
        )

    def _is_connected(self, cp_id: str) -> bool:
        session = self.sessions.get(cp_id)
        if session is not None and not session.closed:
            return True
        # A cluster: connected to another node, as its events told.
        return self.cluster is not None and self.sockets.is_connected(cp_id)

    @property
    def ocpp_port(self) -> int:
        return self.gateway.port

    @property
    def api_port(self) -> int:
        assert self._uvicorn is not None and self._uvicorn.servers
        sockets = self._uvicorn.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        # A node that cannot join its cluster (NATS unreachable, its id taken) stops before
        # anything is opened.
        if self.cluster is not None:
            await self.cluster.start()
            await self.cluster.relay_events(self.services.events)
        # Files first: a CA or certificate that cannot be read stops the start before anything
        # is opened (CaError, TlsError: RuntimeErrors naming the file).
        self.services.certificates.start()
        if self.tls is not None:
            self.tls.load()
        await self.store.open()
        if self.cluster is not None:
            assert self.store.cluster is not None  # a cluster runs on PostgreSQL (Settings)
            services = self.services
            await self.cluster.share_work(
                self.store.cluster,
                services.load_manager,
                services.webhooks,
                services.circuits,
                services.evses,
            )
        # First: what the webhooks want decides which events are written from now on; and the
        # subscriptions left with undelivered events resume.
        await self.services.webhooks.start()
        if self.cluster is None:
            # Nothing is connected to a process that just started, whatever the last one
            # recorded.
            await self.store.chargers.mark_all_disconnected()
        else:
            # Only what this node held before is not connected; the other nodes' chargers are.
            assert self.store.cluster is not None  # a cluster runs on PostgreSQL (Settings)
            holders = await self.cluster.hold_chargers(self.store.cluster, self.services.chargers)
            self.gateway.on_claimed = holders.claimed
        self.sockets.load(await self.store.chargers.list_socket_states())
        # Before the gateway: the chargers offline now are all of them, none connected yet.
        await self.services.alerts.start()
        await self.services.api_tokens.install(self.settings.api.tokens)
        self._spawn(self.services.message_log.run(), "message-log")
        self._spawn(self._housekeeping(), "housekeeping")
        self._spawn(self.services.load_manager.run(), "load-manager")
        self._spawn(self.services.history.run(), "history")
        # After mark_all_disconnected (the history it reads is final), before the gateway (a
        # late change invalidates from the first frame on).
        await self.services.kpi_rollup.start()
        self._spawn(self.services.kpi_rollup.run(), "kpi-rollup")
        self._spawn(self.services.webhooks.run(), "webhook-purge")
        await self.gateway.start()
        config = uvicorn.Config(
            self.api,
            host=self.settings.api.host,
            port=self.settings.api.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        config.load()
        self._uvicorn = uvicorn.Server(config)
        # Server.serve() would install its own signal handlers and own the loop's lifetime; the
        # gateway shares the loop, so only uvicorn's startup and shutdown steps are used.
        self._uvicorn.lifespan = config.lifespan_class(config)
        try:
            await self._uvicorn.startup()
        except SystemExit as exc:  # uvicorn exits when it cannot bind
            raise RuntimeError(
                f"the API could not listen on {self.settings.api.host}:{self.settings.api.port}"
            ) from exc
        if self._uvicorn.should_exit:
            raise RuntimeError(
                f"the API could not listen on {self.settings.api.host}:{self.settings.api.port}"
            )
        log.info("api listening", host=self.settings.api.host, port=self.api_port)

    async def _housekeeping(self) -> None:
        """Once a minute: persist when connected chargers were last heard and when API tokens
        were last used, expire reservations."""
        while True:
            await asyncio.sleep(_HOUSEKEEPING_SECONDS)
            seen = [(s.charge_point_id, s.last_seen_at) for s in self.sessions.all()]
            try:
                await self.services.chargers.record_last_seen(seen)
                await self.services.api_tokens.flush_last_used()
                await self.services.state.expire_reservations()
            except Exception as exc:
                log.warning("housekeeping failed", error=repr(exc))

    def reload_certificates(self) -> None:
        """SIGHUP: read the CA, the server certificates and the trust store again. New
        handshakes use them; connections already up keep theirs, unless their certificate was
        revoked since. A file that cannot be read is logged and what was in use stays."""
        try:
            self.services.certificates.reload()
        except CaError as exc:
            log.error("certificate authority not reloaded", error=str(exc))
        self.gateway.reload_certificates()

    async def stop(self, timeout: float = 10.0) -> None:
        await self.gateway.stop_accepting()
        await self.gateway.close_connections(timeout)
        # Commands still waiting fail at once now that their chargers are gone; record that.
        await self.services.commands.drain(timeout)
        # After the last command.completed, before the store closes: alerts noted get stored.
        await self.services.alerts.stop(timeout)
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._uvicorn.shutdown(), timeout)
        # Before the store closes; a request cut short stays pending and goes out after a restart.
        await self.services.webhooks.stop(timeout)
        if self.cluster is not None:
            await self.cluster.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.services.message_log.flush(include_open=True)
        try:
            await self.services.api_tokens.flush_last_used()
        except Exception as exc:  # a lost "last used" must not keep the store open
            log.warning("api token last use not written", error=repr(exc))
        await self.store.close()
        self._stopped.set()

    async def serve_forever(self) -> None:
        """Run until SIGINT/SIGTERM, then shut down gracefully."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop_requested.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload_certificates)
        await self.start()
        # Everything built so far lives as long as the process: move it out of the collector's
        # way, so full collections stay short when tens of thousands of chargers connect.
        gc.collect()
        gc.freeze()
        try:
            await stop_requested.wait()
            log.info("shutting down")
        finally:
            await self.stop()
