"""Charging sessions, the automatic mode and reboots of a 2.0.1 station: the 2.0.1 adapter.

What a session does whatever the version (the car, the limit it obeys, the meter, the stop
request, the charging loop) is each EVSE's ``session.SessionRunner``; this module says what
2.0.1 sends around it: Authorize, TransactionEvent Started/Updated/Ended, Occupied, Available.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from simulators._ocpp import OCPPError
from simulators.errors import TRANSIENT_ERRORS
from simulators.v201_model import LOCAL_AUTHORIZE_OFFLINE
from simulators.v201_state import FAULTED, OCCUPIED, UNAVAILABLE, Evse, Transaction201
from simulators.v201_transactions import ChargePoint201Transactions


class ChargePoint201Sessions(ChargePoint201Transactions):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._auto_tasks: list[asyncio.Task[Any]] = []
        self._rng = random.Random()
        # Set whenever an EVSE may have become idle (Reset OnIdle waits on it).
        self._idle_changed = asyncio.Event()

    def _on_started(self) -> None:
        if self.auto:
            self._auto_tasks = [self._spawn(self._auto_loop(n), f"auto-{n}") for n in self.evses]

    # ---------------------------------------------------------------- queries

    def session_running(self, evse_id: int) -> bool:
        return self.evse(evse_id).runner.running

    def busy(self, evse_id: int) -> bool:
        evse = self.evse(evse_id)
        return evse.tx is not None or evse.runner.claimed or self.session_running(evse_id)

    def idle(self) -> bool:
        return not any(self.busy(n) for n in self.evses)

    def is_free(self, evse_id: int, id_token: str | None = None) -> bool:
        """Can a new session start here (for ``id_token``, if reserved)?"""
        evse = self.evse(evse_id)
        reserved_for_other = evse.reservation is not None and evse.reservation.id_tag != id_token
        return (
            # B02: while Pending/Rejected the station starts nothing.
            self._booted.is_set()
            and evse.operative
            and self.station_operative
            and not self.busy(evse_id)
            and not reserved_for_other
            and evse.status not in (FAULTED, UNAVAILABLE)
        )

    # --------------------------------------------------------------- sessions

    def start_session(
        self,
        evse_id: int,
        id_token: str | None = None,
        *,
        id_token_type: str | None = None,
        authorize: bool = True,
        remote_start_id: int | None = None,
        duration: float | None = None,
    ) -> asyncio.Task[Any]:
        """Run a full session on the EVSE in a background task."""
        if self.session_running(evse_id):
            raise RuntimeError(f"{self.identity}: a session already runs on EVSE {evse_id}")
        task = self._spawn(
            self.run_session(
                evse_id,
                id_token,
                id_token_type=id_token_type,
                authorize=authorize,
                remote_start_id=remote_start_id,
                duration=duration,
            ),
            f"session-{evse_id}",
        )
        self.evse(evse_id).runner.task = task
        # The EVSE is only idle once the task is over, not at its Ended.
        task.add_done_callback(lambda _: self._on_transaction_ended())
        return task

    def request_stop(self, evse_id: int, reason: str, trigger: str | None = None) -> bool:
        """Ask whatever runs on the EVSE to stop; False if nothing does."""
        evse = self.evse(evse_id)
        if evse.runner.request_stop(reason, trigger):
            return True
        if evse.tx is not None:
            # A transaction started through the step API: end it directly.
            self._spawn(self._end_quietly(evse.tx, reason, trigger), f"stop-{evse_id}")
            return True
        return False

    async def run_session(
        self,
        evse_id: int,
        id_token: str | None = None,
        *,
        id_token_type: str | None = None,
        authorize: bool = True,
        remote_start_id: int | None = None,
        duration: float | None = None,
    ) -> None:
        """Authorize → Started → Occupied → Updated… → Ended → Available."""
        evse = self.evse(evse_id)
        runner = evse.runner
        runner.reset_stop()
        token, kind = id_token or self.id_tag, id_token_type or self.id_token_type
        try:
            if authorize and not await self._authorized(token, kind):
                self.log.info("not_authorized", evse=evse_id, id_token=token)
                return
            if runner.stop_event.is_set():  # e.g. a Reset arrived while authorizing
                return
            try:
                tx = await self._start_transaction(
                    evse_id,
                    token,
                    None,
                    id_token_type=kind,
                    trigger_reason="RemoteStart" if remote_start_id is not None else "Authorized",
                    remote_start_id=remote_start_id,
                )
            except (*TRANSIENT_ERRORS, OCPPError) as exc:
                self.log.warning("start_failed", evse=evse_id, error=repr(exc))
                return
            finally:
                runner.claimed = False
            runner.start_charging(start_soc=self._rng.uniform(10, 60))
            await self.notify_status(evse_id, OCCUPIED)
            info = (tx.start_response or {}).get("idTokenInfo") or {}
            if info.get("status", "Accepted") != "Accepted":
                runner.stop_reason, runner.stop_trigger = "DeAuthorized", "Deauthorized"
            else:
                await self._charge(evse, tx, duration or self.session_seconds)
            if evse.tx is tx:
                await self._end_quietly(tx, runner.stop_reason or "Local", runner.stop_trigger)
        finally:
            runner.claimed = False
            current = asyncio.current_task()
            # Cancelled (stop/reboot): no more messages from this session.
            if current is None or not current.cancelling():
                await self._end_session(evse)

    async def _authorized(self, token: str, kind: str) -> bool:
        try:
            result = await self.authorize(token, kind)
        except TRANSIENT_ERRORS:
            # Offline the station may let known users charge.
            return self.model.value(*LOCAL_AUTHORIZE_OFFLINE) == "true"
        except OCPPError:
            return False
        return bool(result.get("idTokenInfo", {}).get("status") == "Accepted")

    async def _charge(self, evse: Evse, tx: Transaction201, duration: float) -> None:
        async def sample() -> None:
            try:
                await self.update_transaction(tx.transaction_id)
            except (*TRANSIENT_ERRORS, OCPPError) as exc:
                self.log.info("update_failed", error=repr(exc))

        await evse.runner.charge(
            lambda: evse.tx is tx, duration, lambda: self.meter_interval, sample
        )

    async def _end_quietly(
        self, tx: Transaction201, reason: str, trigger: str | None = None
    ) -> None:
        try:
            await self._end(tx, None, reason, trigger)
        except (*TRANSIENT_ERRORS, OCPPError) as exc:
            self.log.warning("stop_failed", tx=tx.transaction_id, error=repr(exc))

    async def _end_session(self, evse: Evse) -> None:
        evse.runner.pending_tx_profile = None
        await self.notify_status(evse.evse_id, evse.idle_status(self.station_operative))

    def _on_transaction_ended(self) -> None:
        self._idle_changed.set()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until no EVSE has a transaction or a session."""
        async with asyncio.timeout(timeout):
            while not self.idle():
                self._idle_changed.clear()
                await self._idle_changed.wait()

    def refresh_limits(self) -> None:
        """Evaluate the charging profiles again; each EVSE's car follows (after a delay)."""
        for evse in self.evses.values():
            evse.runner.refresh_limit()

    async def _auto_loop(self, evse_id: int) -> None:
        while True:
            await self._booted.wait()
            # Jitter spreads a fleet's sessions instead of starting in lockstep.
            await asyncio.sleep(self.idle_seconds * self._rng.uniform(0.5, 1.5))
            if not self._booted.is_set() or not self.is_free(evse_id, self.id_tag):
                continue
            task = self.start_session(evse_id)
            await asyncio.wait({task})

    # ------------------------------------------------------- shutdown/reboot

    async def _end_all(self, reason: str, trigger: str | None, timeout: float) -> None:
        """End every session and step-API transaction, and wait (bounded)."""
        sessions = [
            evse.runner.task
            for evse in self.evses.values()
            if evse.runner.task is not None and evse.runner.request_stop(reason, trigger)
        ]
        manual = [
            e.tx
            for e in self.evses.values()
            if e.tx is not None and not self.session_running(e.evse_id)
        ]
        for tx in manual:
            await self._end_quietly(tx, reason, trigger)
        if sessions:
            await asyncio.wait(sessions, timeout=max(0.1, timeout))

    async def shutdown(self, reason: str = "Local", timeout: float = 10.0) -> None:
        """Graceful stop: end transactions, deliver the queue (bounded), then stop().

        Unlike stop(), this leaves no open transaction behind on the server.
        """
        for task in self._auto_tasks:
            task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._end_all(reason, None, timeout)
        if self.connected and self.booted:
            with contextlib.suppress(TimeoutError):
                await self.flush_queue(timeout=max(0.1, deadline - loop.time()))
        await self.stop()

    async def reboot(
        self, stopped_reason: str = "ImmediateReset", trigger: str = "ResetCommand"
    ) -> None:
        """End transactions, then drop the link and boot again (a power cycle)."""
        self.log.info("rebooting", reason=stopped_reason)
        await self._end_all(stopped_reason, trigger, 10.0)
        with contextlib.suppress(TimeoutError):
            await self.flush_queue(timeout=5)
        for evse in self.evses.values():
            if evse.runner.task is not None:
                evse.runner.task.cancel()
            evse.runner.reset()
            evse.reservation = None
            self._record_status(evse.evse_id, evse.idle_status(self.station_operative))
        self.boot_reason = "RemoteReset"
        await self._close_for_reboot()
