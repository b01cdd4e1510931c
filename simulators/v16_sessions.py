"""Charging sessions, the automatic mode and reboots of a 1.6 charger: the 1.6 adapter.

What a session does whatever the version (the car, the limit it obeys, the meter, the stop
request, the charging loop) is each connector's ``session.SessionRunner``; this module says what
1.6 sends around it: Preparing, Authorize, StartTransaction, Charging, MeterValues,
StopTransaction, Finishing, Available.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from simulators._ocpp import OCPPError
from simulators.connector import Connector, Transaction
from simulators.errors import TRANSIENT_ERRORS
from simulators.v16_transactions import ChargePoint16Transactions


class ChargePoint16Sessions(ChargePoint16Transactions):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._auto_tasks: list[asyncio.Task[Any]] = []
        self._rng = random.Random()

    def _on_started(self) -> None:
        if self.auto:
            self._auto_tasks = [
                self._spawn(self._auto_loop(cid), f"auto-{cid}") for cid in self.connectors
            ]

    # ---------------------------------------------------------------- queries

    def session_running(self, connector_id: int) -> bool:
        return self.connector(connector_id).runner.running

    def is_free(self, connector_id: int, id_tag: str | None = None) -> bool:
        """Can a new session start here (for ``id_tag``, if reserved)?"""
        conn = self.connector(connector_id)
        reserved_for_other = conn.reservation is not None and conn.reservation.id_tag != id_tag
        return (
            conn.operative
            and self.cp_operative
            and conn.tx is None
            and not conn.runner.claimed
            and not self.session_running(connector_id)
            and not reserved_for_other
            and conn.status not in ("Faulted", "Unavailable")
        )

    # --------------------------------------------------------------- sessions

    def start_session(
        self,
        connector_id: int,
        id_tag: str,
        *,
        authorize: bool = True,
        duration: float | None = None,
    ) -> asyncio.Task[Any]:
        """Run a full session on the connector in a background task."""
        if self.session_running(connector_id):
            raise RuntimeError(f"{self.identity}: a session already runs on {connector_id}")
        task = self._spawn(
            self.run_session(connector_id, id_tag, authorize=authorize, duration=duration),
            f"session-{connector_id}",
        )
        self.connector(connector_id).runner.task = task
        return task

    def request_stop(self, connector_id: int, reason: str) -> bool:
        """Ask whatever runs on the connector to stop; False if nothing does."""
        conn = self.connector(connector_id)
        if conn.runner.request_stop(reason):
            return True
        if conn.tx is not None:
            # A transaction started through the manual API: stop it directly.
            self._spawn(self._stop_quietly(conn.tx, reason), f"stop-{connector_id}")
            return True
        return False

    async def run_session(
        self,
        connector_id: int,
        id_tag: str,
        *,
        authorize: bool = True,
        duration: float | None = None,
    ) -> None:
        """Preparing → Authorize → Start → Charging/MeterValues → Stop → Available."""
        conn = self.connector(connector_id)
        runner = conn.runner
        runner.claimed = False
        runner.reset_stop()
        await self.notify_status(connector_id, "Preparing")
        if authorize and not await self._authorized(id_tag):
            self.log.info("not_authorized", connector=connector_id, id_tag=id_tag)
            await self._end_session(conn)
            return
        if runner.stop_event.is_set():  # e.g. a Reset arrived while authorizing
            await self._end_session(conn)
            return
        try:
            tx, status = await self._start_transaction(connector_id, id_tag, None, None, None)
        except (*TRANSIENT_ERRORS, OCPPError) as exc:
            self.log.warning("start_failed", connector=connector_id, error=repr(exc))
            await self._end_session(conn)
            return
        runner.start_charging(start_soc=self._rng.uniform(10, 60))
        if status not in (None, "Accepted"):
            runner.stop_reason = "DeAuthorized"
        else:
            await self.notify_status(connector_id, "Charging")
            await self._charge(conn, tx, duration or self.session_seconds)
        if conn.tx is tx:
            await self._stop_quietly(tx, runner.stop_reason or "Local")
        await self._end_session(conn)

    async def _authorized(self, id_tag: str) -> bool:
        try:
            result = await self.authorize(id_tag)
        except TRANSIENT_ERRORS:
            # Offline the charger may let known users charge (1.6 §3.5).
            return self.config.get_bool("LocalAuthorizeOffline")
        except OCPPError:
            return False
        return bool(result.id_tag_info["status"] == "Accepted")

    async def _charge(self, conn: Connector, tx: Transaction, duration: float) -> None:
        async def sample() -> None:
            try:
                await self.send_meter_values(conn.connector_id, tx.local_id)
            except (*TRANSIENT_ERRORS, OCPPError) as exc:
                self.log.info("meter_values_failed", error=repr(exc))

        await conn.runner.charge(
            lambda: conn.tx is tx, duration, lambda: self.meter_interval, sample
        )

    async def _stop_quietly(self, tx: Transaction, reason: str) -> None:
        try:
            await self._stop(tx, tx.local_id, None, reason, tx.id_tag)
        except (*TRANSIENT_ERRORS, OCPPError) as exc:
            self.log.warning("stop_failed", tx=tx.local_id, error=repr(exc))

    async def _end_session(self, conn: Connector) -> None:
        if conn.status in ("Charging", "SuspendedEV", "SuspendedEVSE"):
            await self.notify_status(conn.connector_id, "Finishing")
            await asyncio.sleep(self.finishing_seconds)
        if conn.pending_inoperative:
            conn.pending_inoperative = False
            conn.operative = False
        conn.runner.pending_tx_profile = None
        await self.notify_status(conn.connector_id, conn.idle_status())

    def refresh_limits(self) -> None:
        """Evaluate the charging profiles again; each connector's car follows (after a delay)."""
        for conn in self.connectors.values():
            conn.runner.refresh_limit()

    async def _auto_loop(self, connector_id: int) -> None:
        while True:
            await self._booted.wait()
            # Jitter spreads a fleet's sessions instead of starting in lockstep.
            await asyncio.sleep(self.idle_seconds * self._rng.uniform(0.5, 1.5))
            if not self._booted.is_set() or not self.is_free(connector_id, self.id_tag):
                continue
            task = self.start_session(connector_id, self.id_tag)
            await asyncio.wait({task})

    # ------------------------------------------------------- shutdown/reboot

    def _stop_sessions(self, reason: str) -> list[asyncio.Task[Any]]:
        """Ask every running session to stop; their tasks."""
        return [
            conn.runner.task
            for conn in self.connectors.values()
            if conn.runner.task is not None and conn.runner.request_stop(reason)
        ]

    async def shutdown(self, reason: str = "Local", timeout: float = 10.0) -> None:
        """Graceful stop: end transactions, deliver the queue (bounded), then stop().

        Unlike stop(), this leaves no open transaction behind on the server.
        """
        for task in self._auto_tasks:
            task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        sessions = self._stop_sessions(reason)
        for conn in self.connectors.values():
            if conn.tx is not None and not self.session_running(conn.connector_id):
                await self._stop_quietly(conn.tx, reason)
        if sessions:
            await asyncio.wait(sessions, timeout=max(0.1, deadline - loop.time()))
        if self.connected and self.booted:
            with contextlib.suppress(TimeoutError):
                await self.flush_queue(timeout=max(0.1, deadline - loop.time()))
        await self.stop()

    async def reboot(self, reason: str = "HardReset") -> None:
        """Stop transactions, then drop the link and boot again (a power cycle)."""
        self.log.info("rebooting", reason=reason)
        sessions = self._stop_sessions(reason)
        manual = [
            c.tx
            for c in self.connectors.values()
            if c.tx is not None and not self.session_running(c.connector_id)
        ]
        for tx in manual:
            await self._stop_quietly(tx, reason)
        if sessions:
            await asyncio.wait(sessions, timeout=self.finishing_seconds + 10)
        with contextlib.suppress(TimeoutError):
            await self.flush_queue(timeout=5)
        for conn in self.connectors.values():
            if conn.runner.task is not None:
                conn.runner.task.cancel()
            conn.runner.reset()
            conn.reservation = None
            conn.status = conn.idle_status()
        await self._close_for_reboot()
