"""Transaction accounting: what each charger message does to a transaction, as pure functions.

The store loads a transaction, hands it here with the message, and saves what comes back, all
inside one write; no rule about transactions lives in SQL. The rules are those of the API contract
("Transactions and meter values"):

- A 1.6 StartTransaction creates a transaction; replayed after a reconnect (same connector, idTag,
  timestamp and meterStart) it is recognised by its ``start_key`` and gets the same id back.
- A StopTransaction ends it once; a second one changes nothing.
- A 2.0.1 TransactionEvent creates the transaction whatever its type (a station short of memory may
  drop Started, E04.FR.07, and queued events may arrive out of order); a seqNo seen before changes
  nothing; Started fixes the start time, Ended ends it and an event after Ended never reopens it.
- ``meterStartWh`` is the register in Started (1.6: meterStart), else the earliest reading;
  ``meterStopWh`` the register in Ended (1.6: meterStop), else the latest reading, shown once the
  transaction has ended. "Earliest" and "latest" order readings by (timestamp, seqNo), so events
  delivered out of order land where they belong.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from csms.domain.clock import format_timestamp

__all__ = [
    "ACTIVE",
    "COMPLETED",
    "MAX_PK",
    "EventOutcome",
    "MeterReading",
    "SeqNos",
    "StopOutcome",
    "Transaction",
    "TransactionEvent",
    "TransactionStart",
    "TransactionStop",
    "apply_event",
    "apply_stop",
    "new_from_start",
    "owner_of_samples",
    "start_key",
    "transaction_pk",
    "transaction_ref",
]

ACTIVE = "active"
COMPLETED = "completed"

MAX_REPORTED_GAPS = 100

_ID_PREFIX = "tx_"
_ID_PATTERN = re.compile(r"^tx_([1-9][0-9]{0,9})$")
MAX_PK = 2**31 - 1
"""A 1.6 transactionId is a transaction's key, and OCPP's integers have 32 bits."""


def transaction_pk(transaction_ref: str) -> int | None:
    """The store key in a CSMS-wide transaction ``id`` (``tx_42`` → 42); None if it is not one."""
    match = _ID_PATTERN.match(transaction_ref)
    if match is None:
        return None
    pk = int(match.group(1))
    return pk if pk <= MAX_PK else None


def transaction_ref(pk: int) -> str:
    """The CSMS-wide ``id`` of the transaction stored under ``pk`` (42 → ``tx_42``)."""
    return f"{_ID_PREFIX}{pk}"


@dataclass(frozen=True, slots=True)
class MeterReading:
    """An energy-register reading that may become a transaction's meter start or stop."""

    wh: float
    at: datetime
    seq_no: int  # the 2.0.1 event's seqNo (0 for 1.6)
    # Read at the start or end itself (Started/Ended, StartTransaction/StopTransaction): final.
    fixed: bool

    @property
    def position(self) -> tuple[datetime, int]:
        return (self.at, self.seq_no)


@dataclass(frozen=True, slots=True)
class SeqNos:
    """The 2.0.1 seqNos seen for a transaction, as sorted, disjoint, inclusive ranges.

    Kept with the transaction, so recognising a replay or a gap never reads the event history.
    """

    ranges: tuple[tuple[int, int], ...] = ()

    def __contains__(self, seq_no: object) -> bool:
        if not isinstance(seq_no, int):
            return False
        i = bisect.bisect_right(self.ranges, seq_no, key=lambda r: r[0])
        return i > 0 and self.ranges[i - 1][0] <= seq_no <= self.ranges[i - 1][1]

    @property
    def highest(self) -> int | None:
        return self.ranges[-1][1] if self.ranges else None

    def add(self, seq_no: int) -> SeqNos:
        if self.ranges:
            low, high = self.ranges[-1]
            if seq_no == high + 1:  # the usual case: the next event, in order
                return SeqNos((*self.ranges[:-1], (low, seq_no)))
        return self if seq_no in self else self.add_range(seq_no, seq_no)

    def add_range(self, low: int, high: int) -> SeqNos:
        merged = [*self.ranges, (low, high)]
        merged.sort()
        out: list[tuple[int, int]] = []
        for low, high in merged:
            if out and low <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], high))
            else:
                out.append((low, high))
        return SeqNos(tuple(out))

    def missing(self, limit: int = MAX_REPORTED_GAPS) -> tuple[int, ...]:
        """seqNos below the highest seen that never arrived (the first ``limit`` of them)."""
        gaps: list[int] = []
        for (_, high), (low, _) in zip(self.ranges, self.ranges[1:], strict=False):
            gaps.extend(range(high + 1, min(low, high + 1 + limit - len(gaps))))
            if len(gaps) >= limit:
                break
        return tuple(gaps)

    def __str__(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)

    @classmethod
    def parse(cls, text: str | None) -> SeqNos:
        if not text:
            return cls()
        result = cls()
        for part in text.split(","):
            low, _, high = part.partition("-")
            result = result.add_range(int(low), int(high or low))
        return result

    @classmethod
    def of(cls, seq_nos: Iterable[int]) -> SeqNos:
        result = cls()
        for seq_no in seq_nos:
            result = result.add(seq_no)
        return result


@dataclass(frozen=True, slots=True)
class Transaction:
    pk: int  # the store's key; 0 until it is stored
    transaction_id: str  # 2.0.1: the charger's; 1.6: ours (str(pk))
    charge_point_id: str
    evse_id: int
    connector_id: int
    id_tag: str | None
    status: str  # ACTIVE | COMPLETED
    started_at: datetime
    stopped_at: datetime | None = None
    meter_start: MeterReading | None = None
    meter_end: MeterReading | None = None  # the latest reading until the end, then the final one
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    reservation_id: int | None = None
    remote_start_id: int | None = None
    charging_state: str | None = None
    seq_nos: SeqNos = field(default_factory=SeqNos)
    start_key: str | None = None  # 1.6: what makes a replayed StartTransaction the same one
    priority: float | None = None  # its own load-management weight; None: its charger's

    @property
    def id(self) -> str:
        """CSMS-wide unique, and never a plain number (so never mistaken for a 1.6 id)."""
        return transaction_ref(self.pk)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def meter_start_wh(self) -> float | None:
        return None if self.meter_start is None else self.meter_start.wh

    @property
    def meter_stop_wh(self) -> float | None:
        if self.active or self.meter_end is None:
            return None
        return self.meter_end.wh

    @property
    def energy_wh(self) -> float | None:
        start, stop = self.meter_start_wh, self.meter_stop_wh
        return None if start is None or stop is None else stop - start


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """A 1.6 StartTransaction, in our vocabulary."""

    charge_point_id: str
    evse_id: int
    connector_id: int
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float | None
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionStop:
    """A 1.6 StopTransaction, in our vocabulary."""

    charge_point_id: str
    transaction_id: str
    stopped_at: datetime
    meter_stop_wh: float | None
    reason: str | None
    id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """One OCPP 2.0.1 TransactionEvent, already translated to our vocabulary."""

    charge_point_id: str
    transaction_id: str
    event_type: str  # Started | Updated | Ended
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    offline: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    id_tag: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    energy_register_wh: float | None = None


@dataclass(frozen=True, slots=True)
class StopOutcome:
    transaction: Transaction
    ended: bool  # this stop ended it (False: it had ended before, nothing changed)


@dataclass(frozen=True, slots=True)
class EventOutcome:
    transaction: Transaction
    created: bool  # the first event seen of this transaction
    duplicate: bool  # this seqNo was seen before: nothing changed
    ended: bool = False  # this event ended it
    missing_seq_nos: tuple[int, ...] = ()  # gaps below the highest seqNo seen


# --- 1.6 ---------------------------------------------------------------------------------------


def start_key(start: TransactionStart) -> str:
    """What makes a replayed StartTransaction the same: connector, idTag, timestamp, meterStart."""
    return "|".join(
        (
            start.charge_point_id.lower(),
            str(start.connector_id),
            start.id_tag or "",
            format_timestamp(start.started_at),
            repr(start.meter_start_wh),
        )
    )


def new_from_start(start: TransactionStart) -> Transaction:
    """The transaction a StartTransaction creates; its transactionId is given when it is stored."""
    return Transaction(
        pk=0,
        transaction_id="",
        charge_point_id=start.charge_point_id,
        evse_id=start.evse_id,
        connector_id=start.connector_id,
        id_tag=start.id_tag,
        status=ACTIVE,
        started_at=start.started_at,
        meter_start=None
        if start.meter_start_wh is None
        else MeterReading(start.meter_start_wh, start.started_at, 0, fixed=True),
        reservation_id=start.reservation_id,
        start_key=start_key(start),
    )


def apply_stop(transaction: Transaction, stop: TransactionStop) -> StopOutcome:
    if not transaction.active:
        return StopOutcome(transaction, ended=False)
    return StopOutcome(
        replace(
            transaction,
            status=COMPLETED,
            stopped_at=stop.stopped_at,
            meter_end=None
            if stop.meter_stop_wh is None
            else MeterReading(stop.meter_stop_wh, stop.stopped_at, 0, fixed=True),
            stop_reason=stop.reason,
            stop_id_tag=stop.id_tag,
        ),
        ended=True,
    )


# --- 2.0.1 -------------------------------------------------------------------------------------


def _new_from_event(event: TransactionEvent) -> Transaction:
    return Transaction(
        pk=0,
        transaction_id=event.transaction_id,
        charge_point_id=event.charge_point_id,
        evse_id=event.evse_id or 0,
        connector_id=event.connector_id or 0,
        id_tag=None,
        status=ACTIVE,
        started_at=event.timestamp,
    )


def _meter_start(current: MeterReading | None, event: TransactionEvent) -> MeterReading | None:
    if event.energy_register_wh is None or (current is not None and current.fixed):
        return current
    reading = MeterReading(
        event.energy_register_wh, event.timestamp, event.seq_no, fixed=event.event_type == "Started"
    )
    if reading.fixed or current is None or reading.position < current.position:
        return reading
    return current


def _meter_end(current: MeterReading | None, event: TransactionEvent) -> MeterReading | None:
    if event.energy_register_wh is None or (current is not None and current.fixed):
        return current
    reading = MeterReading(
        event.energy_register_wh, event.timestamp, event.seq_no, fixed=event.event_type == "Ended"
    )
    if reading.fixed or current is None or reading.position > current.position:
        return reading
    return current


def apply_event(transaction: Transaction | None, event: TransactionEvent) -> EventOutcome:
    """What one TransactionEvent does to its transaction (None: none seen before)."""
    created = transaction is None
    tx = _new_from_event(event) if transaction is None else transaction
    if event.seq_no in tx.seq_nos:
        return EventOutcome(tx, created=False, duplicate=True)
    newest = tx.seq_nos.highest is None or event.seq_no > tx.seq_nos.highest
    ends_now = event.event_type == "Ended" and tx.active
    if event.event_type == "Started":
        started_at = event.timestamp
    elif created:
        started_at = tx.started_at
    else:
        started_at = min(tx.started_at, event.timestamp)
    seq_nos = tx.seq_nos.add(event.seq_no)
    updated = replace(
        tx,
        # The EVSE is only in the first event after it is known; the idToken comes once.
        evse_id=tx.evse_id or event.evse_id or 0,
        connector_id=tx.connector_id or event.connector_id or 0,
        id_tag=tx.id_tag if tx.id_tag is not None else event.id_tag,
        charging_state=event.charging_state
        if newest and event.charging_state is not None
        else tx.charging_state,
        remote_start_id=tx.remote_start_id
        if tx.remote_start_id is not None
        else event.remote_start_id,
        reservation_id=tx.reservation_id if tx.reservation_id is not None else event.reservation_id,
        started_at=started_at,
        status=COMPLETED if event.event_type == "Ended" else tx.status,
        stopped_at=event.timestamp if ends_now else tx.stopped_at,
        stop_reason=(event.stopped_reason or "Local") if ends_now else tx.stop_reason,
        meter_start=_meter_start(tx.meter_start, event),
        meter_end=_meter_end(tx.meter_end, event),
        seq_nos=seq_nos,
    )
    return EventOutcome(
        updated,
        created=created,
        duplicate=False,
        ended=ends_now,
        missing_seq_nos=seq_nos.missing(),
    )


# --- meter values ------------------------------------------------------------------------------


def owner_of_samples(
    named: Transaction | None, active: Sequence[Transaction], evse_id: int, connector_id: int
) -> Transaction | None:
    """The transaction that MeterValues samples belong to.

    The one the charger names, when it is known; otherwise (1.6 sends -1 before it got an id,
    2.0.1 MeterValues name only the EVSE: connector 0) whatever runs on that EVSE, newest first.
    """
    if named is not None:
        return named
    if evse_id <= 0:
        return None
    candidates = [
        tx
        for tx in active
        if tx.active
        and tx.evse_id == evse_id
        and (connector_id == 0 or tx.connector_id == connector_id)
    ]
    return max(candidates, key=lambda tx: tx.pk, default=None)
