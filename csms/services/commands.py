"""Operator commands: validate, record, send through the charger's link, record the outcome, and
keep the state that follows from what the charger accepted.

Version-neutral: the link (csms.ocpp.dispatch.CommandDispatcher) turns a command into the call for
the charger's OCPP version. Every command ends completed or failed, never pending forever: the link
fails at once when the charger disconnects, and every wait is bounded by the command timeout.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from csms.domain import commands as cmd
from csms.domain.authorization import token_type_to_send
from csms.domain.clock import Clock
from csms.domain.commands import CommandContext, CommandInvalid, CommandNotSupported, OcppCall
from csms.domain.errors import (
    ChargerRejectedCall,
    ChargerTimeout,
    ChargerUnavailable,
    ClusterUnavailable,
    Conflict,
    DomainError,
    NotFound,
)
from csms.domain.events import CausedEvent
from csms.domain.models import (
    CommandOutcome,
    CommandRecord,
)
from csms.domain.paging import Page, Paged
from csms.log import get_logger
from csms.services.charger_state import ChargerStateService
from csms.services.chargers import ChargerService
from csms.services.command_follow_ups import Answer, CommandFollowUps
from csms.services.events import EventBus, Subscription
from csms.services.reports import ReportService
from csms.store.repositories import CommandStore, IdTagStore

__all__ = ["ChargerLink", "CommandService", "LinkedCharger", "UnknownAction"]

log = get_logger(__name__)


class UnknownAction(NotFound):
    pass


class _ReportIncomplete(Exception):
    """The charger accepted a report request but did not send all its parts in time."""


@dataclass(frozen=True, slots=True)
class LinkedCharger:
    """A charger with a live connection, here or (in a cluster) on another node."""

    charge_point_id: str  # as the charger spells it
    ocpp_version: str
    accepted: bool  # its last boot was accepted


class ChargerLink(Protocol):
    """How commands reach a connected charger (csms.ocpp.dispatch; in a cluster,
    csms.cluster.routing, which reaches the node holding it)."""

    async def connection(self, cp_id: str) -> LinkedCharger:
        """The charger's live connection; ChargerUnavailable when it has none."""
        ...

    def translate(self, version: str, command: cmd.Command, ctx: CommandContext) -> OcppCall: ...
    def allowed_before_acceptance(self, version: str, call: OcppCall) -> bool: ...
    async def send(self, cp_id: str, call: OcppCall, timeout: float) -> dict[str, Any]: ...
    def status_of(self, version: str, action: str, response: dict[str, Any]) -> str | None: ...
    def new_password(
        self, version: str, call: OcppCall, response: dict[str, Any]
    ) -> bytes | None: ...
    def redact(self, call: OcppCall) -> dict[str, Any]: ...
    async def disconnect(self, cp_id: str, reason: str) -> None: ...


@dataclass(frozen=True, slots=True)
class _Prepared:
    record: CommandRecord
    command: cmd.Command
    version: str
    call: OcppCall | None  # None: no OCPP call (disconnect)
    timeout: float


def _error(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def _id_tags(command: cmd.Command) -> list[str]:
    if isinstance(command, cmd.Start | cmd.Reserve):
        return [command.id_tag]
    if isinstance(command, cmd.SendLocalList):
        tags = [e.id_tag for e in command.id_tags]
        tags += [
            e.id_tag_info.parent_id_tag
            for e in command.id_tags
            if e.id_tag_info and e.id_tag_info.parent_id_tag
        ]
        return tags
    return []


class CommandService:
    def __init__(
        self,
        store: CommandStore,
        id_tags: IdTagStore,
        link: ChargerLink,
        chargers: ChargerService,
        state: ChargerStateService,
        reports: ReportService,
        events: EventBus,
        clock: Clock,
        *,
        default_timeout: float,
        max_timeout: float,
    ) -> None:
        self._store = store
        self._id_tags = id_tags
        self._link = link
        self._chargers = chargers
        self._state = state
        self._reports = reports
        self._follow_ups = CommandFollowUps(state, reports, clock, chargers)
        self._events = events
        self._clock = clock
        self._default_timeout = default_timeout
        self._max_timeout = max_timeout
        self._background: set[asyncio.Task[CommandRecord]] = set()
        self.on_completed: Callable[[CommandRecord], None] | None = None

    # --- entry points ------------------------------------------------------------------------

    @staticmethod
    def parse(action: str, body: dict[str, Any]) -> cmd.Command:
        """The command for an API action; raises UnknownAction or pydantic's ValidationError."""
        command_type = cmd.COMMANDS.get(action)
        if command_type is None:
            raise UnknownAction(
                f"unknown action {action!r}; actions: {', '.join(sorted(cmd.COMMANDS))}"
            )
        return command_type.model_validate(body)

    async def execute(
        self,
        cp_id: str,
        action: str,
        command: cmd.Command,
        *,
        requested_by: str,
        timeout: float | None = None,
        wait: bool = True,
    ) -> CommandRecord:
        """Send ``command``; with ``wait`` return the finished record, else the pending one.

        Raises what the API maps to an error answer: NotFound, ChargerUnavailable, Conflict,
        CommandNotSupported, CommandInvalid, ChargerTimeout, ChargerRejectedCall. A command that
        got as far as the audit trail is recorded there with its failure too.
        """
        prepared = await self._prepare(cp_id, action, command, requested_by, timeout)
        if not wait:
            task = asyncio.create_task(self._run(prepared), name=f"command-{prepared.record.id}")
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return prepared.record
        record = await self._run(prepared)
        if record.state == "failed":
            raise _failure(record)
        return record

    async def get(self, command_id: int) -> CommandRecord | None:
        return await self._store.get_command(command_id)

    async def list_commands(
        self, page: Page[int], *, cp_id: str | None = None
    ) -> Paged[CommandRecord]:
        return await self._store.list_commands(page, cp_id=cp_id)

    async def drain(self, timeout: float) -> None:
        """Wait for asynchronous commands still running (at shutdown), then cancel the rest."""
        if not self._background:
            return
        _, pending = await asyncio.wait(set(self._background), timeout=timeout)
        for task in pending:
            task.cancel()

    # --- steps -------------------------------------------------------------------------------

    async def _prepare(
        self,
        cp_id: str,
        action: str,
        command: cmd.Command,
        requested_by: str,
        timeout: float | None,
    ) -> _Prepared:
        try:
            linked = await self._link.connection(cp_id)
        except ChargerUnavailable:
            if await self._chargers.get(cp_id) is None:
                raise NotFound(f"charge point {cp_id!r} not found") from None
            raise
        cp_id, version = linked.charge_point_id, linked.ocpp_version
        request = command.model_dump(mode="json", by_alias=True, exclude_none=True)
        if isinstance(command, cmd.RawCall):
            request = self._link.redact(OcppCall(command.action, command.payload))
        elif isinstance(command, cmd.SetConfiguration) and command.sets_credential:
            request = {**request, "value": cmd.REDACTED}
        command_id = await self._store.allocate_command_id()
        limit = min(timeout or self._default_timeout, self._max_timeout)
        call: OcppCall | None = None
        failure: Exception | None = None
        if not isinstance(command, cmd.Disconnect):
            try:
                if isinstance(command, cmd.SetSecurityProfile):
                    await self._check_no_downgrade(cp_id, command)
                call = self._link.translate(
                    version, command, await self._context(command_id, command)
                )
                self._check_allowed(linked, call)
            except (CommandNotSupported, CommandInvalid, Conflict) as exc:
                failure = exc
        # The command and the call it became are written together: one commit, not two.
        record = await self._store.add_command(
            command_id,
            cp_id,
            action,
            requested_by=requested_by,
            request=request,
            created_at=self._clock(),
            ocpp_action=None if call is None else call.action,
            ocpp_payload=None if call is None else self._link.redact(call),
        )
        if failure is not None:
            code = {
                CommandNotSupported: "not_supported",
                CommandInvalid: "validation_error",
                Conflict: "conflict",
            }[type(failure)]
            await self._finish(
                record, None, started=time.perf_counter(), error=_error(code, str(failure))
            )
            raise failure
        return _Prepared(record, command, version, call, limit)

    async def _check_no_downgrade(self, cp_id: str, command: cmd.SetSecurityProfile) -> None:
        charger = await self._chargers.get(cp_id)
        if charger is not None and command.security_profile < charger.security_profile:
            # OCPP 2.0.1 A05.FR.07 and the 1.6 security whitepaper: never back to a lower one.
            raise CommandInvalid(
                f"{cp_id} is at security profile {charger.security_profile}; "
                "a security profile is never lowered"
            )

    def _check_allowed(self, linked: LinkedCharger, call: OcppCall) -> None:
        cp_id, accepted = linked.charge_point_id, linked.accepted
        if not accepted and not self._link.allowed_before_acceptance(linked.ocpp_version, call):
            raise Conflict(
                f"{cp_id} is not accepted (its boot is Pending or Rejected): only "
                "configuration, reports and a BootNotification trigger may be sent to it"
            )
        if (
            accepted
            and call.action == "TriggerMessage"
            and call.payload.get("requestedMessage") == "BootNotification"
        ):
            # OCPP 1.6 errata 3.40: not once the boot is accepted, until the next boot.
            raise Conflict(
                f"{cp_id} is already accepted; a BootNotification is only "
                "triggered while Pending or Rejected"
            )

    async def _context(self, command_id: int, command: cmd.Command) -> CommandContext:
        types = {}
        for id_tag in _id_tags(command):
            tag = await self._id_tags.get_id_tag(id_tag)
            types[id_tag.lower()] = token_type_to_send(tag)
        return CommandContext(request_id=command_id, now=self._clock(), token_types=types)

    async def _run(self, prepared: _Prepared) -> CommandRecord:
        started = time.perf_counter()
        record, call, cp_id = prepared.record, prepared.call, prepared.record.charge_point_id
        try:
            if call is None:
                assert isinstance(prepared.command, cmd.Disconnect)
                await self._link.disconnect(cp_id, prepared.command.reason)
                return await self._finish(
                    record, None, started=started, status="Accepted", response={}
                )
            if call.then:
                response, status = await self._steps(prepared, call)
            else:
                response = await self._call(cp_id, call, prepared.timeout)
                status = self._link.status_of(prepared.version, call.action, response)
            await self._follow(prepared, call, status, response)
            return await self._finish(
                record, call, started=started, status=status, response=response
            )
        except ChargerTimeout:
            return await self._finish(
                record,
                call,
                started=started,
                error=_error(
                    "charger_timeout", f"{cp_id} did not answer within {prepared.timeout} s"
                ),
            )
        except _ReportIncomplete:
            return await self._finish(
                record,
                call,
                started=started,
                error=_error(
                    "charger_timeout",
                    f"{cp_id} did not complete its report within {prepared.timeout} s",
                ),
            )
        except ChargerRejectedCall as exc:
            return await self._finish(
                record,
                call,
                started=started,
                error=_error(
                    "charger_error",
                    f"{cp_id} answered with {exc.code}: {exc.description}",
                    {"code": exc.code, "description": exc.description, "errorDetails": exc.details},
                ),
            )
        except ChargerUnavailable as exc:
            return await self._finish(
                record, call, started=started, error=_error("charger_offline", str(exc))
            )
        except ClusterUnavailable as exc:
            return await self._finish(
                record, call, started=started, error=_error("cluster_unavailable", str(exc))
            )
        except Exception as exc:
            # Viewers of the audit trail get an id to quote, not the exception: its text may name
            # files, queries or values. The detail goes to the server log under the same id.
            error_id = secrets.token_hex(6)
            log.exception(
                "command failed", command_id=record.id, error_id=error_id, error=repr(exc)
            )
            message = f"internal error (error id {error_id}; the server log has the detail)"
            return await self._finish(
                record,
                call,
                started=started,
                error=_error("internal_error", message, {"errorId": error_id}),
            )

    async def _call(self, cp_id: str, call: OcppCall, timeout: float) -> dict[str, Any]:
        if call.collects_report is None:
            return await self._link.send(cp_id, call, timeout)
        # Subscribe before sending: the first part may arrive before the call's answer.
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._events.subscribe(cp_id) as subscription:
            response = await self._link.send(cp_id, call, timeout)
            if response.get("status") == "Accepted":
                try:
                    async with asyncio.timeout_at(deadline):
                        await _report_completed(subscription, call.collects_report)
                except TimeoutError as exc:
                    raise _ReportIncomplete from exc
            return response

    async def _steps(
        self, prepared: _Prepared, call: OcppCall
    ) -> tuple[dict[str, Any], str | None]:
        """A command of several calls: each sent once the one before was taken (Accepted, or
        RebootRequired: taken, effective after the reset that follows), all within the command's
        timeout. The answers by action; the status is the last answer's."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + prepared.timeout
        answers: dict[str, Any] = {}
        status: str | None = None
        for step in (call, *call.then):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ChargerTimeout(f"{step.action} not sent: the command's time is up")
            answer = await self._link.send(prepared.record.charge_point_id, step, remaining)
            answers[step.action] = answer
            status = self._link.status_of(prepared.version, step.action, answer)
            if status not in ("Accepted", "RebootRequired"):
                break
        return answers, status

    async def _finish(
        self,
        record: CommandRecord,
        call: OcppCall | None,
        *,
        started: float,
        status: str | None = None,
        response: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> CommandRecord:
        outcome = CommandOutcome(
            state="failed" if error else "completed",
            completed_at=self._clock(),
            duration_ms=(time.perf_counter() - started) * 1000,
            status=status,
            response=response,
            error=error,
        )

        def events_of(finished: CommandRecord) -> tuple[CausedEvent, ...]:
            data = {
                "commandId": finished.id,
                "action": finished.action,
                "ocppAction": None if call is None else call.action,
                "state": finished.state,
                "status": status,
                "error": error,
            }
            return (CausedEvent("command.completed", finished.charge_point_id, data),)

        finished = await self._events.change(
            lambda events: self._store.complete_command(record.id, outcome, events=events),
            events_of,
        )
        if self.on_completed is not None:
            self.on_completed(finished)
        return finished

    # --- state that follows what the charger accepted ----------------------------------------

    async def _follow(
        self, prepared: _Prepared, call: OcppCall, status: str | None, response: dict[str, Any]
    ) -> None:
        cp_id, command, version = (
            prepared.record.charge_point_id,
            prepared.command,
            prepared.version,
        )
        password = self._link.new_password(version, call, response)
        if password is not None:
            # Two slots in effect: the old password stays valid until the charger accepted the
            # new one, and only the new one is valid after (A01.FR.03/04, TC_073).
            await self._chargers.set_password(cp_id, password)
        await self._follow_ups.apply(Answer(cp_id, command, call, status, response))


async def _report_completed(subscription: Subscription, request_id: int) -> None:
    while True:
        event = await subscription.get()
        if event.type == "report.completed" and event.data.get("requestId") == request_id:
            return


def _failure(record: CommandRecord) -> DomainError:
    error = record.error or {}
    code, message = str(error.get("code")), str(error.get("message"))
    if code == "charger_timeout":
        return ChargerTimeout(message)
    if code == "charger_offline":
        return ChargerUnavailable(message)
    if code == "cluster_unavailable":
        return ClusterUnavailable(message)
    if code == "charger_error":
        details = error.get("details") or {}
        assert isinstance(details, dict)
        return ChargerRejectedCall(
            str(details.get("code")),
            str(details.get("description")),
            details.get("errorDetails") or {},
        )
    return DomainError(message)
