"""One charger's OCPP-J connection: the per-frame path in both directions.

Incoming CALLs are handled one at a time in arrival order (a charger has at most one CALL in flight,
OCPP-J §4.1.1), and each is answered only after its handler returned, i.e. after the handler's
writes are committed. Our own CALLs to the charger go out one at a time from other tasks, so the
charger's CALLs keep being served while ours wait for an answer.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

import orjson

from csms.domain.certificates import PeerCertificate
from csms.domain.clock import Clock
from csms.domain.errors import ChargerRejectedCall, ChargerTimeout, ChargerUnavailable
from csms.domain.throttling import TokenBucket
from csms.log import get_logger
from csms.ocpp.credentials import (
    REPORTING_ACTIONS,
    carries_secret,
    redact,
    redact_reported,
    redact_reported_answer,
)
from csms.ocpp.rpc import (
    CloseAfterError,
    ErrorKind,
    MessageType,
    OcppCallError,
    call_error_frame,
    call_frame,
    call_result_frame,
    error_code,
)
from csms.ocpp.schemas import SchemaSet

__all__ = ["ChargerContext", "FrameRecorder", "Handler", "OcppConnection", "Transport"]

log = get_logger(__name__)

# messageId is a string[36] (OCPP-J 1.6 §4.2.1; 2.0.1 part 4 §4.1.4): room for a UUID.
MAX_MESSAGE_ID = 36


class Transport(Protocol):
    """The socket as the connection sees it (websockets' ServerConnection fits)."""

    async def send(self, message: str) -> None: ...
    async def close(self, code: int = 1000, reason: str = "") -> None: ...
    def __aiter__(self) -> AsyncIterator[str | bytes]: ...


class FrameRecorder(Protocol):
    def record(
        self,
        cp_id: str,
        direction: str,
        message_type: int,
        unique_id: str | None,
        action: str | None,
        frame: str,
    ) -> None: ...


FollowUp = Callable[[], Awaitable[None]]


class ChargerContext(Protocol):
    """What a message handler may know about, and do with, the connection it serves."""

    @property
    def charge_point_id(self) -> str: ...
    @property
    def ocpp_version(self) -> str: ...
    @property
    def certificate(self) -> PeerCertificate | None:
        """The client certificate the charger logged in with (security profile 3), else None."""
        ...

    boot_accepted: bool

    def after_reply(self, follow_up: FollowUp) -> None:
        """Run ``follow_up`` once the answer to the CALL being handled is sent.

        A handler must not await a call to the charger itself: the charger's answer could only
        be read after the handler returns.
        """
        ...

    async def call(
        self, action: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]: ...


Handler = Callable[[ChargerContext, dict[str, Any]], Awaitable[dict[str, Any]]]


class _PendingCall:
    __slots__ = ("action", "future", "unique_id")

    def __init__(self, unique_id: str, action: str, future: asyncio.Future[dict[str, Any]]):
        self.unique_id = unique_id
        self.action = action
        self.future = future


class OcppConnection:
    def __init__(
        self,
        *,
        charge_point_id: str,
        ocpp_version: str,
        transport: Transport,
        handlers: Mapping[str, Handler],
        schemas: SchemaSet,
        recorder: FrameRecorder,
        clock: Clock,
        boot_accepted: bool,
        allowed_before_boot: frozenset[str],
        on_handled: Callable[[str, float], None] | None = None,
        call_rate_limit: float = 0.0,
        call_rate_burst: int = 1,
        certificate: PeerCertificate | None = None,
    ) -> None:
        self._on_handled = on_handled
        self._certificate = certificate
        # In a cluster: this connection's claim on its charger (ADR 013), set by the gateway.
        self.holder_seq: int | None = None
        # The charger's CALLs per second (0: unlimited): one flooding charger must not take the
        # event loop and the database from the others.
        self._call_budget = (
            TokenBucket(call_rate_limit, call_rate_burst, time.monotonic())
            if call_rate_limit > 0
            else None
        )
        self._over_budget = (
            f"rate limit exceeded: at most {call_rate_limit:g} CALLs per second "
            f"(bursts of {call_rate_burst}); try again later"
        )
        self._cp_id = charge_point_id
        self._version = ocpp_version
        self._transport = transport
        self._handlers = handlers
        self._schemas = schemas
        self._recorder = recorder
        self._clock = clock
        self._allowed_before_boot = allowed_before_boot
        self.boot_accepted = boot_accepted
        self.connected_at = clock()
        self.last_seen_at = self.connected_at
        self._call_lock = asyncio.Lock()
        self._pending: _PendingCall | None = None
        self._answers_only = False  # the socket is closing: only answers are read
        self._follow_ups: list[FollowUp] = []
        self._follow_up_tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._log = log.bind(charge_point_id=charge_point_id, ocpp_version=ocpp_version)

    @property
    def charge_point_id(self) -> str:
        return self._cp_id

    @property
    def ocpp_version(self) -> str:
        return self._version

    @property
    def certificate(self) -> PeerCertificate | None:
        return self._certificate

    @property
    def closed(self) -> bool:
        return self._closed

    # --- receive side ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve frames until the socket closes; then fail whatever call is still waiting."""
        try:
            async for message in self._transport:
                self.last_seen_at = self._clock()
                try:
                    await self._on_frame(message)
                except ChargerUnavailable:
                    # Our answer could not be sent: the socket is closing. Frames it delivered
                    # before the close are still read, for an answer to our pending call (a
                    # charger answers a Reset, then closes to reboot, while we were busy with
                    # its previous call); calls among them are not handled.
                    self._answers_only = True
        finally:
            self._mark_closed()

    def _record_in(
        self, message_type: int, unique_id: str | None, action: str | None, text: str
    ) -> None:
        """Log a received frame: the message log and, at debug, our own log. Callers pass the
        text with any secret the charger reported masked."""
        self._recorder.record(self._cp_id, "in", message_type, unique_id, action, text)
        self._log.debug("frame in", frame=text)

    async def _on_frame(self, raw: str | bytes) -> None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # The id cannot be read, so the answer carries "-1" (OCPP 2.0.1 part 4 §4.2.3).
            self._record_in(0, None, None, orjson.dumps(text).decode())
            await self._send_error("-1", ErrorKind.RPC_FRAMEWORK_ERROR, "frame is not valid JSON")
            return
        if (
            not isinstance(message, list)
            or len(message) < 3
            or not isinstance(message[1], str)
            or not message[1]
        ):
            unique_id = (
                message[1]
                if isinstance(message, list)
                and len(message) > 1
                and isinstance(message[1], str)
                and len(message[1]) <= MAX_MESSAGE_ID
                else "-1"
            )
            self._record_in(0, None, None, text)
            await self._send_error(
                unique_id or "-1",
                ErrorKind.RPC_FRAMEWORK_ERROR,
                "frame is not an OCPP-J message array",
            )
            return
        message_type, unique_id = message[0], message[1]
        if len(unique_id) > MAX_MESSAGE_ID:
            # Not a valid id, so not echoed: answered as an id that cannot be read, "-1" (part 4
            # §4.2.3 lists "unique identifier too long" among the frames to CALLERROR). An answer
            # with such an id matches no call of ours: dropped, as answers are never answered.
            self._record_in(0, None, None, text)
            if message_type not in (MessageType.CALL_RESULT, MessageType.CALL_ERROR):
                await self._send_error(
                    "-1",
                    ErrorKind.RPC_FRAMEWORK_ERROR,
                    f"messageId is longer than {MAX_MESSAGE_ID} characters",
                )
            return
        if message_type == MessageType.CALL:
            if self._answers_only:
                return
            await self._on_call(message, text)
        elif (message_type == MessageType.CALL_RESULT and len(message) == 3) or (
            message_type == MessageType.CALL_ERROR and len(message) == 5
        ):
            self._on_answer(unique_id, message, text)
        elif message_type in (MessageType.CALL_RESULT, MessageType.CALL_ERROR):
            self._record_in(0, unique_id, None, text)
            self._log.warning("malformed answer dropped", frame=text)
        else:
            self._record_in(0, unique_id, None, text)
            await self._send_error(
                unique_id,
                ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED,
                f"unknown message type {message_type!r}",
            )

    async def _on_call(self, message: list[Any], text: str) -> None:
        unique_id = message[1]
        action = message[2] if isinstance(message[2], str) else None
        if action in REPORTING_ACTIONS and len(message) == 4 and isinstance(message[3], dict):
            # A NotifyReport may carry a password the charger should never report.
            reported = redact_reported(action, message[3])
            if reported is not message[3]:
                message = [*message[:3], reported]
                text = call_frame(unique_id, action, reported)
        self._record_in(MessageType.CALL, unique_id, action, text)
        if self._call_budget is not None and not self._call_budget.take(time.monotonic()):
            await self._send_error(unique_id, ErrorKind.GENERIC_ERROR, self._over_budget, action)
            return
        if len(message) != 4 or action is None or not isinstance(message[3], dict):
            await self._send_error(
                unique_id,
                ErrorKind.FORMAT_VIOLATION,
                "a CALL is [2, uniqueId, action, {payload}]",
                action,
            )
            return
        payload: dict[str, Any] = message[3]
        handler = self._handlers.get(action)
        if handler is None:
            if action in self._schemas.actions:
                await self._send_error(
                    unique_id,
                    ErrorKind.NOT_SUPPORTED,
                    f"{action} is not supported by this central system",
                    action,
                )
            else:
                await self._send_error(
                    unique_id, ErrorKind.NOT_IMPLEMENTED, f"unknown action {action}", action
                )
            return
        try:
            self._schemas.validate_request(action, payload)
            if not self.boot_accepted and action not in self._allowed_before_boot:
                raise OcppCallError(
                    ErrorKind.SECURITY_ERROR,
                    f"{action} before the charger's BootNotification was accepted",
                )
            started = time.perf_counter()
            response = await handler(self, payload)
            if self._on_handled is not None:
                self._on_handled(action, time.perf_counter() - started)
            self._schemas.validate_response(action, response)
        except OcppCallError as exc:
            self._follow_ups.clear()
            await self._send_error(unique_id, exc.kind, exc.description, action, exc.details)
            if isinstance(exc, CloseAfterError):
                self._log.info("closing after the CALLERROR", action=action, reason=exc.description)
                await self.close(1008, exc.close_reason)
            return
        except Exception:
            self._follow_ups.clear()
            self._log.exception("handler failed", action=action, unique_id=unique_id)
            await self._send_error(
                unique_id,
                ErrorKind.INTERNAL_ERROR,
                f"the central system failed to handle {action}",
                action,
            )
            return
        await self._send(
            call_result_frame(unique_id, response), MessageType.CALL_RESULT, unique_id, action
        )
        if self._follow_ups:
            self._start_follow_ups()

    def after_reply(self, follow_up: FollowUp) -> None:
        self._follow_ups.append(follow_up)

    def _start_follow_ups(self) -> None:
        for follow_up in self._follow_ups:
            task = asyncio.create_task(self._run_follow_up(follow_up))
            self._follow_up_tasks.add(task)
            task.add_done_callback(self._follow_up_tasks.discard)
        self._follow_ups.clear()

    async def _run_follow_up(self, follow_up: FollowUp) -> None:
        try:
            await follow_up()
        except (ChargerUnavailable, ChargerTimeout, ChargerRejectedCall) as exc:
            self._log.info("follow-up call failed", error=str(exc))
        except Exception:
            self._log.exception("follow-up failed")

    def _on_answer(self, unique_id: str, message: list[Any], text: str) -> None:
        pending = self._pending
        if pending is None or pending.unique_id != unique_id or pending.future.done():
            # Late (after our timeout) or unknown: log and drop (OCPP-J §4.1.1). Its call is not
            # known, so a reported password is recognised by the answer's shape alone.
            if message[0] == MessageType.CALL_RESULT and isinstance(message[2], dict):
                reported = redact_reported_answer(message[2])
                if reported is not message[2]:
                    text = call_result_frame(unique_id, reported)
            self._record_in(message[0], unique_id, None, text)
            self._log.warning("answer to no pending call dropped", unique_id=unique_id)
            return
        payload = message[2]
        if message[0] == MessageType.CALL_RESULT and isinstance(payload, dict):
            # Everyone downstream (message log, audit trail, stored configuration) gets the
            # answer with any password the charger should not have reported masked.
            reported = redact_reported(pending.action, payload)
            if reported is not payload:
                payload, text = reported, call_result_frame(unique_id, reported)
        self._record_in(message[0], unique_id, pending.action, text)
        if message[0] == MessageType.CALL_RESULT:
            try:
                self._schemas.validate_response(pending.action, message[2])
            except OcppCallError as exc:
                pending.future.set_exception(
                    ChargerRejectedCall(
                        exc.code(self._version),
                        f"the charger's answer breaks the schema: {exc.description}",
                    )
                )
                return
            pending.future.set_result(payload)
        else:
            _, _, code, description, details = message
            pending.future.set_exception(
                ChargerRejectedCall(
                    str(code), str(description), details if isinstance(details, dict) else {}
                )
            )

    # --- send side -------------------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send a CALL and return the charger's answer payload.

        Raises ChargerUnavailable (closed, also while waiting), ChargerTimeout, ChargerRejectedCall
        (CALLERROR), or OcppCallError when our own payload breaks the schema.
        """
        self._schemas.validate_request(action, payload)
        try:
            async with asyncio.timeout(timeout):
                # One outstanding CALL per connection (OCPP-J §4.1.1); the rest queue here.
                async with self._call_lock:
                    if self._closed:
                        raise ChargerUnavailable(f"{self._cp_id} is not connected")
                    unique_id = str(uuid.uuid4())
                    future: asyncio.Future[dict[str, Any]] = (
                        asyncio.get_running_loop().create_future()
                    )
                    self._pending = _PendingCall(unique_id, action, future)
                    frame = call_frame(unique_id, action, payload)
                    # A new password goes to the charger but never into the message log.
                    logged = (
                        call_frame(unique_id, action, redact(action, payload))
                        if carries_secret(action, payload)
                        else frame
                    )
                    try:
                        await self._send(frame, MessageType.CALL, unique_id, action, logged)
                        return await future
                    finally:
                        self._pending = None
        except TimeoutError as exc:
            raise ChargerTimeout(
                f"{self._cp_id} did not answer {action} within {timeout} s"
            ) from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self._mark_closed()
        await self._transport.close(code, reason)

    def _mark_closed(self) -> None:
        """No call goes out any more, and the pending one fails: at the end of the read loop,
        or on our own close."""
        self._closed = True
        for task in self._follow_up_tasks:
            task.cancel()
        pending = self._pending
        if pending is not None and not pending.future.done():
            pending.future.set_exception(
                ChargerUnavailable(f"{self._cp_id} disconnected before answering {pending.action}")
            )

    async def _send_error(
        self,
        unique_id: str,
        kind: ErrorKind | str,
        description: str,
        action: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        code = error_code(kind, self._version) if isinstance(kind, ErrorKind) else kind
        await self._send(
            call_error_frame(unique_id, code, description, details),
            MessageType.CALL_ERROR,
            unique_id,
            action,
        )

    async def _send(
        self,
        frame: str,
        message_type: int,
        unique_id: str,
        action: str | None,
        logged: str | None = None,
    ) -> None:
        logged = frame if logged is None else logged
        self._recorder.record(self._cp_id, "out", message_type, unique_id, action, logged)
        self._log.debug("frame out", frame=logged)
        try:
            await self._transport.send(frame)
        except Exception as exc:  # the socket went away under us
            # No new call goes out; the pending one fails only when the read loop ends, after
            # the frames that arrived before the close (its answer may be among them).
            self._closed = True
            raise ChargerUnavailable(f"{self._cp_id} connection closed") from exc
