"""Charging sessions, the automatic mode and reboots of a 1.6 charger."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from simulators._ocpp import OCPPError
from simulators.connector import Connector, Transaction
from simulators.errors import TRANSIENT_ERRORS
from simulators.timeutil import utc_now
from simulators.v16_transactions import ChargePoint16Transactions


class ChargePoint16Sessions(ChargePoint16Transactions):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session_tasks: dict[int, asyncio.Task[Any]] = {}
        self._auto_tasks: list[asyncio.Task[Any]] = []
        self._rng = random.Random()

    def _on_started(self) -> None:
        if self.auto:
            self._auto_tasks = [
                self._spawn(self._auto_loop(cid), f"auto-{cid}") for cid in self.connectors
            ]

    # ---------------------------------------------------------------- queries

    def session_running(self, connector_id: int) -> bool:
        task = self._session_tasks.get(connector_id)
        return task is not None and not task.done()

    def is_free(self, connector_id: int, id_tag: str | None = None) -> bool:
        """Can a new session start here (for ``id_tag``, if reserved)?"""
        conn = self.connector(connector_id)
        reserved_for_other = conn.reservation is not None and conn.reservation.id_tag != id_tag
        return (
            conn.operative
            and self.cp_operative
            and conn.tx is None
            and not conn.claimed
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
        self._session_tasks[connector_id] = task
        return task

    def request_stop(self, connector_id: int, reason: str) -> bool:
        """Ask whatever runs on the connector to stop; False if nothing does."""
        conn = self.connector(connector_id)
        if self.session_running(connector_id):
            conn.stop_reason = reason
            conn.stop_event.set()
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
        conn.claimed = False
        conn.stop_reason = None
        conn.stop_event.clear()
        await self.notify_status(connector_id, "Preparing")
        if authorize and not await self._authorized(id_tag):
            self.log.info("not_authorized", connector=connector_id, id_tag=id_tag)
            await self._end_session(conn)
            return
        if conn.stop_event.is_set():  # e.g. a Reset arrived while authorizing
            await self._end_session(conn)
            return
        try:
            tx, status = await self._start_transaction(connector_id, id_tag, None, None, None)
        except (*TRANSIENT_ERRORS, OCPPError) as exc:
            self.log.warning("start_failed", connector=connector_id, error=repr(exc))
            await self._end_session(conn)
            return
        self._apply_pending_profile(conn)
        conn.meter.start(start_soc=self._rng.uniform(10, 60))
        self.refresh_limits()
        if status not in (None, "Accepted"):
            conn.stop_reason = "DeAuthorized"
        else:
            await self.notify_status(connector_id, "Charging")
            await self._charge(conn, tx, duration or self.session_seconds)
        if conn.tx is tx:
            await self._stop_quietly(tx, conn.stop_reason or "Local")
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
        loop = asyncio.get_running_loop()
        end = loop.time() + duration
        while conn.tx is tx:
            remaining = end - loop.time()
            if remaining <= 0:
                return
            interval = self.meter_interval if self.meter_interval > 0 else remaining
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(conn.stop_event.wait(), min(interval, remaining))
            if conn.stop_event.is_set():
                return
            self.refresh_limits()
            try:
                await self.send_meter_values(conn.connector_id, tx.local_id)
            except (*TRANSIENT_ERRORS, OCPPError) as exc:
                self.log.info("meter_values_failed", error=repr(exc))

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
        conn.pending_tx_profile = None
        await self.notify_status(conn.connector_id, conn.idle_status())

    def _apply_pending_profile(self, conn: Connector) -> None:
        if conn.pending_tx_profile is not None:
            self.profiles.install(conn.connector_id, conn.pending_tx_profile)
            conn.pending_tx_profile = None

    def refresh_limits(self) -> None:
        """Re-evaluate charging profiles and cap each connector's power."""
        now = utc_now()
        for conn in self.connectors.values():
            start = conn.tx.start_dt if conn.tx is not None else None
            conn.meter.set_limit_w(
                self.profiles.limit_w(conn.connector_id, now, start, conn.tx is not None)
            )

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

    async def shutdown(self, reason: str = "Local", timeout: float = 10.0) -> None:
        """Graceful stop: end transactions, deliver the queue (bounded), then stop().

        Unlike stop(), this leaves no open transaction behind on the server.
        """
        for task in self._auto_tasks:
            task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        sessions = [
            task
            for cid, task in self._session_tasks.items()
            if not task.done() and self.request_stop(cid, reason)
        ]
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
        sessions = [
            task
            for cid, task in self._session_tasks.items()
            if not task.done() and self.request_stop(cid, reason)
        ]
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
        for task in self._session_tasks.values():
            task.cancel()
        for conn in self.connectors.values():
            conn.reservation = None
            conn.claimed = False
            conn.status = conn.idle_status()
            conn.meter.stop()
        await self._close_for_reboot()
