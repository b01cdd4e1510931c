"""Connection, call plumbing and the simple step-by-step calls of a 1.6 charger.

Layers, bottom up: this module (talking), ``v16_transactions`` (queued
transaction messages), ``v16_sessions`` (sessions, automatic mode, reset) and
``v16`` (answers to the server's CALLs).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.typing import Subprotocol

from simulators._ocpp import ChargePointBase, OCPPError, call
from simulators.backoff import Backoff
from simulators.config import ConfigStore, default_entries
from simulators.connector import Connector
from simulators.errors import (
    TRANSIENT_ERRORS,
    ConnectionLostError,
    NotConnectedError,
)
from simulators.meter import EnergyMeter
from simulators.profiles import ProfileStore
from simulators.timeutil import utc_now_iso

VENDOR = "CSMS-Sim"
MODEL = "Sim-16"
FIRMWARE = "1.0.0"
SUBPROTOCOL = Subprotocol("ocpp1.6")
# A connection that lived this long was healthy: reconnect without delay.
STABLE_SECONDS = 10.0

Followup = tuple[str, Callable[[], Coroutine[Any, Any, Any]]]


class ChargePoint16Core(ChargePointBase):
    def __init__(
        self,
        identity: str,
        url: str,
        password: str | bytes | None = None,
        *,
        connectors: int = 2,
        auto: bool = False,
        meter_interval: float = 5.0,
        session_seconds: float = 60.0,
        idle_seconds: float = 10.0,
        id_tag: str = "SIM-TAG",
        power_w: float = 11000.0,
        phases: int = 3,
        response_timeout: float = 10.0,
        reconnect_initial: float = 1.0,
        reconnect_max: float = 30.0,
        finishing_seconds: float = 1.0,
    ) -> None:
        super().__init__(identity, None, response_timeout, logging.getLogger("ocpp"))
        self.identity = identity
        self.url = url
        self._password = password.encode() if isinstance(password, str) else password
        self.auto = auto
        self.meter_interval = meter_interval
        self.session_seconds = session_seconds
        self.idle_seconds = idle_seconds
        self.id_tag = id_tag
        self.phases = phases
        self.finishing_seconds = finishing_seconds
        self.heartbeat_interval = 0
        self.response_timeout = response_timeout
        self.log: structlog.typing.FilteringBoundLogger = structlog.get_logger("simulators").bind(
            cp=identity
        )

        self.connectors: dict[int, Connector] = {
            n: Connector(n, EnergyMeter(max_power_w=power_w, phases=phases))
            for n in range(1, connectors + 1)
        }
        self.cp_operative = True
        self.config = ConfigStore(default_entries(connectors, 0, max(0, round(meter_interval))))
        self.profiles = ProfileStore(phases)

        # Every CALL the server sent us, in arrival order (for tests).
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.boot_count = 0
        self.boot_attempts = 0

        self._received_cond = asyncio.Condition()
        self._followups: list[Followup] = []

        self._ws: ClientConnection | None = None
        self._conn_lost: asyncio.Future[None] | None = None
        self._connected = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._disconnected.set()
        self._online = asyncio.Event()
        self._online.set()
        self._booted = asyncio.Event()
        self._hb_wake = asyncio.Event()
        self._stopping = False
        self._reconnect_now = False
        self._backoff = Backoff(reconnect_initial, reconnect_max)

        self._loop_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._conn_tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ state

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def booted(self) -> bool:
        return self._booted.is_set()

    @property
    def endpoint(self) -> str:
        return f"{self.url.rstrip('/')}/{self.identity}"

    def connector(self, connector_id: int) -> Connector:
        try:
            return self.connectors[connector_id]
        except KeyError:
            raise ValueError(f"{self.identity}: no connector {connector_id}") from None

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start the connect/reconnect loop in the background and return."""
        if self._loop_task is not None:
            return
        self._stopping = False
        self._loop_task = asyncio.create_task(
            self._connection_loop(), name=f"{self.identity}-connection"
        )
        self._on_started()

    def _on_started(self) -> None:
        """Hook for subclasses to start their background work."""

    async def stop(self) -> None:
        """Close the connection and cancel every task this charger owns."""
        self._stopping = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)
        tasks = [*self._tasks, *self._conn_tasks]
        if self._loop_task is not None:
            tasks.append(self._loop_task)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        self._loop_task = None
        self._tasks.clear()
        self._conn_tasks.clear()

    def _spawn(
        self, coro: Coroutine[Any, Any, Any], name: str, *, per_connection: bool = False
    ) -> asyncio.Task[Any]:
        """Create a task we keep a reference to (and cancel in stop())."""
        task = asyncio.create_task(coro, name=f"{self.identity}-{name}")
        owner = self._conn_tasks if per_connection else self._tasks
        owner.add(task)
        task.add_done_callback(self._task_done(owner))
        return task

    def _task_done(self, owner: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            owner.discard(task)
            if task.cancelled():
                return
            exc = task.exception()
            if exc is not None and not isinstance(exc, ConnectionLostError | NotConnectedError):
                self.log.warning("task_failed", task=task.get_name(), error=repr(exc))

        return done

    # ------------------------------------------------------------- connection

    def _auth_headers(self) -> dict[str, str]:
        if self._password is None:
            return {}
        raw = self.identity.encode() + b":" + self._password
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    async def _connection_loop(self) -> None:
        while not self._stopping:
            await self._online.wait()
            try:
                ws = await connect(
                    self.endpoint,
                    subprotocols=[SUBPROTOCOL],
                    additional_headers=self._auth_headers(),
                    open_timeout=10,
                    close_timeout=2,
                    proxy=None,
                )
            except InvalidURI:
                raise
            except (OSError, TimeoutError, WebSocketException) as exc:
                delay = self._backoff.next_delay()
                self.log.info("connect_failed", error=str(exc), retry_in=round(delay, 2))
                await asyncio.sleep(delay)
                continue
            if not self._online.is_set() or self._stopping:
                ws.transport.abort()
                continue
            self._reconnect_now = False
            loop = asyncio.get_running_loop()
            opened = loop.time()
            await self._serve(ws)
            # Back off from a server that keeps dropping us right away, but
            # come straight back after a stable link or a deliberate drop.
            if self._reconnect_now or loop.time() - opened >= STABLE_SECONDS:
                self._backoff.reset()
            elif not self._stopping:
                delay = self._backoff.next_delay()
                self.log.info("reconnect_backoff", retry_in=round(delay, 2))
                await asyncio.sleep(delay)

    async def _serve(self, ws: ClientConnection) -> None:
        if ws.subprotocol != SUBPROTOCOL:
            self.log.warning("subprotocol_not_agreed", subprotocol=ws.subprotocol)
        self._ws = ws
        self._connection = ws
        # Answers to calls cut off by the previous connection must not be
        # mistaken for answers on this one.
        while not self._response_queue.empty():
            self._response_queue.get_nowait()
        self._conn_lost = asyncio.get_running_loop().create_future()
        self._disconnected.clear()
        self._connected.set()
        self.log.info("connected", url=self.endpoint)
        reader = self._spawn(self._read(ws), "reader", per_connection=True)
        self._spawn(self._on_connected(), "on-connected", per_connection=True)
        try:
            await asyncio.wait({reader})
        finally:
            # State first: the awaits below may be interrupted by stop().
            self._connected.clear()
            if not self._conn_lost.done():
                self._conn_lost.set_result(None)
            self._ws = None
            ws.transport.abort()
            self._disconnected.set()
            self.log.info("disconnected")
            tasks = list(self._conn_tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=5.0)

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                text = message if isinstance(message, str) else message.decode()
                await self.route_message(text)

    async def _on_connected(self) -> None:
        if not self._booted.is_set():
            await self._boot_until_accepted()
        else:
            # Reconnect is not a reboot: no BootNotification, just resume.
            self.log.info("resumed")
        await self.send_all_statuses()
        self._spawn(self._heartbeat_loop(), "heartbeat", per_connection=True)
        self._on_ready()

    def _on_ready(self) -> None:
        """Hook: booted and statuses sent on this connection."""

    async def _boot_until_accepted(self) -> None:
        while True:
            try:
                result = await self.boot_notification()
            except (TimeoutError, OCPPError) as exc:
                self.log.warning("boot_failed", error=repr(exc))
                await asyncio.sleep(max(1, self.heartbeat_interval or 10))
                continue
            if self._booted.is_set():
                return
            await asyncio.sleep(max(1, int(result.interval)))

    async def _heartbeat_loop(self) -> None:
        while True:
            self._hb_wake.clear()
            try:
                # Waking early lets a new HeartbeatInterval apply at once.
                await asyncio.wait_for(self._hb_wake.wait(), max(1, self.heartbeat_interval))
                continue
            except TimeoutError:
                pass
            try:
                await self.heartbeat()
            except (TimeoutError, OCPPError) as exc:
                self.log.warning("heartbeat_failed", error=repr(exc))

    def _abort_connection(self) -> None:
        ws = self._ws
        if ws is not None:
            self._reconnect_now = True
            ws.transport.abort()

    async def drop_connection(self, timeout: float = 5.0) -> None:
        """Simulate a network failure; the charger reconnects by itself."""
        self._abort_connection()
        await self.wait_disconnected(timeout)

    def go_offline(self) -> None:
        """Drop the connection and stay disconnected until go_online()."""
        self._online.clear()
        self._abort_connection()

    def go_online(self) -> None:
        self._online.set()

    # ---------------------------------------------------------------- waiting

    async def _wait_event(
        self,
        event: asyncio.Event,
        timeout: float,
        what: str,
    ) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.identity}: not {what} within {timeout}s") from None

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await self._wait_event(self._connected, timeout, "connected")

    async def wait_disconnected(self, timeout: float = 5.0) -> None:
        await self._wait_event(self._disconnected, timeout, "disconnected")

    async def wait_booted(self, timeout: float = 5.0) -> None:
        await self._wait_event(self._booted, timeout, "booted")

    async def wait_for_call(
        self,
        action: str,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> dict[str, Any]:
        """Payload of the first ``action`` CALL received at index >= ``since``.

        Pass ``since=len(sim.received)`` to wait for a *new* call only.
        """

        def find() -> dict[str, Any] | None:
            for name, payload in self.received[since:]:
                if name == action:
                    return payload
            return None

        try:
            async with asyncio.timeout(timeout), self._received_cond:
                await self._received_cond.wait_for(lambda: find() is not None)
        except TimeoutError:
            raise TimeoutError(f"{self.identity}: no {action} received within {timeout}s") from None
        found = find()
        assert found is not None
        return found

    # ------------------------------------------------------ incoming CALLs

    def _after_reply(self, name: str, factory: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``factory()`` in its own task once the CALLRESULT has been sent.

        Awaiting a call inside an @on handler would deadlock the reader, and
        follow-ups must not overtake the answer they depend on.
        """
        self._followups.append((name, factory))

    async def _handle_call(self, msg: Any) -> Any:
        self._followups = []
        try:
            return await super()._handle_call(msg)
        finally:
            followups, self._followups = self._followups, []
            self.received.append((str(msg.action), dict(msg.payload)))
            async with self._received_cond:
                self._received_cond.notify_all()
            for name, factory in followups:
                self._spawn(factory(), name)

    # ------------------------------------------------------ outgoing CALLs

    async def _call(self, payload: Any) -> Any:
        """Send a CALL; raise on CALLERROR, timeout or connection loss."""
        action = type(payload).__name__
        lost = self._conn_lost
        if self._ws is None or lost is None or lost.done():
            raise NotConnectedError(f"{self.identity}: cannot send {action}, not connected")
        request = asyncio.ensure_future(self.call(payload, suppress=False))
        try:
            await asyncio.wait({request, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not request.done():
                request.cancel()
                await asyncio.wait({request})
        if request.cancelled():
            raise ConnectionLostError(f"{self.identity}: connection lost during {action}")
        try:
            return request.result()
        except ConnectionClosed as exc:
            raise ConnectionLostError(f"{self.identity}: connection lost during {action}") from exc

    async def boot_notification(self) -> Any:
        self.boot_attempts += 1
        result = await self._call(
            call.BootNotification(
                charge_point_vendor=VENDOR,
                charge_point_model=MODEL,
                charge_point_serial_number=self.identity,
                charge_box_serial_number=self.identity,
                firmware_version=FIRMWARE,
            )
        )
        self.log.info("boot", status=result.status, interval=result.interval)
        if result.status == "Accepted":
            self.boot_count += 1
            if result.interval > 0:
                self.heartbeat_interval = int(result.interval)
                self.config.set_internal("HeartbeatInterval", str(self.heartbeat_interval))
                self._hb_wake.set()
            self._booted.set()
        return result

    async def heartbeat(self) -> Any:
        return await self._call(call.Heartbeat())

    async def authorize(self, id_tag: str) -> Any:
        return await self._call(call.Authorize(id_tag=id_tag))

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> Any:
        return await self._call(
            call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )

    async def diagnostics_status_notification(self, status: str) -> Any:
        return await self._call(call.DiagnosticsStatusNotification(status=status))

    async def firmware_status_notification(self, status: str) -> Any:
        return await self._call(call.FirmwareStatusNotification(status=status))

    def _status_of(self, connector_id: int) -> tuple[str, str]:
        if connector_id == 0:
            return ("Available" if self.cp_operative else "Unavailable"), "NoError"
        conn = self.connector(connector_id)
        return conn.status, conn.error_code

    async def status_notification(
        self,
        connector_id: int,
        status: str,
        error_code: str = "NoError",
        info: str | None = None,
    ) -> Any:
        """Record ``status`` for the connector and report it to the server."""
        if connector_id != 0:
            conn = self.connector(connector_id)
            conn.status, conn.error_code = status, error_code
        return await self._call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=utc_now_iso(),
                info=info,
            )
        )

    async def notify_status(self, connector_id: int, status: str | None = None) -> None:
        """Best effort: record the status, report it if we can (never queued)."""
        if connector_id != 0 and status is not None:
            self.connector(connector_id).status = status
        current, error_code = self._status_of(connector_id)
        if not self._booted.is_set() or not self.connected:
            return
        try:
            await self.status_notification(connector_id, current, error_code)
        except (*TRANSIENT_ERRORS, OCPPError) as exc:
            self.log.info("status_not_sent", connector=connector_id, error=repr(exc))

    async def send_all_statuses(self, connector_ids: Iterable[int] | None = None) -> None:
        ids = [0, *self.connectors] if connector_ids is None else list(connector_ids)
        for connector_id in ids:
            await self.notify_status(connector_id)
