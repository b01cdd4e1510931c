"""Transaction accounting (csms.domain.transactions), table-driven, with no database.

Every rule of the API contract's "Transactions and meter values": 1.6 start/stop and replays,
2.0.1 events in and out of order, replays, gaps, meter start/stop and energy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from csms.domain.transactions import (
    COMPLETED,
    EventOutcome,
    SeqNos,
    Transaction,
    TransactionEvent,
    TransactionStart,
    TransactionStop,
    apply_event,
    apply_stop,
    new_from_start,
    owner_of_samples,
    start_key,
    transaction_pk,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- 1.6 ---------------------------------------------------------------------------------------

START = TransactionStart("CP-1", 1, 1, "TAG", T0, 1000.0)


def test_a_start_creates_an_active_transaction_with_a_final_meter_start() -> None:
    tx = new_from_start(START)
    assert tx.active and tx.pk == 0 and tx.transaction_id == ""
    assert tx.meter_start_wh == 1000.0 and tx.meter_start is not None and tx.meter_start.fixed
    assert tx.meter_stop_wh is None and tx.energy_wh is None
    assert tx.start_key == start_key(START)


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (START, True),
        (replace(START, charge_point_id="cp-1"), True),  # identities are case-insensitive
        (replace(START, connector_id=2), False),
        (replace(START, id_tag="OTHER"), False),
        (replace(START, started_at=T0 + timedelta(milliseconds=1)), False),
        (replace(START, meter_start_wh=1001.0), False),
        (replace(START, charge_point_id="CP-2"), False),
    ],
)
def test_a_replayed_start_is_recognised_by_connector_tag_time_and_meter(
    other: TransactionStart, same: bool
) -> None:
    assert (start_key(other) == start_key(START)) is same


def test_a_stop_ends_once_and_a_second_changes_nothing() -> None:
    tx = replace(new_from_start(START), pk=7, transaction_id="7")
    stop = TransactionStop("CP-1", "7", at(60), 8500.5, "EVDisconnected", "TAG")
    first = apply_stop(tx, stop)
    assert first.ended
    done = first.transaction
    assert done.status == COMPLETED and done.stopped_at == at(60)
    assert done.meter_stop_wh == 8500.5 and done.energy_wh == 7500.5
    assert done.stop_reason == "EVDisconnected" and done.stop_id_tag == "TAG"
    again = apply_stop(done, TransactionStop("CP-1", "7", at(90), 9999.0, "Remote"))
    assert not again.ended and again.transaction == done


def test_a_stop_without_meter_leaves_the_energy_unknown() -> None:
    tx = replace(new_from_start(START), pk=7, transaction_id="7")
    done = apply_stop(tx, TransactionStop("CP-1", "7", at(60), None, None)).transaction
    assert not done.active and done.meter_stop_wh is None and done.energy_wh is None


# --- 2.0.1 -------------------------------------------------------------------------------------


def event(
    event_type: str, seq_no: int, minutes: float, wh: float | None = None, **extra: object
) -> TransactionEvent:
    return TransactionEvent(
        charge_point_id="CS-1",
        transaction_id="T-1",
        event_type=event_type,
        seq_no=seq_no,
        timestamp=at(minutes),
        trigger_reason="MeterValuePeriodic",
        energy_register_wh=wh,
        **extra,  # type: ignore[arg-type]
    )


def run(*events: TransactionEvent) -> tuple[Transaction, list[EventOutcome]]:
    """Apply events in the order given, as the store would (saving in between)."""
    tx: Transaction | None = None
    outcomes = []
    for e in events:
        outcome = apply_event(tx, e)
        outcomes.append(outcome)
        tx = outcome.transaction if tx is None or not outcome.duplicate else tx
        if tx.pk == 0:
            tx = replace(tx, pk=1)  # stored
    assert tx is not None
    return tx, outcomes


@dataclass(frozen=True)
class Case:
    name: str
    events: tuple[TransactionEvent, ...]
    status: str
    started_at: datetime
    stopped_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    stop_reason: str | None = None


STARTED = event("Started", 0, 0, 1000.0, evse_id=1, connector_id=1, id_tag="TAG")
UPDATED_1 = event("Updated", 1, 10, 2000.0)
UPDATED_2 = event("Updated", 2, 20, 3000.0)
ENDED = event("Ended", 3, 30, 4000.0, stopped_reason="EVDisconnected")

CASES = [
    Case("in order", (STARTED, UPDATED_1, UPDATED_2, ENDED), COMPLETED, at(0), at(30), 1000, 4000,
         "EVDisconnected"),
    Case("active: no meter stop yet", (STARTED, UPDATED_1), "active", at(0), None, 1000, None),
    Case("Started lost: the first reading starts it", (UPDATED_1, UPDATED_2, ENDED), COMPLETED,
         at(10), at(30), 2000, 4000, "EVDisconnected"),
    Case("Started late: it wins over readings", (UPDATED_1, STARTED, ENDED), COMPLETED, at(0),
         at(30), 1000, 4000, "EVDisconnected"),
    Case("reversed", (ENDED, UPDATED_2, UPDATED_1, STARTED), COMPLETED, at(0), at(30), 1000, 4000,
         "EVDisconnected"),
    Case("Ended without a register: the last reading", (STARTED, UPDATED_2, UPDATED_1,
         replace(ENDED, energy_register_wh=None, stopped_reason=None)), COMPLETED, at(0), at(30),
         1000, 3000, "Local"),
    Case("no readings at all", (replace(STARTED, energy_register_wh=None),
         replace(ENDED, energy_register_wh=None)), COMPLETED, at(0), at(30), None, None,
         "EVDisconnected"),
    Case("an event after Ended does not reopen it", (STARTED, ENDED, event("Updated", 4, 40, 9e9)),
         COMPLETED, at(0), at(30), 1000, 4000, "EVDisconnected"),
    Case("readings ordered by time, then seqNo", (event("Updated", 5, 10, 2000.0),
         event("Updated", 4, 10, 1500.0), event("Updated", 6, 5, 1200.0),
         replace(ENDED, seq_no=7, energy_register_wh=None)), COMPLETED, at(5), at(30), 1200, 2000,
         "EVDisconnected"),
    Case("replays change nothing", (STARTED, UPDATED_1, replace(UPDATED_1, energy_register_wh=1.0),
         ENDED, replace(ENDED, timestamp=at(99))), COMPLETED, at(0), at(30), 1000, 4000,
         "EVDisconnected"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transaction_events(case: Case) -> None:
    tx, outcomes = run(*case.events)
    assert tx.status == case.status
    assert tx.started_at == case.started_at
    assert tx.stopped_at == case.stopped_at
    assert tx.meter_start_wh == case.meter_start_wh
    assert tx.meter_stop_wh == case.meter_stop_wh
    assert tx.stop_reason == case.stop_reason
    if tx.meter_start_wh is not None and tx.meter_stop_wh is not None:
        assert tx.energy_wh == tx.meter_stop_wh - tx.meter_start_wh
    assert outcomes[0].created and not any(o.created for o in outcomes[1:])
    assert sum(o.ended for o in outcomes) == (1 if case.status == COMPLETED else 0)


def test_a_replayed_event_is_a_duplicate_and_changes_nothing() -> None:
    tx, _ = run(STARTED, UPDATED_1)
    outcome = apply_event(tx, replace(UPDATED_1, charging_state="SuspendedEV"))
    assert outcome.duplicate and not outcome.created and outcome.transaction == tx


def test_the_first_event_sets_the_evse_token_and_remote_start_once() -> None:
    tx, _ = run(
        event("Updated", 1, 1, charging_state="EVConnected"),
        replace(STARTED, remote_start_id=5, reservation_id=9),
        event("Updated", 2, 2, evse_id=3, connector_id=2, id_tag="OTHER", remote_start_id=6),
    )
    assert (tx.evse_id, tx.connector_id, tx.id_tag) == (1, 1, "TAG")
    assert (tx.remote_start_id, tx.reservation_id) == (5, 9)


def test_the_charging_state_follows_the_newest_event_not_the_latest_to_arrive() -> None:
    tx, _ = run(
        replace(STARTED, charging_state="Charging"),
        event("Updated", 5, 50, charging_state="SuspendedEV"),
        event("Updated", 3, 30, charging_state="Charging"),  # queued offline, delivered late
    )
    assert tx.charging_state == "SuspendedEV"
    tx, _ = run(STARTED, event("Updated", 1, 1, charging_state=None))
    assert tx.charging_state is None


@pytest.mark.parametrize(
    ("seq_nos", "missing"),
    [
        ((0, 1, 2), ()),
        ((0, 1, 4), (2, 3)),
        ((4, 0), (1, 2, 3)),
        ((0, 2, 5, 3), (1, 4)),
        ((3,), ()),
        ((0, 1000), tuple(range(1, 101))),  # reported at most 100 at a time
    ],
)
def test_gaps_below_the_highest_seq_no_are_reported(
    seq_nos: tuple[int, ...], missing: tuple[int, ...]
) -> None:
    _, outcomes = run(*(event("Updated", n, n) for n in seq_nos))
    assert outcomes[-1].missing_seq_nos == missing


# --- seqNo sets, sample owners, ids ------------------------------------------------------------


@pytest.mark.parametrize(
    ("seq_nos", "text"),
    [((), ""), ((0,), "0"), ((0, 1, 2, 5, 7, 8), "0-2,5,7-8"), ((9, 3, 4, 1), "1,3-4,9")],
)
def test_seq_nos_round_trip_as_ranges(seq_nos: tuple[int, ...], text: str) -> None:
    parsed = SeqNos.of(seq_nos)
    assert str(parsed) == text
    assert SeqNos.parse(text) == parsed
    assert all(n in parsed for n in seq_nos)
    assert -1 not in parsed and 10 not in parsed and "1" not in parsed


def test_seq_nos_merge_adjacent_ranges() -> None:
    assert SeqNos.of([1, 3]).add(2).ranges == ((1, 3),)
    assert SeqNos.parse("5-9,1-2").ranges == ((1, 2), (5, 9))


def _active(pk: int, evse: int, connector: int, status: str = "active") -> Transaction:
    return Transaction(pk, str(pk), "CP", evse, connector, None, status, T0)


@pytest.mark.parametrize(
    ("named", "evse", "connector", "owner"),
    [
        (_active(9, 2, 1), 1, 1, 9),  # the transaction the charger names wins
        (None, 1, 1, 3),  # the newest running on that EVSE and connector
        (None, 1, 0, 3),  # 2.0.1 MeterValues name only the EVSE
        (None, 1, 2, 2),
        (None, 2, 1, None),  # the one there has ended
        (None, 0, 0, None),  # the charge point as a whole
        (None, 3, 1, None),
    ],
)
def test_samples_without_a_known_transaction_go_to_what_runs_on_their_evse(
    named: Transaction | None, evse: int, connector: int, owner: int | None
) -> None:
    active = [_active(1, 1, 1), _active(2, 1, 2), _active(3, 1, 1), _active(4, 2, 1, COMPLETED)]
    found = owner_of_samples(named, active, evse, connector)
    assert (None if found is None else found.pk) == owner


@pytest.mark.parametrize(
    ("ref", "pk"),
    [("tx_42", 42), ("tx_1", 1), ("42", None), ("tx_0", None), ("tx_042", None), ("tx_", None),
     ("TX_42", None), ("tx_4a", None), ("uuid-201-a", None), ("tx_2147483647", 2**31 - 1),
     ("tx_2147483648", None), ("tx_99999999999", None)],
)  # fmt: skip
def test_transaction_ids_are_never_plain_numbers(ref: str, pk: int | None) -> None:
    assert transaction_pk(ref) == pk
    if pk is not None:
        assert _active(pk, 1, 1).id == ref
