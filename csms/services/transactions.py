"""Transactions and meter values, the same for every OCPP version."""

from __future__ import annotations

from collections.abc import Sequence

from csms.domain.clock import format_timestamp
from csms.domain.models import (
    MeterSample,
    Transaction,
    TransactionEvent,
    TransactionEventOutcome,
    TransactionStart,
    TransactionStop,
)
from csms.log import get_logger
from csms.services.events import EventBus
from csms.store.base import Page, TransactionStore

__all__ = ["TransactionService"]

log = get_logger(__name__)


def _sample_event(sample: MeterSample) -> dict[str, object]:
    return {
        "timestamp": format_timestamp(sample.timestamp),
        "measurand": sample.measurand,
        "phase": sample.phase,
        "unit": sample.unit,
        "value": sample.value,
        "context": sample.context,
    }


class TransactionService:
    def __init__(self, store: TransactionStore, events: EventBus) -> None:
        self._store = store
        self._events = events

    async def start(
        self, start: TransactionStart, samples: Sequence[MeterSample] = ()
    ) -> Transaction:
        transaction, created = await self._store.start_transaction(start, samples)
        if created:
            self._events.publish(
                "transaction.started",
                start.charge_point_id,
                transactionId=transaction.transaction_id,
                evseId=transaction.evse_id,
                connectorId=transaction.connector_id,
                idTag=transaction.id_tag,
                meterStartWh=transaction.meter_start_wh,
            )
        else:
            log.info(
                "transaction start replayed",
                charge_point_id=start.charge_point_id,
                transaction_id=transaction.transaction_id,
            )
        return transaction

    async def stop(
        self, stop: TransactionStop, samples: Sequence[MeterSample] = ()
    ) -> Transaction | None:
        transaction = await self._store.stop_transaction(stop, samples)
        if transaction is None:
            # A stop must still be acknowledged (the charger cannot be refused); flag it.
            log.warning(
                "stop for unknown transaction",
                charge_point_id=stop.charge_point_id,
                transaction_id=stop.transaction_id,
            )
            return None
        self._events.publish(
            "transaction.ended",
            stop.charge_point_id,
            transactionId=transaction.transaction_id,
            energyWh=transaction.energy_wh,
            stopReason=transaction.stop_reason,
        )
        return transaction

    async def record_event(
        self, event: TransactionEvent, samples: Sequence[MeterSample] = ()
    ) -> TransactionEventOutcome:
        outcome = await self._store.record_transaction_event(event, samples)
        transaction = outcome.transaction
        if outcome.duplicate:
            log.info(
                "transaction event replayed",
                charge_point_id=event.charge_point_id,
                transaction_id=event.transaction_id,
                seq_no=event.seq_no,
            )
            return outcome
        if outcome.missing_seq_nos:
            log.warning(
                "transaction events missing",
                charge_point_id=event.charge_point_id,
                transaction_id=event.transaction_id,
                missing=outcome.missing_seq_nos,
            )
        if outcome.created:
            self._events.publish(
                "transaction.started",
                event.charge_point_id,
                transactionId=transaction.transaction_id,
                evseId=transaction.evse_id,
                connectorId=transaction.connector_id,
                idTag=transaction.id_tag,
                meterStartWh=transaction.meter_start_wh,
            )
        if event.event_type == "Ended":
            self._events.publish(
                "transaction.ended",
                event.charge_point_id,
                transactionId=transaction.transaction_id,
                energyWh=transaction.energy_wh,
                stopReason=transaction.stop_reason,
            )
        elif not outcome.created:
            self._events.publish(
                "transaction.updated",
                event.charge_point_id,
                transactionId=transaction.transaction_id,
                triggerReason=event.trigger_reason,
                chargingState=event.charging_state,
                seqNo=event.seq_no,
            )
        if samples and self._events.active:
            self._events.publish(
                "meter.values",
                event.charge_point_id,
                evseId=transaction.evse_id,
                connectorId=transaction.connector_id,
                transactionId=transaction.transaction_id,
                samples=[_sample_event(s) for s in samples],
            )
        return outcome

    async def meter_values(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
    ) -> None:
        if not samples:
            return
        await self._store.add_meter_values(cp_id, evse_id, connector_id, transaction_id, samples)
        if not self._events.active:
            return
        self._events.publish(
            "meter.values",
            cp_id,
            evseId=evse_id,
            connectorId=connector_id,
            transactionId=transaction_id,
            samples=[_sample_event(s) for s in samples],
        )

    async def get(self, transaction_id: str) -> Transaction | None:
        return await self._store.get_transaction(transaction_id)

    async def list_transactions(
        self,
        page: Page,
        *,
        cp_id: str | None = None,
        active: bool | None = None,
        id_tag: str | None = None,
    ) -> list[Transaction]:
        return await self._store.list_transactions(page, cp_id=cp_id, active=active, id_tag=id_tag)

    async def meter_samples(
        self, transaction_id: str, *, limit: int, starting_after: int | None
    ) -> list[tuple[int, MeterSample]]:
        return await self._store.list_meter_values(
            transaction_id, limit=limit, starting_after=starting_after
        )
