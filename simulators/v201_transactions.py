"""TransactionEvent messages of a 2.0.1 station and their ordered delivery.

Every TransactionEvent goes through the shared ``outbox`` queue. One made
while the station is offline carries ``offline: true``; all keep the
timestamp and seqNo they were made with, so a replay after reconnecting is
exactly what would have been sent at the time. The station picks the
transactionId itself (a uuid4), so, unlike 1.6, nothing needs remapping.
"""

from __future__ import annotations

import uuid
from typing import Any

from simulators._ocpp import call201, to_wire
from simulators.offline_queue import QueuedCall
from simulators.timeutil import utc_now, utc_now_iso
from simulators.v201_core import ChargePoint201Core
from simulators.v201_state import CONNECTOR_ID, Transaction201, stop_trigger

TRANSACTION_EVENT = "TransactionEvent"
STARTED, UPDATED, ENDED = "Started", "Updated", "Ended"
_DEFAULT_CONTEXT = {
    STARTED: "Transaction.Begin",
    UPDATED: "Sample.Periodic",
    ENDED: "Transaction.End",
}


class ChargePoint201Transactions(ChargePoint201Core):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The next seqNo per transaction: starts at 0 with each transaction.
        self._seq: dict[str, int] = {}
        self._ended: set[str] = set()

    # ---------------------------------------------------------------- queries

    def transaction_id(self, evse_id: int) -> str | None:
        tx = self.evse(evse_id).tx
        return None if tx is None else tx.transaction_id

    def find_transaction(self, transaction_id: str) -> Transaction201 | None:
        for evse in self.evses.values():
            if evse.tx is not None and evse.tx.transaction_id == transaction_id:
                return evse.tx
        return None

    def transaction_ongoing(self, transaction_id: str) -> bool | None:
        """True while running, False once ended, None if never seen."""
        if self.find_transaction(transaction_id) is not None:
            return True
        return False if transaction_id in self._ended else None

    def queued_for(self, transaction_id: str | None = None) -> bool:
        """Does the queue still hold events (of this transaction)?"""
        return any(
            transaction_id is None
            or item.kwargs["transaction_info"]["transactionId"] == transaction_id
            for item in self._queue.items()
        )

    # ------------------------------------------------------------ lowest level

    async def transaction_event(
        self,
        event_type: str,
        transaction_id: str,
        trigger_reason: str,
        *,
        evse_id: int | None = None,
        seq_no: int | None = None,
        timestamp: str | None = None,
        offline: bool | None = None,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        remote_start_id: int | None = None,
        id_token: str | None = None,
        id_token_type: str | None = None,
        meter_value: list[dict[str, Any]] | None = None,
        energy_wh: float | None = None,
        power_w: float | None = None,
        context: str | None = None,
        reservation_id: int | None = None,
    ) -> dict[str, Any] | None:
        """Queue any TransactionEvent; the server's answer, or None if it stays queued.

        Defaults: ``seq_no`` continues the transaction's counter (an explicit
        one moves the counter on, so gaps and repeats are easy to make);
        ``offline`` is whether the station is offline now; ``energy_wh``
        (with optional ``power_w``) becomes a meterValue in ``context``.
        """
        tx = self.find_transaction(transaction_id)
        if evse_id is None and tx is not None:
            evse_id = tx.evse_id
        if seq_no is None:
            seq_no = self._seq.get(transaction_id, 0)
        self._seq[transaction_id] = seq_no + 1
        ts = timestamp or utc_now_iso()
        if meter_value is None and energy_wh is not None:
            if evse_id is None:
                raise ValueError("energy_wh needs an evse_id for an unknown transaction")
            ctx = context or _DEFAULT_CONTEXT.get(event_type, "Sample.Periodic")
            meter_value = [
                self.sample(evse_id, ctx, energy_wh, power_w, ts, full=power_w is not None)
            ]
        info: dict[str, Any] = {"transactionId": transaction_id}
        if charging_state is not None:
            info["chargingState"] = charging_state
        if stopped_reason is not None:
            info["stoppedReason"] = stopped_reason
        if remote_start_id is not None:
            info["remoteStartId"] = remote_start_id
        if offline is None:
            offline = not self.online
        kwargs: dict[str, Any] = {
            "event_type": event_type,
            "timestamp": ts,
            "trigger_reason": trigger_reason,
            "seq_no": seq_no,
            "transaction_info": info,
            "meter_value": meter_value,
            "offline": True if offline else None,
            "reservation_id": reservation_id,
            "evse": None if evse_id is None else {"id": evse_id, "connectorId": CONNECTOR_ID},
            "id_token": None if id_token is None else self.token(id_token, id_token_type),
        }
        result = await self._submit(TRANSACTION_EVENT, kwargs)
        self.log.info(
            "transaction_event",
            type=event_type,
            tx=transaction_id,
            seq=seq_no,
            trigger=trigger_reason,
            queued=result is None,
        )
        return None if result is None else to_wire(result)

    def _payload_for(self, item: QueuedCall) -> Any:
        return call201.TransactionEvent(**item.kwargs)

    # ------------------------------------------------------------- step API

    async def start_transaction(
        self,
        evse_id: int,
        id_token: str,
        meter_start_wh: float | None = None,
        *,
        id_token_type: str | None = None,
        trigger_reason: str = "Authorized",
        remote_start_id: int | None = None,
        reservation_id: int | None = None,
        transaction_id: str | None = None,
        timestamp: str | None = None,
    ) -> str:
        """Send Started; the new transactionId (a uuid4 unless given)."""
        tx = await self._start_transaction(
            evse_id,
            id_token,
            meter_start_wh,
            id_token_type=id_token_type,
            trigger_reason=trigger_reason,
            remote_start_id=remote_start_id,
            reservation_id=reservation_id,
            transaction_id=transaction_id,
            timestamp=timestamp,
        )
        return tx.transaction_id

    async def _start_transaction(
        self,
        evse_id: int,
        id_token: str,
        meter_start_wh: float | None,
        *,
        id_token_type: str | None = None,
        trigger_reason: str = "Authorized",
        remote_start_id: int | None = None,
        reservation_id: int | None = None,
        transaction_id: str | None = None,
        timestamp: str | None = None,
    ) -> Transaction201:
        evse = self.evse(evse_id)
        if evse.tx is not None:
            raise RuntimeError(f"{self.identity}: EVSE {evse_id} already has a transaction")
        if meter_start_wh is None:
            meter_start_wh = evse.outlet.read()
        else:
            evse.outlet.bump_to(meter_start_wh)
        reservation = evse.reservation
        if reservation is not None and reservation.id_tag == id_token:
            reservation_id = reservation_id or reservation.reservation_id
            evse.reservation = None
        ts = timestamp or utc_now_iso()
        token = self.token(id_token, id_token_type)
        tx = Transaction201(
            transaction_id or str(uuid.uuid4()),
            evse_id,
            token,
            meter_start_wh,
            ts,
            utc_now(),
            remote_start_id,
        )
        # Claim the EVSE before awaiting so nothing else starts on it.
        evse.tx = tx
        evse.runner.transaction_started(tx.start_dt)
        self._seq[tx.transaction_id] = 0
        try:
            tx.start_response = await self.transaction_event(
                STARTED,
                tx.transaction_id,
                trigger_reason,
                evse_id=evse_id,
                timestamp=ts,
                charging_state="Charging",
                remote_start_id=remote_start_id,
                id_token=token["idToken"],
                id_token_type=token["type"],
                energy_wh=meter_start_wh,
                reservation_id=reservation_id,
            )
        except BaseException:
            if evse.tx is tx:
                evse.tx = None
                evse.runner.transaction_ended()
            raise
        return tx

    async def update_transaction(
        self,
        transaction_id: str,
        energy_wh: float | None = None,
        power_w: float | None = None,
        *,
        trigger_reason: str = "MeterValuePeriodic",
        charging_state: str | None = None,
        context: str = "Sample.Periodic",
        timestamp: str | None = None,
    ) -> dict[str, Any] | None:
        """Send Updated with a meterValue (defaults: the EVSE's simulated meter)."""
        tx = self._known(transaction_id)
        ts = timestamp or utc_now_iso()
        sample = self.sample(tx.evse_id, context, energy_wh, power_w, ts)
        return await self.transaction_event(
            UPDATED,
            transaction_id,
            trigger_reason,
            timestamp=ts,
            charging_state=charging_state,
            meter_value=[sample],
        )

    async def stop_transaction(
        self,
        transaction_id: str,
        energy_wh: float | None = None,
        stopped_reason: str = "Local",
        *,
        trigger_reason: str | None = None,
        id_token: str | None = None,
        id_token_type: str | None = None,
        timestamp: str | None = None,
    ) -> dict[str, Any] | None:
        """Send Ended; the trigger defaults to the one that fits ``stopped_reason``."""
        tx = self._known(transaction_id)
        return await self._end(
            tx, energy_wh, stopped_reason, trigger_reason, id_token, id_token_type, timestamp
        )

    def _known(self, transaction_id: str) -> Transaction201:
        tx = self.find_transaction(transaction_id)
        if tx is None:
            raise ValueError(
                f"{self.identity}: no ongoing transaction {transaction_id!r}"
                " (use transaction_event() for arbitrary events)"
            )
        return tx

    async def _end(
        self,
        tx: Transaction201,
        energy_wh: float | None,
        stopped_reason: str,
        trigger_reason: str | None = None,
        id_token: str | None = None,
        id_token_type: str | None = None,
        timestamp: str | None = None,
    ) -> dict[str, Any] | None:
        evse = self.evse(tx.evse_id)
        if energy_wh is None:
            energy_wh = evse.outlet.read()
        else:
            evse.outlet.bump_to(energy_wh)
        if evse.tx is tx:
            evse.tx = None
            evse.runner.transaction_ended()
            if evse.pending_inoperative:
                # A ChangeAvailability answered "Scheduled" applies now; the
                # session (if any) reports the resulting status.
                evse.pending_inoperative = False
                evse.operative = False
        self._ended.add(tx.transaction_id)
        self._on_transaction_ended()
        return await self.transaction_event(
            ENDED,
            tx.transaction_id,
            trigger_reason or stop_trigger(stopped_reason),
            evse_id=tx.evse_id,
            timestamp=timestamp,
            stopped_reason=stopped_reason,
            id_token=id_token,
            id_token_type=id_token_type,
            energy_wh=energy_wh,
        )

    def _on_transaction_ended(self) -> None:
        """Hook: an EVSE just became free of its transaction."""
