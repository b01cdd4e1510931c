"""Transaction messages of a 1.6 charger and the queue that delivers them.

StartTransaction, StopTransaction and transaction MeterValues all pass through
``TransactionQueue`` (see ``offline_queue``) and the shared ``outbox`` worker,
so they reach the server in order even across disconnections.
"""

from __future__ import annotations

from typing import Any

from simulators._ocpp import call
from simulators.connector import Transaction
from simulators.meter import build_meter_value, meter_value_16
from simulators.offline_queue import METER, START, STOP, QueuedCall, TransactionQueue
from simulators.timeutil import utc_now, utc_now_iso
from simulators.v16_core import ChargePoint16Core


class ChargePoint16Transactions(ChargePoint16Core):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The same object as the outbox's queue, typed with its 1.6 extras.
        self._txq = TransactionQueue()
        self._queue = self._txq

    def resolve_transaction_id(self, transaction_id: int) -> int:
        """Map an offline placeholder to the server's id once it is known."""
        return self._txq.resolve(transaction_id)

    def transaction_id(self, connector_id: int) -> int | None:
        tx = self.connector(connector_id).tx
        return None if tx is None else self._txq.resolve(tx.local_id)

    def find_transaction(self, transaction_id: int) -> Transaction | None:
        wanted = self._txq.resolve(transaction_id)
        for conn in self.connectors.values():
            if conn.tx is not None and self._txq.resolve(conn.tx.local_id) == wanted:
                return conn.tx
        return None

    # ---------------------------------------------- transaction messages

    async def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int | None = None,
        *,
        timestamp: str | None = None,
        reservation_id: int | None = None,
    ) -> int:
        """StartTransaction; the server's id, or a negative placeholder if queued."""
        tx, _ = await self._start_transaction(
            connector_id, id_tag, meter_start, timestamp, reservation_id
        )
        return tx.local_id

    async def _start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int | None,
        timestamp: str | None,
        reservation_id: int | None,
    ) -> tuple[Transaction, str | None]:
        conn = self.connector(connector_id)
        if meter_start is None:
            meter_start = conn.outlet.read_wh()
        else:
            conn.outlet.bump_to(meter_start)
        now = utc_now()
        ts = timestamp or utc_now_iso()
        reservation = conn.reservation
        if reservation is not None and reservation.id_tag == id_tag:
            reservation_id = reservation_id or reservation.reservation_id
            conn.reservation = None
        placeholder = self._txq.new_placeholder()
        tx = Transaction(placeholder, connector_id, id_tag, meter_start, ts, now)
        # Claim the connector before awaiting so nothing else starts on it.
        conn.tx = tx
        conn.runner.transaction_started(now)
        kwargs = {
            "connector_id": connector_id,
            "id_tag": id_tag,
            "meter_start": meter_start,
            "timestamp": ts,
            "reservation_id": reservation_id,
        }
        try:
            result = await self._submit(START, kwargs, placeholder)
        except BaseException:
            if conn.tx is tx:
                conn.tx = None
                conn.runner.transaction_ended()
            raise
        if result is None:
            self.log.info("start_queued", connector=connector_id, placeholder=placeholder)
            return tx, None
        tx.local_id = int(result.transaction_id)
        status = str(result.id_tag_info["status"])
        self.log.info("started", connector=connector_id, tx=tx.local_id, status=status)
        return tx, status

    async def stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int | None = None,
        reason: str | None = "Local",
        *,
        id_tag: str | None = None,
        timestamp: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> Any | None:
        """StopTransaction; the server's answer, or None if it was queued."""
        tx = self.find_transaction(transaction_id)
        return await self._stop(
            tx, transaction_id, meter_stop, reason, id_tag, timestamp, transaction_data
        )

    async def _stop(
        self,
        tx: Transaction | None,
        transaction_id: int,
        meter_stop: int | None,
        reason: str | None,
        id_tag: str | None = None,
        timestamp: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> Any | None:
        # Internal callers pass the Transaction itself: ids alone can be
        # ambiguous (a placeholder, or a server that reuses ids).
        conn = self.connectors.get(tx.connector_id) if tx is not None else None
        if conn is not None:
            if meter_stop is None:
                meter_stop = conn.outlet.read_wh()
            else:
                conn.outlet.bump_to(meter_stop)
            if conn.tx is tx:
                conn.tx = None
                conn.runner.transaction_ended()
        if meter_stop is None:
            raise ValueError(f"unknown transaction {transaction_id}: meter_stop required")
        ts = timestamp or utc_now_iso()
        if transaction_data is None and tx is not None:
            transaction_data = [
                build_meter_value(tx.start_time, "Transaction.Begin", tx.meter_start),
                build_meter_value(ts, "Transaction.End", meter_stop),
            ]
        kwargs = {
            "meter_stop": meter_stop,
            "timestamp": ts,
            "transaction_id": transaction_id,
            "reason": reason,
            "id_tag": id_tag,
            "transaction_data": transaction_data,
        }
        result = await self._submit(STOP, kwargs)
        self.log.info("stopped", tx=transaction_id, reason=reason, queued=result is None)
        return result

    async def send_meter_values(
        self,
        connector_id: int,
        transaction_id: int | None = None,
        energy_wh: float | None = None,
        power_w: float | None = None,
        *,
        current_a: float | None = None,
        soc: float | None = None,
        context: str = "Sample.Periodic",
        timestamp: str | None = None,
    ) -> Any | None:
        """MeterValues; values default to the connector's simulated meter.

        With a transaction id the message is queued like other transaction
        messages (None is returned when it could not be delivered yet).
        """
        conn = self.connector(connector_id)
        outlet = conn.outlet
        ts = timestamp or utc_now_iso()
        if energy_wh is None and power_w is None and current_a is None and soc is None:
            # Everything from the simulated outlet: what the car draws, on the phases it uses.
            sample = meter_value_16(ts, context, outlet.readings())
        else:
            if energy_wh is None:
                energy_wh = outlet.read()
                power_w = outlet.power_w if power_w is None else power_w
                if outlet.charging and soc is None:
                    soc = outlet.soc
            else:
                outlet.bump_to(energy_wh)
            phases = outlet.phases_used
            if current_a is None and power_w is not None:
                current_a = power_w / (outlet.voltage * phases)
            sample = build_meter_value(ts, context, energy_wh, power_w, current_a, phases, soc)
        kwargs = {
            "connector_id": connector_id,
            "meter_value": [sample],
            "transaction_id": transaction_id,
        }
        if transaction_id is None:
            return await self._call(call.MeterValues(**kwargs))
        return await self._submit(METER, kwargs)

    # ------------------------------------------------------- outbox hooks

    def _payload_for(self, item: QueuedCall) -> Any:
        return getattr(call, item.action)(**self._txq.prepare(item))

    def _on_delivered(self, item: QueuedCall, result: Any) -> None:
        if item.action == START and item.placeholder is not None:
            self._txq.bind(item.placeholder, int(result.transaction_id))
            self._adopt_real_id(item.placeholder, int(result.transaction_id))

    def _on_dropped(self, item: QueuedCall, exc: Exception) -> None:
        if item.placeholder is not None:
            self._txq.mark_dead(item.placeholder)

    def _adopt_real_id(self, placeholder: int, real_id: int) -> None:
        for conn in self.connectors.values():
            if conn.tx is not None and conn.tx.local_id == placeholder:
                conn.tx.local_id = real_id
