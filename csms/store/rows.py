"""Rows both backends share: the columns of a table and the mapping to and from domain records.

The backends differ in how a timestamp is kept (SQLite: text or milliseconds; PostgreSQL:
timestamptz), so each mapping takes the conversion; the columns and their order live here once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from csms.domain.models import (
    BootInfo,
    ChargePoint,
    ConnectorState,
    DeviceVariable,
    MessageExchange,
    MeterSample,
    StoredSample,
)
from csms.domain.transactions import MeterReading, SeqNos, Transaction
from csms.store.message_frames import encode_body

__all__ = [
    "CHARGE_POINT_COLUMNS",
    "DEVICE_VARIABLE_COLUMNS",
    "EXCHANGE_COLUMNS",
    "SAMPLE_COLUMNS",
    "STORED_SAMPLE_ORDER",
    "TRANSACTION_COLUMNS",
    "TRANSACTION_SAVED",
    "charge_point_from_row",
    "device_variable_from_row",
    "device_variable_values",
    "exchange_values",
    "like_pattern",
    "sample_from_row",
    "stored_sample",
    "transaction_from_row",
    "transaction_values",
    "unchanged",
]

T = TypeVar("T")


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE/ILIKE with backslash as the escape (SQLite: ``ESCAPE '\\'``,
    PostgreSQL's default), with the wildcards in ``text`` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def unchanged(moment: datetime) -> datetime:
    """The time conversion of a backend that stores datetimes as they are (timestamptz)."""
    return moment


# --- charge points -----------------------------------------------------------------------------

CHARGE_POINT_COLUMNS = (
    "id, name, password_hash, security_profile, site_id, boot_answer, boot_status, ocpp_version, "
    "boot_accepted, model_id, external_id, vendor, model, serial_number, firmware_version, iccid, "
    "imsi, meter_type, meter_serial_number, firmware_status, diagnostics_status, connected, "
    "connected_since, last_seen_at, created_at, auto_registered"
)


def charge_point_from_row(
    row: Any,
    connectors: Sequence[ConnectorState],
    active_transactions: Sequence[str],
    time: Callable[[Any], datetime],
) -> ChargePoint:
    """A row read as ``SELECT <CHARGE_POINT_COLUMNS>``, by column name, with its connectors and
    the transactionIds running on it."""
    return ChargePoint(
        id=row["id"],
        name=row["name"],
        security_profile=row["security_profile"],
        site_id=row["site_id"],
        has_password=row["password_hash"] is not None,
        boot_answer=row["boot_answer"],
        boot_status=row["boot_status"],
        model_id=row["model_id"],
        external_id=row["external_id"],
        ocpp_version=row["ocpp_version"],
        boot_accepted=bool(row["boot_accepted"]),
        boot_info=BootInfo(
            vendor=row["vendor"],
            model=row["model"],
            serial_number=row["serial_number"],
            firmware_version=row["firmware_version"],
            iccid=row["iccid"],
            imsi=row["imsi"],
            meter_type=row["meter_type"],
            meter_serial_number=row["meter_serial_number"],
        ),
        firmware_status=row["firmware_status"],
        diagnostics_status=row["diagnostics_status"],
        connected=bool(row["connected"]),
        connected_since=_optional(row["connected_since"], time),
        last_seen_at=_optional(row["last_seen_at"], time),
        created_at=time(row["created_at"]),
        connectors=tuple(connectors),
        active_transactions=tuple(active_transactions),
        auto_registered=bool(row["auto_registered"]),
    )


# --- meter samples -----------------------------------------------------------------------------

# Read joined with sample_kinds (k), after the sample's own id (m.id).
SAMPLE_COLUMNS = "m.at, m.value, k.measurand, k.phase, k.unit, k.context, k.location, k.format"


def sample_from_row(row: Sequence[Any], time: Callable[[Any], datetime]) -> MeterSample:
    """A row read as ``SELECT <SAMPLE_COLUMNS>`` (positions 0 to 7 of ``row``)."""
    return MeterSample(
        timestamp=time(row[0]),
        value=row[1],
        measurand=row[2],
        phase=row[3] or None,
        unit=row[4],
        context=row[5],
        location=row[6],
        format=row[7],
    )


# The order of meter_values_position, the key that stores a sample once.
STORED_SAMPLE_ORDER = "m.charge_point_id, m.at, m.evse_id, m.connector_id, m.kind"


def stored_sample(row: Sequence[Any], time: Callable[[Any], datetime]) -> StoredSample:
    """A row read as ``SELECT m.id, m.charge_point_id, m.evse_id, m.connector_id,
    t.transaction_id, <SAMPLE_COLUMNS>``."""
    return StoredSample(row[0], row[1], row[2], row[3], row[4], sample_from_row(row[5:], time))


# --- transactions ------------------------------------------------------------------------------

# What a write sets; the key and the transactionId are given when the row is created.
TRANSACTION_SAVED = (
    "charge_point_id",
    "evse_id",
    "connector_id",
    "id_tag",
    "status",
    "started_at",
    "stopped_at",
    "meter_start_wh",
    "meter_start_at",
    "meter_start_seq",
    "meter_start_fixed",
    "meter_end_wh",
    "meter_end_at",
    "meter_end_seq",
    "meter_end_fixed",
    "stop_reason",
    "stop_id_tag",
    "reservation_id",
    "remote_start_id",
    "charging_state",
    "seq_nos",
    "start_key",
)
# What a read gets: the saved columns and those set apart (priority: its own UPDATE, so the
# charger's writes never carry it).
TRANSACTION_COLUMNS = ("pk", "transaction_id", *TRANSACTION_SAVED, "priority")


def _optional(value: T | None, convert: Callable[[T], Any]) -> Any:
    return None if value is None else convert(value)


def _reading(
    wh: float | None, at: Any, seq_no: int | None, fixed: Any, time: Callable[[Any], datetime]
) -> MeterReading | None:
    if wh is None or at is None:
        return None
    return MeterReading(wh, time(at), seq_no or 0, bool(fixed))


def transaction_from_row(row: Sequence[Any], time: Callable[[Any], datetime]) -> Transaction:
    """A row read as ``SELECT <TRANSACTION_COLUMNS>``; ``time`` reads a stored timestamp."""
    return Transaction(
        pk=row[0],
        transaction_id=row[1],
        charge_point_id=row[2],
        evse_id=row[3],
        connector_id=row[4],
        id_tag=row[5],
        status=row[6],
        started_at=time(row[7]),
        stopped_at=_optional(row[8], time),
        meter_start=_reading(row[9], row[10], row[11], row[12], time),
        meter_end=_reading(row[13], row[14], row[15], row[16], time),
        stop_reason=row[17],
        stop_id_tag=row[18],
        reservation_id=row[19],
        remote_start_id=row[20],
        charging_state=row[21],
        seq_nos=SeqNos.parse(row[22]),
        start_key=row[23],
        priority=row[24],
    )


def _reading_values(
    reading: MeterReading | None, stamp: Callable[[datetime], Any]
) -> tuple[Any, ...]:
    if reading is None:
        return (None, None, None, None)
    return (reading.wh, stamp(reading.at), reading.seq_no, reading.fixed)


def transaction_values(tx: Transaction, stamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The values of TRANSACTION_SAVED; ``stamp`` stores a timestamp."""
    return (
        tx.charge_point_id,
        tx.evse_id,
        tx.connector_id,
        tx.id_tag,
        tx.status,
        stamp(tx.started_at),
        _optional(tx.stopped_at, stamp),
        *_reading_values(tx.meter_start, stamp),
        *_reading_values(tx.meter_end, stamp),
        tx.stop_reason,
        tx.stop_id_tag,
        tx.reservation_id,
        tx.remote_start_id,
        tx.charging_state,
        str(tx.seq_nos) or None,
        tx.start_key,
    )


# --- the message log ---------------------------------------------------------------------------

EXCHANGE_COLUMNS = (
    "charge_point_id",
    "unique_id",
    "action",
    "outgoing",
    "first_type",
    "first_at",
    "first_body",
    "answer_type",
    "answer_at",
    "answer_body",
)


def exchange_values(e: MessageExchange, stamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The values of EXCHANGE_COLUMNS: each frame reduced to its payload (message_frames)."""
    first, answer = e.first, e.answer
    return (
        e.charge_point_id,
        e.unique_id,
        e.action,
        first.direction == "out",
        first.message_type,
        stamp(first.timestamp),
        encode_body(first.message_type, first.frame),
        None if answer is None else answer.message_type,
        None if answer is None else stamp(answer.timestamp),
        None if answer is None else encode_body(answer.message_type, answer.frame),
    )


# --- the device model --------------------------------------------------------------------------

DEVICE_VARIABLE_COLUMNS = (
    "charge_point_id",
    "component",
    "component_instance",
    "evse_id",
    "connector_id",
    "variable",
    "variable_instance",
    "attribute_type",
    "value",
    "mutability",
    "persistent",
    "constant",
    "data_type",
    "unit",
    "min_limit",
    "max_limit",
    "values_list",
    "updated_at",
)


def device_variable_values(cp_id: str, v: DeviceVariable, updated_at: Any) -> tuple[Any, ...]:
    """The values of DEVICE_VARIABLE_COLUMNS. What is absent is stored as '' or -1 (they are
    part of the key, and a key column cannot be NULL)."""
    return (
        cp_id,
        v.component,
        v.component_instance or "",
        -1 if v.evse_id is None else v.evse_id,
        -1 if v.connector_id is None else v.connector_id,
        v.variable,
        v.variable_instance or "",
        v.attribute_type,
        v.value,
        v.mutability,
        v.persistent,
        v.constant,
        v.data_type,
        v.unit,
        v.min_limit,
        v.max_limit,
        v.values_list,
        updated_at,
    )


def device_variable_from_row(r: Any) -> DeviceVariable:
    """A row read by column name (sqlite3.Row and asyncpg.Record both are)."""
    return DeviceVariable(
        component=r["component"],
        variable=r["variable"],
        attribute_type=r["attribute_type"],
        value=r["value"],
        component_instance=r["component_instance"] or None,
        evse_id=None if r["evse_id"] < 0 else r["evse_id"],
        connector_id=None if r["connector_id"] < 0 else r["connector_id"],
        variable_instance=r["variable_instance"] or None,
        mutability=r["mutability"],
        persistent=_optional(r["persistent"], bool),
        constant=_optional(r["constant"], bool),
        data_type=r["data_type"],
        unit=r["unit"],
        min_limit=r["min_limit"],
        max_limit=r["max_limit"],
        values_list=r["values_list"],
    )
