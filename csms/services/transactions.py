"""Transactions and meter values, the same for every OCPP version.

What a message does to a transaction is decided by csms.domain.transactions inside the store's
write; this service publishes what happened and finds transactions for operators, by their
CSMS-wide ``id`` or by a charger's ``transactionId`` (unique only per charger).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from csms.domain.errors import Ambiguous, NotFound
from csms.domain.events import CausedEvent
from csms.domain.metering import check_sample_window
from csms.domain.models import MeterSample, StoredSample
from csms.domain.paging import Page, Paged
from csms.domain.transactions import (
    EventOutcome,
    StopOutcome,
    Transaction,
    TransactionEvent,
    TransactionStart,
    TransactionStop,
    transaction_pk,
)
from csms.log import get_logger
from csms.services.events import EventBus
from csms.store.repositories import TransactionStore

__all__ = ["TransactionService"]

log = get_logger(__name__)


class TransactionService:
    def __init__(self, store: TransactionStore, events: EventBus) -> None:
        self._store = store
        self._events = events

    # --- messages from chargers ----------------------------------------------------------------

    async def start(
        self, start: TransactionStart, samples: Sequence[MeterSample] = ()
    ) -> Transaction:
        transaction, created = await self._events.change(
            lambda events: self._store.start_transaction(start, samples, events=events),
            _start_events,
        )
        if not created:
            log.info(
                "transaction start replayed",
                charge_point_id=start.charge_point_id,
                transaction_id=transaction.transaction_id,
            )
        return transaction

    async def stop(
        self, stop: TransactionStop, samples: Sequence[MeterSample] = ()
    ) -> Transaction | None:
        outcome = await self._events.change(
            lambda events: self._store.stop_transaction(stop, samples, events=events),
            _stop_events,
        )
        if outcome is None:
            # A stop must still be acknowledged (the charger cannot be refused); flag it.
            log.warning(
                "stop for unknown transaction",
                charge_point_id=stop.charge_point_id,
                transaction_id=stop.transaction_id,
            )
            return None
        return outcome.transaction

    async def record_event(
        self, event: TransactionEvent, samples: Sequence[MeterSample] = ()
    ) -> EventOutcome:
        def events_of(outcome: EventOutcome) -> list[CausedEvent]:
            return _transaction_event_events(event, samples, outcome)

        outcome = await self._events.change(
            lambda events: self._store.record_transaction_event(event, samples, events=events),
            events_of,
        )
        if outcome.duplicate:
            log.info(
                "transaction event replayed",
                charge_point_id=event.charge_point_id,
                transaction_id=event.transaction_id,
                seq_no=event.seq_no,
            )
        elif outcome.missing_seq_nos:
            log.warning(
                "transaction events missing",
                charge_point_id=event.charge_point_id,
                transaction_id=event.transaction_id,
                missing=outcome.missing_seq_nos,
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
        event = _meter_values(cp_id, evse_id, connector_id, transaction_id, samples)
        await self._events.change(
            lambda events: self._store.add_meter_values(
                cp_id, evse_id, connector_id, transaction_id, samples, events=events
            ),
            # A replay (every sample stored already) changes nothing and tells nothing.
            lambda added: (event,) if added else (),
        )

    # --- operators -----------------------------------------------------------------------------

    async def find(self, ref: str) -> Transaction:
        """By CSMS-wide ``id`` first, then by ``transactionId``; raises NotFound, or Ambiguous
        when chargers share that transactionId."""
        pk = transaction_pk(ref)
        if pk is not None:
            found = await self._store.get_transaction(pk)
            if found is not None:
                return found
        candidates = await self._store.find_transactions(ref)
        if not candidates:
            raise NotFound(f"transaction {ref!r} not found")
        if len(candidates) > 1:
            raise Ambiguous(
                f"transactionId {ref!r} is used by {len(candidates)} charge points: use the"
                " transaction's id, or /charge-points/{chargePointId}/transactions/" + ref,
                candidates=[tx.id for tx in candidates],
            )
        return candidates[0]

    async def of_charger(self, cp_id: str, transaction_id: str) -> Transaction:
        found = await self._store.find_transactions(transaction_id, cp_id=cp_id)
        if not found:
            raise NotFound(f"transaction {transaction_id!r} of {cp_id!r} not found")
        return found[0]

    async def list_transactions(
        self,
        page: Page[int],
        *,
        cp_id: str | None = None,
        active: bool | None = None,
        id_tag: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        site_ids: Collection[str] | None = None,
    ) -> Paged[Transaction]:
        return await self._store.list_transactions(
            page,
            cp_id=cp_id,
            active=active,
            id_tag=id_tag,
            start=start,
            end=end,
            site_ids=site_ids,
        )

    async def meter_samples(
        self, transaction: Transaction, page: Page[int]
    ) -> Paged[tuple[int, MeterSample]]:
        return await self._store.list_meter_values(transaction.pk, page)

    async def query_meter_values(
        self,
        page: Page[int],
        *,
        start: datetime,
        end: datetime,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        evse_id: int | None = None,
        measurand: str | None = None,
    ) -> Paged[StoredSample]:
        """Every stored sample in ``[start, end)`` (csms.domain.metering.MAX_SAMPLE_WINDOW at
        most): TransactionStore.query_meter_values."""
        check_sample_window(start, end)
        return await self._store.query_meter_values(
            page,
            start=start,
            end=end,
            cp_id=cp_id,
            site_ids=site_ids,
            evse_id=evse_id,
            measurand=measurand,
        )


# --- the events a message causes (pure: they run inside the store's write) ---------------------


def _started(transaction: Transaction) -> CausedEvent:
    return CausedEvent(
        "transaction.started",
        transaction.charge_point_id,
        {
            "id": transaction.id,
            "transactionId": transaction.transaction_id,
            "evseId": transaction.evse_id,
            "connectorId": transaction.connector_id,
            "idTag": transaction.id_tag,
            "meterStartWh": transaction.meter_start_wh,
        },
    )


def _ended(transaction: Transaction) -> CausedEvent:
    return CausedEvent(
        "transaction.ended",
        transaction.charge_point_id,
        {
            "id": transaction.id,
            "transactionId": transaction.transaction_id,
            "energyWh": transaction.energy_wh,
            "stopReason": transaction.stop_reason,
        },
    )


def _start_events(result: tuple[Transaction, bool]) -> tuple[CausedEvent, ...]:
    transaction, created = result
    return (_started(transaction),) if created else ()


def _stop_events(outcome: StopOutcome | None) -> tuple[CausedEvent, ...]:
    return (_ended(outcome.transaction),) if outcome is not None and outcome.ended else ()


def _transaction_event_events(
    event: TransactionEvent, samples: Sequence[MeterSample], outcome: EventOutcome
) -> list[CausedEvent]:
    if outcome.duplicate:
        return []
    transaction = outcome.transaction
    caused: list[CausedEvent] = []
    if outcome.created:
        caused.append(_started(transaction))
    if outcome.ended:
        caused.append(_ended(transaction))
    elif not outcome.created:
        caused.append(
            CausedEvent(
                "transaction.updated",
                event.charge_point_id,
                {
                    "id": transaction.id,
                    "transactionId": transaction.transaction_id,
                    "triggerReason": event.trigger_reason,
                    "chargingState": event.charging_state,
                    "seqNo": event.seq_no,
                },
            )
        )
    if samples:
        caused.append(
            _meter_values(
                event.charge_point_id,
                transaction.evse_id,
                transaction.connector_id,
                transaction.transaction_id,
                samples,
            )
        )
    return caused


def _meter_values(
    cp_id: str,
    evse_id: int,
    connector_id: int,
    transaction_id: str | None,
    samples: Sequence[MeterSample],
) -> CausedEvent:
    # The samples as they are: a listener (the load manager) reads a few of them, and they are
    # rendered only where they leave the process (csms.domain.events.data_json).
    data = {
        "evseId": evse_id,
        "connectorId": connector_id,
        "transactionId": transaction_id,
        "samples": tuple(samples),
    }
    return CausedEvent("meter.values", cp_id, data)
