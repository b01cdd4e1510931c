"""The version-neutral part of a simulated charger: connection, calls, waiting.

Both OCPP versions connect, reconnect with backoff, boot until accepted,
heartbeat and answer CALLs the same way; only the messages differ. A version
class derives from ``SimulatorLink`` and then from the library's
``ChargePoint`` of its version, and fills in the hooks at the bottom.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import zlib
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.typing import Subprotocol

from simulators._ocpp import OCPPError, OcppPeer
from simulators.backoff import Backoff
from simulators.errors import ConnectionLostError, NotConnectedError

# A connection that lived this long was healthy: reconnect without delay.
STABLE_SECONDS = 10.0

Followup = tuple[str, Callable[[], Coroutine[Any, Any, Any]]]


async def _written(ws: ClientConnection) -> None:
    """Wait until the transport has written everything handed to it to the socket."""
    transport = ws.transport
    if transport.get_write_buffer_size() == 0:
        return
    # Pause the protocol while anything is buffered: drain() then waits for an empty buffer.
    transport.set_write_buffer_limits(high=0, low=0)
    await ws.drain()


class SimulatorLink(OcppPeer):
    def __init__(
        self,
        identity: str,
        url: str,
        password: str | bytes | None,
        *,
        subprotocol: str,
        response_timeout: float,
        reconnect_initial: float,
        reconnect_max: float,
    ) -> None:
        super().__init__(identity, None, response_timeout, logging.getLogger("ocpp"))
        self.identity = identity
        # Several central-system URLs, comma-separated (the nodes of a cluster): the charger
        # starts with one picked by its identity (a fleet spreads over the nodes as behind a
        # load balancer) and moves to the next when it cannot connect (its node is gone).
        self.urls = [u.strip() for u in url.split(",") if u.strip()] or [url]
        self._url_index = zlib.crc32(identity.encode()) % len(self.urls)
        self.subprotocol = Subprotocol(subprotocol)
        self._password = password.encode() if isinstance(password, str) else password
        self.heartbeat_interval = 0
        self.response_timeout = response_timeout
        self.log: structlog.typing.FilteringBoundLogger = structlog.get_logger("simulators").bind(
            cp=identity
        )

        # Every CALL the server sent us, in arrival order (for tests).
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.boot_count = 0
        # Reported in BootNotification; a firmware update changes it across a reboot.
        self.firmware_version = "1.0.0"
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
        # Lets a triggered BootNotification cut a Pending/Rejected wait short.
        self._boot_wake = asyncio.Event()
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
    def url(self) -> str:
        """The central system it connects to now."""
        return self.urls[self._url_index]

    @property
    def endpoint(self) -> str:
        return f"{self.url.rstrip('/')}/{self.identity}"

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
                    subprotocols=[self.subprotocol],
                    additional_headers=self._auth_headers(),
                    open_timeout=10,
                    close_timeout=2,
                    proxy=None,
                )
            except InvalidURI:
                raise
            except (OSError, TimeoutError, WebSocketException) as exc:
                failed = self.url
                self._url_index = (self._url_index + 1) % len(self.urls)
                if self._url_index != 0:  # another node to try: at once
                    self.log.info("connect_failed", error=str(exc), url=failed, next=self.url)
                    continue
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
        if ws.subprotocol != self.subprotocol:
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
        # While Pending/Rejected nothing but BootNotification goes out; the
        # server's own CALLs are still answered by the reader meanwhile.
        while True:
            self._boot_wake.clear()
            try:
                interval = await self._send_boot()
            except (TimeoutError, OCPPError) as exc:
                self.log.warning("boot_failed", error=repr(exc))
                await asyncio.sleep(max(1, self.heartbeat_interval or 10))
                continue
            if self._booted.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._boot_wake.wait(), max(1, interval))

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

    async def _close_for_reboot(self) -> None:
        """Forget the boot and drop the link: the next connection boots again.

        The answer to the Reset (or UpdateFirmware) that led here was handed to the socket
        before this follow-up started (``_handle_call``); it must also have *left* it before
        the close: a close that times out aborts the connection, and an abort throws away
        whatever the transport still buffers, so the CSMS would see the link drop before
        the answer. Wait (bounded) until the buffer is empty, then close with the handshake.
        """
        self._booted.clear()
        ws = self._ws
        if ws is not None:
            self._reconnect_now = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_written(ws), 5.0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5.0)

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
            # The library awaits writing the CALLRESULT (or CALLERROR) before it returns,
            # so the follow-ups below start after the answer is on its way (a Reset's
            # reboot closes the link: it must never overtake the answer).
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

    # ---------------------------------------------------- version hooks

    async def _send_boot(self) -> float:
        """Send one BootNotification (setting ``_booted`` if accepted); the retry interval."""
        raise NotImplementedError

    async def heartbeat(self) -> Any:
        raise NotImplementedError

    async def send_all_statuses(self) -> None:
        """Report every connector's status (after boot and on each reconnect)."""
        raise NotImplementedError
