"""The SQLite store: the only SQL in the project.

One aiosqlite connection in WAL mode. Writes go through the group-commit writer; reads run as one
function on the same worker thread, so a read never sees half of a write batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import orjson

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.errors import Conflict, NotFound
from csms.domain.models import (
    ApiToken,
    BootInfo,
    ChargePoint,
    CommandRecord,
    ConfigurationKey,
    ConnectorState,
    DeviceVariable,
    IdTag,
    IdTagStatus,
    MeterSample,
    OcppMessage,
    Reservation,
    Role,
    StoredChargingProfile,
    Transaction,
    TransactionEvent,
    TransactionEventOutcome,
    TransactionStart,
    TransactionStop,
)
from csms.log import get_logger
from csms.store.base import (
    UNSET,
    ChargePointChanges,
    ChargerReport,
    CommandOutcome,
    Credentials,
    IdTagChanges,
    MessageRecord,
    Page,
)
from csms.store.group_commit import GroupCommitWriter, run_on_db_thread

__all__ = ["SqliteStore"]

T = TypeVar("T")

log = get_logger(__name__)

_CHECKPOINT_SECONDS = 1.0
_MESSAGE_CHUNK = 250


def _append_messages_op(records: Sequence[MessageRecord]) -> Callable[[sqlite3.Connection], None]:
    def op(conn: sqlite3.Connection) -> None:
        # Rows are built here, on the database thread, not on the event loop.
        conn.executemany(
            "INSERT INTO ocpp_messages (charge_point_id, direction, message_type, unique_id,"
            " action, payload, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.charge_point_id,
                    r.direction,
                    r.message_type,
                    r.unique_id,
                    r.action,
                    r.frame,
                    format_timestamp(r.timestamp),
                )
                for r in records
            ],
        )

    return op


_MESSAGE_TYPES = {2: "Call", 3: "CallResult", 4: "CallError", 0: "Invalid"}


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def _dt(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("csms.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _migrate(conn: sqlite3.Connection) -> int:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    for version, script in _migrations():
        if version <= current:
            continue
        # executescript commits first; the version bump rides in the same script.
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
        current = version
    return int(current)


# --- row mapping -------------------------------------------------------------------------------

_CP_COLUMNS = (
    "id, name, password_hash, security_profile, site_id, registration_status, ocpp_version, "
    "boot_accepted, vendor, model, serial_number, firmware_version, iccid, imsi, meter_type, "
    "meter_serial_number, firmware_status, diagnostics_status, connected, connected_since, "
    "last_seen_at, created_at"
)

_TX_COLUMNS = (
    "pk, transaction_id, charge_point_id, evse_id, connector_id, id_tag, status, started_at, "
    "stopped_at, meter_start_wh, meter_stop_wh, stop_reason"
)


def _charge_point(conn: sqlite3.Connection, row: sqlite3.Row) -> ChargePoint:
    connectors = tuple(
        ConnectorState(
            evse_id=c["evse_id"],
            connector_id=c["connector_id"],
            status=c["status"],
            error_code=c["error_code"],
            updated_at=parse_timestamp(c["updated_at"]),
            info=c["info"],
            vendor_error_code=c["vendor_error_code"],
        )
        for c in conn.execute(
            "SELECT * FROM connectors WHERE charge_point_id = ? ORDER BY evse_id, connector_id",
            (row["id"],),
        )
    )
    active = tuple(
        r[0]
        for r in conn.execute(
            "SELECT transaction_id FROM transactions"
            " WHERE charge_point_id = ? AND status = 'active' ORDER BY pk",
            (row["id"],),
        )
    )
    return ChargePoint(
        id=row["id"],
        name=row["name"],
        security_profile=row["security_profile"],
        site_id=row["site_id"],
        has_password=row["password_hash"] is not None,
        registration_status=row["registration_status"],
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
        connected_since=_dt(row["connected_since"]),
        last_seen_at=_dt(row["last_seen_at"]),
        created_at=parse_timestamp(row["created_at"]),
        connectors=connectors,
        active_transactions=active,
    )


def _id_tag(row: sqlite3.Row) -> IdTag:
    return IdTag(
        uid=row["uid"],
        status=IdTagStatus(row["status"]),
        type=row["type"],
        expire_at=_dt(row["expire_at"]),
        parent_id_tag=row["parent_id_tag"],
        label=row["label"],
    )


def _transaction(row: sqlite3.Row) -> Transaction:
    return Transaction(
        pk=row["pk"],
        transaction_id=row["transaction_id"],
        charge_point_id=row["charge_point_id"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        id_tag=row["id_tag"],
        status=row["status"],
        started_at=parse_timestamp(row["started_at"]),
        stopped_at=_dt(row["stopped_at"]),
        meter_start_wh=row["meter_start_wh"],
        meter_stop_wh=row["meter_stop_wh"],
        stop_reason=row["stop_reason"],
    )


def _message_payload(message_type: int, frame: str) -> Any:
    """The payload part of a logged frame; a frame that was not valid OCPP-J comes back whole."""
    try:
        parsed = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return frame
    if message_type == 2 and len(parsed) == 4:
        return parsed[3]
    if message_type == 3 and len(parsed) == 3:
        return parsed[2]
    if message_type == 4 and len(parsed) == 5:
        return {"errorCode": parsed[2], "errorDescription": parsed[3], "errorDetails": parsed[4]}
    return parsed


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _from_json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _command(row: sqlite3.Row) -> CommandRecord:
    return CommandRecord(
        id=row["id"],
        charge_point_id=row["charge_point_id"],
        action=row["action"],
        requested_by=row["requested_by"],
        request=orjson.loads(row["request"]),
        state=row["state"],
        created_at=parse_timestamp(row["created_at"]),
        ocpp_action=row["ocpp_action"],
        ocpp_payload=_from_json(row["ocpp_payload"]),
        status=row["status"],
        response=_from_json(row["response"]),
        error=_from_json(row["error"]),
        completed_at=_dt(row["completed_at"]),
        duration_ms=row["duration_ms"],
    )


def _reservation(row: sqlite3.Row) -> Reservation:
    return Reservation(
        charge_point_id=row["charge_point_id"],
        reservation_id=row["reservation_id"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        id_tag=row["id_tag"],
        expires_at=parse_timestamp(row["expires_at"]),
        status=row["status"],
        created_at=parse_timestamp(row["created_at"]),
        ended_at=_dt(row["ended_at"]),
    )


# --- write operations (run inside a group-commit batch) ------------------------------------------


def _insert_samples(
    conn: sqlite3.Connection,
    cp_id: str,
    evse_id: int,
    connector_id: int,
    transaction_pk: int | None,
    samples: Sequence[MeterSample],
) -> int:
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO meter_values (charge_point_id, evse_id, connector_id,"
        " transaction_pk, timestamp, measurand, phase, unit, value, context, location, format)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                cp_id,
                evse_id,
                connector_id,
                transaction_pk,
                format_timestamp(s.timestamp),
                s.measurand,
                s.phase or "",
                s.unit,
                s.value,
                s.context,
                s.location,
                s.format,
            )
            for s in samples
        ],
    )
    return conn.total_changes - before


def _start_key(start: TransactionStart) -> str | None:
    if start.transaction_id is not None:
        return None  # charger-chosen ids are their own dedupe key
    return "|".join(
        (
            start.charge_point_id.lower(),
            str(start.connector_id),
            start.id_tag or "",
            format_timestamp(start.started_at),
            repr(start.meter_start_wh),
        )
    )


def _start_transaction_op(
    start: TransactionStart, samples: Sequence[MeterSample]
) -> Callable[[sqlite3.Connection], tuple[Transaction, bool]]:
    key = _start_key(start)

    def op(conn: sqlite3.Connection) -> tuple[Transaction, bool]:
        if key is not None:
            row = conn.execute(
                f"SELECT {_TX_COLUMNS} FROM transactions WHERE start_key = ?", (key,)
            ).fetchone()
        else:
            row = conn.execute(
                f"SELECT {_TX_COLUMNS} FROM transactions"
                " WHERE charge_point_id = ? AND transaction_id = ?",
                (start.charge_point_id, start.transaction_id),
            ).fetchone()
        if row is not None:
            return _transaction(row), False
        cursor = conn.execute(
            "INSERT INTO transactions (charge_point_id, transaction_id, evse_id, connector_id,"
            " id_tag, status, started_at, meter_start_wh, reservation_id, start_key)"
            " VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)",
            (
                start.charge_point_id,
                start.transaction_id or "",
                start.evse_id,
                start.connector_id,
                start.id_tag,
                format_timestamp(start.started_at),
                start.meter_start_wh,
                start.reservation_id,
                key,
            ),
        )
        pk = cursor.lastrowid
        assert pk is not None
        if start.transaction_id is None:
            # 1.6: the row's own key is the transactionId the charger gets: unique and positive.
            conn.execute("UPDATE transactions SET transaction_id = ? WHERE pk = ?", (str(pk), pk))
        _insert_samples(conn, start.charge_point_id, start.evse_id, start.connector_id, pk, samples)
        if start.reservation_id is not None:
            _use_reservation(conn, start.charge_point_id, start.reservation_id, start.started_at)
        row = conn.execute(f"SELECT {_TX_COLUMNS} FROM transactions WHERE pk = ?", (pk,)).fetchone()
        return _transaction(row), True

    return op


def _stop_transaction_op(
    stop: TransactionStop, samples: Sequence[MeterSample]
) -> Callable[[sqlite3.Connection], Transaction | None]:
    def op(conn: sqlite3.Connection) -> Transaction | None:
        row = conn.execute(
            f"SELECT {_TX_COLUMNS} FROM transactions"
            " WHERE charge_point_id = ? AND transaction_id = ?",
            (stop.charge_point_id, stop.transaction_id),
        ).fetchone()
        if row is None:
            # Unknown id (1.6 chargers send -1 when they never got one): still keep its meter
            # data, unattached, rather than lose billing evidence.
            _insert_samples(conn, stop.charge_point_id, 0, 0, None, samples)
            return None
        tx = _transaction(row)
        if tx.status == "active":
            conn.execute(
                "UPDATE transactions SET status = 'completed', stopped_at = ?, meter_stop_wh = ?,"
                " stop_reason = ?, stop_id_tag = ? WHERE pk = ?",
                (
                    format_timestamp(stop.stopped_at),
                    stop.meter_stop_wh,
                    stop.reason,
                    stop.id_tag,
                    tx.pk,
                ),
            )
            _drop_transaction_profiles(conn, stop.charge_point_id, tx.transaction_id)
        # Samples of a replayed stop are deduplicated by the meter_values unique key.
        _insert_samples(conn, stop.charge_point_id, tx.evse_id, tx.connector_id, tx.pk, samples)
        row = conn.execute(
            f"SELECT {_TX_COLUMNS} FROM transactions WHERE pk = ?", (tx.pk,)
        ).fetchone()
        return _transaction(row)

    return op


def _add_meter_values_op(
    cp_id: str,
    evse_id: int,
    connector_id: int,
    transaction_id: str | None,
    samples: Sequence[MeterSample],
) -> Callable[[sqlite3.Connection], int]:
    def op(conn: sqlite3.Connection) -> int:
        pk: int | None = None
        if transaction_id is not None:
            row = conn.execute(
                "SELECT pk FROM transactions WHERE charge_point_id = ? AND transaction_id = ?",
                (cp_id, transaction_id),
            ).fetchone()
            pk = None if row is None else row[0]
        if pk is None and evse_id > 0:
            # An unknown id (1.6 allows -1 before the charger got one) or none at all: the samples
            # belong to whatever runs there (2.0.1 MeterValues name only the EVSE: connector 0).
            row = conn.execute(
                "SELECT pk FROM transactions WHERE charge_point_id = ? AND evse_id = ?"
                " AND (connector_id = ? OR ? = 0) AND status = 'active'"
                " ORDER BY pk DESC LIMIT 1",
                (cp_id, evse_id, connector_id, connector_id),
            ).fetchone()
            pk = None if row is None else row[0]
        return _insert_samples(conn, cp_id, evse_id, connector_id, pk, samples)

    return op


_MAX_REPORTED_GAPS = 100


def _transaction_event_op(
    event: TransactionEvent, samples: Sequence[MeterSample]
) -> Callable[[sqlite3.Connection], TransactionEventOutcome]:
    def op(conn: sqlite3.Connection) -> TransactionEventOutcome:
        stamp = format_timestamp(event.timestamp)
        row = conn.execute(
            f"SELECT {_TX_COLUMNS} FROM transactions"
            " WHERE charge_point_id = ? AND transaction_id = ?",
            (event.charge_point_id, event.transaction_id),
        ).fetchone()
        created = row is None
        if created:
            # The first event seen creates the transaction, whatever its type: a station short of
            # memory may drop Started (E04.FR.07), and replays may arrive out of order.
            cursor = conn.execute(
                "INSERT INTO transactions (charge_point_id, transaction_id, evse_id, connector_id,"
                " id_tag, status, started_at, reservation_id)"
                " VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
                (
                    event.charge_point_id,
                    event.transaction_id,
                    event.evse_id or 0,
                    event.connector_id or 0,
                    event.id_tag,
                    stamp,
                    event.reservation_id,
                ),
            )
            pk = cursor.lastrowid
            assert pk is not None
        else:
            pk = row["pk"]
            if conn.execute(
                "SELECT 1 FROM transaction_events WHERE transaction_pk = ? AND seq_no = ?",
                (pk, event.seq_no),
            ).fetchone():
                return TransactionEventOutcome(_transaction(row), created=False, duplicate=True)
        conn.execute(
            "INSERT INTO transaction_events (transaction_pk, seq_no, event_type, trigger_reason,"
            " timestamp, offline, energy_register_wh) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                pk,
                event.seq_no,
                event.event_type,
                event.trigger_reason,
                stamp,
                int(event.offline),
                event.energy_register_wh,
            ),
        )
        # What a later event adds: the EVSE is only in the first event after it is known, the
        # idToken comes once, Started fixes the start time, Ended ends it (an Updated that
        # arrives after Ended does not reopen it).
        conn.execute(
            "UPDATE transactions SET"
            " evse_id = CASE WHEN evse_id = 0 AND ? IS NOT NULL THEN ? ELSE evse_id END,"
            " connector_id = CASE WHEN connector_id = 0 AND ? IS NOT NULL THEN ? ELSE connector_id"
            " END,"
            " id_tag = COALESCE(id_tag, ?),"
            " charging_state = COALESCE(?, charging_state),"
            " remote_start_id = COALESCE(remote_start_id, ?),"
            " reservation_id = COALESCE(reservation_id, ?),"
            " started_at = CASE WHEN ? = 'Started' THEN ? ELSE MIN(started_at, ?) END,"
            " status = CASE WHEN ? = 'Ended' THEN 'completed' ELSE status END,"
            " stopped_at = CASE WHEN ? = 'Ended' AND status = 'active' THEN ? ELSE stopped_at END,"
            " stop_reason = CASE WHEN ? = 'Ended' AND status = 'active' THEN ? ELSE stop_reason"
            " END"
            " WHERE pk = ?",
            (
                event.evse_id,
                event.evse_id,
                event.connector_id,
                event.connector_id,
                event.id_tag,
                event.charging_state,
                event.remote_start_id,
                event.reservation_id,
                event.event_type,
                stamp,
                stamp,
                event.event_type,
                event.event_type,
                stamp,
                event.event_type,
                event.stopped_reason or "Local",
                pk,
            ),
        )
        _refresh_energy(conn, pk)
        if event.event_type == "Ended":
            _drop_transaction_profiles(conn, event.charge_point_id, event.transaction_id)
        if event.reservation_id is not None:
            _use_reservation(conn, event.charge_point_id, event.reservation_id, event.timestamp)
        tx = _transaction(
            conn.execute(f"SELECT {_TX_COLUMNS} FROM transactions WHERE pk = ?", (pk,)).fetchone()
        )
        _insert_samples(conn, event.charge_point_id, tx.evse_id, tx.connector_id, pk, samples)
        return TransactionEventOutcome(
            tx, created=created, duplicate=False, missing_seq_nos=_missing_seq_nos(conn, pk)
        )

    return op


def _use_reservation(
    conn: sqlite3.Connection, cp_id: str, reservation_id: int, at: datetime
) -> None:
    """A transaction that names a reservation consumes it (1.6 §5.13, 2.0.1 E03.FR.04)."""
    conn.execute(
        "UPDATE reservations SET status = 'used', ended_at = ? WHERE charge_point_id = ?"
        " AND reservation_id = ? AND status = 'active'",
        (format_timestamp(at), cp_id, reservation_id),
    )


def _drop_transaction_profiles(conn: sqlite3.Connection, cp_id: str, transaction_id: str) -> None:
    """A TxProfile lives as long as its transaction (1.6 §3.13.1)."""
    conn.execute(
        "DELETE FROM charging_profiles WHERE charge_point_id = ? AND purpose = 'TxProfile'"
        " AND transaction_id = ?",
        (cp_id, transaction_id),
    )


def _refresh_energy(conn: sqlite3.Connection, pk: int) -> None:
    """meterStart: the register in Started, else the first reading; meterStop (once ended): the
    register in Ended, else the last reading. Ordered by event time, then seqNo, so replays that
    arrive out of order land where they belong."""
    conn.execute(
        "UPDATE transactions SET"
        " meter_start_wh = COALESCE("
        "  (SELECT energy_register_wh FROM transaction_events WHERE transaction_pk = :pk"
        "   AND event_type = 'Started' AND energy_register_wh IS NOT NULL),"
        "  (SELECT energy_register_wh FROM transaction_events WHERE transaction_pk = :pk"
        "   AND energy_register_wh IS NOT NULL ORDER BY timestamp, seq_no LIMIT 1)),"
        " meter_stop_wh = CASE WHEN status = 'completed' THEN COALESCE("
        "  (SELECT energy_register_wh FROM transaction_events WHERE transaction_pk = :pk"
        "   AND event_type = 'Ended' AND energy_register_wh IS NOT NULL),"
        "  (SELECT energy_register_wh FROM transaction_events WHERE transaction_pk = :pk"
        "   AND energy_register_wh IS NOT NULL ORDER BY timestamp DESC, seq_no DESC LIMIT 1))"
        "  ELSE NULL END"
        " WHERE pk = :pk",
        {"pk": pk},
    )


def _missing_seq_nos(conn: sqlite3.Connection, pk: int) -> tuple[int, ...]:
    seen = [
        r[0]
        for r in conn.execute(
            "SELECT seq_no FROM transaction_events WHERE transaction_pk = ? ORDER BY seq_no", (pk,)
        )
    ]
    missing: list[int] = []
    for low, high in itertools.pairwise(seen):
        missing.extend(range(low + 1, min(high, low + 1 + _MAX_REPORTED_GAPS)))
        if len(missing) >= _MAX_REPORTED_GAPS:
            break
    return tuple(missing[:_MAX_REPORTED_GAPS])


class SqliteStore:
    """Implements every protocol of csms.store.base over one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        max_batch: int = 512,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self._path = path
        self._synchronous = synchronous
        self._max_batch = max_batch
        self._on_batch = on_batch
        self._db: aiosqlite.Connection | None = None
        self._writer: GroupCommitWriter | None = None
        self._last_command_id = 0
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._path.parent != Path(""):
            self._path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self._path, isolation_level=None)
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute(f"PRAGMA synchronous = {self._synchronous}")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
        # Checkpoints run beside the writer (see _checkpoint_forever), never inside a commit
        # that a charger is waiting for: an automatic one stalled such commits for milliseconds.
        await db.execute("PRAGMA wal_autocheckpoint = 0")
        await run_on_db_thread(db, _migrate)
        self._last_command_id = await run_on_db_thread(
            db,
            lambda conn: int(
                conn.execute("SELECT COALESCE(MAX(id), 0) FROM commands").fetchone()[0]
            ),
        )
        self._db = db
        self._writer = GroupCommitWriter(db, max_batch=self._max_batch, on_batch=self._on_batch)
        self._writer.start()
        self._checkpointer = await aiosqlite.connect(self._path, isolation_level=None)
        await self._checkpointer.execute("PRAGMA busy_timeout = 5000")
        self._checkpoint_task = asyncio.create_task(
            self._checkpoint_forever(), name="wal-checkpoint"
        )

    async def _checkpoint_forever(self) -> None:
        """Copy committed WAL frames into the database file, on a connection (and thread) of its
        own. PASSIVE never waits for the writer, so commits carry on meanwhile."""
        assert self._checkpointer is not None
        while True:
            await asyncio.sleep(_CHECKPOINT_SECONDS)
            try:
                await self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed", error=repr(exc))

    async def close(self) -> None:
        if self._checkpoint_task is not None:
            self._checkpoint_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoint_task
            self._checkpoint_task = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._checkpointer is not None:
            # What is committed goes into the database file before the process stops.
            with contextlib.suppress(sqlite3.Error):
                await self._checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._checkpointer.close()
            self._checkpointer = None
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def _write(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise RuntimeError("store is not open")
        return await self._writer.submit(op)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            raise RuntimeError("store is not open")
        return await run_on_db_thread(self._db, fn)

    # --- charge points -------------------------------------------------------------------------

    async def get_charge_point(self, cp_id: str) -> ChargePoint | None:
        def read(conn: sqlite3.Connection) -> ChargePoint | None:
            row = conn.execute(
                f"SELECT {_CP_COLUMNS} FROM charge_points WHERE id = ?", (cp_id,)
            ).fetchone()
            return None if row is None else _charge_point(conn, row)

        return await self._read(read)

    async def list_charge_points(
        self, page: Page, *, search: str | None = None, connected: bool | None = None
    ) -> list[ChargePoint]:
        clauses: list[str] = []
        params: list[Any] = []
        if page.starting_after is not None:
            clauses.append("id > ?")
            params.append(page.starting_after)
        if connected is not None:
            clauses.append("connected = ?")
            params.append(int(connected))
        if search:
            pattern = (
                "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            clauses.append(
                "(id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR vendor LIKE ? ESCAPE '\\'"
                " OR model LIKE ? ESCAPE '\\' OR serial_number LIKE ? ESCAPE '\\')"
            )
            params.extend([pattern] * 5)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_CP_COLUMNS} FROM charge_points {where} ORDER BY id LIMIT ?"
        params.append(page.limit)

        def read(conn: sqlite3.Connection) -> list[ChargePoint]:
            return [_charge_point(conn, row) for row in conn.execute(sql, params).fetchall()]

        return await self._read(read)

    async def add_charge_point(
        self,
        cp_id: str,
        *,
        name: str | None,
        password_hash: str | None,
        security_profile: int,
        site_id: str | None,
        created_at: datetime,
    ) -> ChargePoint:
        def op(conn: sqlite3.Connection) -> ChargePoint:
            try:
                conn.execute(
                    "INSERT INTO charge_points (id, name, password_hash, security_profile, site_id,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        cp_id,
                        name,
                        password_hash,
                        security_profile,
                        site_id,
                        format_timestamp(created_at),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"charge point {cp_id!r} already exists") from exc
            row = conn.execute(
                f"SELECT {_CP_COLUMNS} FROM charge_points WHERE id = ?", (cp_id,)
            ).fetchone()
            return _charge_point(conn, row)

        return await self._write(op)

    async def update_charge_point(self, cp_id: str, changes: ChargePointChanges) -> ChargePoint:
        assignments = {
            f.name: getattr(changes, f.name)
            for f in fields(changes)
            if getattr(changes, f.name) is not UNSET
        }

        def op(conn: sqlite3.Connection) -> ChargePoint:
            if assignments:
                sets = ", ".join(f"{column} = ?" for column in assignments)
                conn.execute(
                    f"UPDATE charge_points SET {sets} WHERE id = ?", (*assignments.values(), cp_id)
                )
            row = conn.execute(
                f"SELECT {_CP_COLUMNS} FROM charge_points WHERE id = ?", (cp_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"charge point {cp_id!r} not found")
            return _charge_point(conn, row)

        return await self._write(op)

    async def delete_charge_point(self, cp_id: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM charge_points WHERE id = ?", (cp_id,)).rowcount == 0:
                raise NotFound(f"charge point {cp_id!r} not found")

        await self._write(op)

    async def get_credentials(self, cp_id: str) -> Credentials | None:
        def read(conn: sqlite3.Connection) -> Credentials | None:
            row = conn.execute(
                "SELECT password_hash, security_profile FROM charge_points WHERE id = ?", (cp_id,)
            ).fetchone()
            return None if row is None else Credentials(row[0], row[1])

        return await self._read(read)

    async def record_boot(
        self, cp_id: str, *, ocpp_version: str, boot_info: BootInfo, accepted: bool, at: datetime
    ) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE charge_points SET ocpp_version = ?, boot_accepted = ?, vendor = ?,"
                " model = ?, serial_number = ?, firmware_version = ?, iccid = ?, imsi = ?,"
                " meter_type = ?, meter_serial_number = ?, last_boot_at = ?, last_seen_at = ?"
                " WHERE id = ?",
                (
                    ocpp_version,
                    int(accepted),
                    boot_info.vendor,
                    boot_info.model,
                    boot_info.serial_number,
                    boot_info.firmware_version,
                    boot_info.iccid,
                    boot_info.imsi,
                    boot_info.meter_type,
                    boot_info.meter_serial_number,
                    format_timestamp(at),
                    format_timestamp(at),
                    cp_id,
                ),
            )

        await self._write(op)

    async def record_connector_status(self, cp_id: str, state: ConnectorState) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO connectors (charge_point_id, evse_id, connector_id, status,"
                " error_code, info, vendor_error_code, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (charge_point_id, evse_id, connector_id) DO UPDATE SET"
                " status = excluded.status, error_code = excluded.error_code, info = excluded.info,"
                " vendor_error_code = excluded.vendor_error_code, updated_at = excluded.updated_at"
                # A status queued offline can arrive after a newer one: keep the newest.
                " WHERE excluded.updated_at >= connectors.updated_at",
                (
                    cp_id,
                    state.evse_id,
                    state.connector_id,
                    state.status,
                    state.error_code,
                    state.info,
                    state.vendor_error_code,
                    format_timestamp(state.updated_at),
                ),
            )

        await self._write(op)

    async def record_connection(
        self, cp_id: str, *, ocpp_version: str, connected: bool, at: datetime
    ) -> None:
        stamp = format_timestamp(at)

        def op(conn: sqlite3.Connection) -> None:
            if connected:
                conn.execute(
                    "UPDATE charge_points SET connected = 1, connected_since = ?, last_seen_at = ?,"
                    " ocpp_version = ? WHERE id = ?",
                    (stamp, stamp, ocpp_version, cp_id),
                )
            else:
                conn.execute(
                    "UPDATE charge_points SET connected = 0, connected_since = NULL,"
                    " last_seen_at = ? WHERE id = ?",
                    (stamp, cp_id),
                )

        await self._write(op)

    async def record_last_seen(self, seen: Sequence[tuple[str, datetime]]) -> None:
        rows = [(format_timestamp(at), cp_id) for cp_id, at in seen]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany("UPDATE charge_points SET last_seen_at = ? WHERE id = ?", rows)

        await self._write(op)

    async def record_firmware_status(self, cp_id: str, status: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE charge_points SET firmware_status = ? WHERE id = ?", (status, cp_id)
            )

        await self._write(op)

    async def record_diagnostics_status(self, cp_id: str, status: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE charge_points SET diagnostics_status = ? WHERE id = ?", (status, cp_id)
            )

        await self._write(op)

    async def mark_all_disconnected(self) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE charge_points SET connected = 0, connected_since = NULL WHERE connected = 1"
            )

        await self._write(op)

    # --- id-tags -------------------------------------------------------------------------------

    async def get_id_tag(self, uid: str) -> IdTag | None:
        def read(conn: sqlite3.Connection) -> IdTag | None:
            row = conn.execute("SELECT * FROM id_tags WHERE uid = ?", (uid,)).fetchone()
            return None if row is None else _id_tag(row)

        return await self._read(read)

    async def list_id_tags(self, page: Page) -> list[IdTag]:
        def read(conn: sqlite3.Connection) -> list[IdTag]:
            if page.starting_after is None:
                rows = conn.execute("SELECT * FROM id_tags ORDER BY uid LIMIT ?", (page.limit,))
            else:
                rows = conn.execute(
                    "SELECT * FROM id_tags WHERE uid > ? ORDER BY uid LIMIT ?",
                    (page.starting_after, page.limit),
                )
            return [_id_tag(row) for row in rows.fetchall()]

        return await self._read(read)

    async def add_id_tag(self, tag: IdTag, created_at: datetime) -> IdTag:
        def op(conn: sqlite3.Connection) -> IdTag:
            try:
                conn.execute(
                    "INSERT INTO id_tags (uid, type, status, expire_at, parent_id_tag, label,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        tag.uid,
                        tag.type,
                        tag.status.value,
                        _ts(tag.expire_at),
                        tag.parent_id_tag,
                        tag.label,
                        format_timestamp(created_at),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"id-tag {tag.uid!r} already exists") from exc
            return tag

        return await self._write(op)

    async def update_id_tag(self, uid: str, changes: IdTagChanges) -> IdTag:
        assignments: dict[str, Any] = {}
        for f in fields(changes):
            value = getattr(changes, f.name)
            if value is UNSET:
                continue
            assignments[f.name] = _ts(value) if f.name == "expire_at" else value

        def op(conn: sqlite3.Connection) -> IdTag:
            if assignments:
                sets = ", ".join(f"{column} = ?" for column in assignments)
                conn.execute(
                    f"UPDATE id_tags SET {sets} WHERE uid = ?", (*assignments.values(), uid)
                )
            row = conn.execute("SELECT * FROM id_tags WHERE uid = ?", (uid,)).fetchone()
            if row is None:
                raise NotFound(f"id-tag {uid!r} not found")
            return _id_tag(row)

        return await self._write(op)

    async def delete_id_tag(self, uid: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM id_tags WHERE uid = ?", (uid,)).rowcount == 0:
                raise NotFound(f"id-tag {uid!r} not found")

        await self._write(op)

    # --- API tokens ----------------------------------------------------------------------------

    async def add_api_token(
        self, token_hash: str, *, name: str, role: Role, created_at: datetime
    ) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (token_hash) DO UPDATE SET name = excluded.name,"
                " role = excluded.role",
                (token_hash, name, role.value, format_timestamp(created_at)),
            )

        await self._write(op)

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        def read(conn: sqlite3.Connection) -> ApiToken | None:
            row = conn.execute(
                "SELECT name, role FROM api_tokens WHERE token_hash = ?", (token_hash,)
            ).fetchone()
            return None if row is None else ApiToken(row[0], Role(row[1]))

        return await self._read(read)

    # --- transactions and meter values ---------------------------------------------------------

    async def start_transaction(
        self, start: TransactionStart, samples: Sequence[MeterSample] = ()
    ) -> tuple[Transaction, bool]:
        return await self._write(_start_transaction_op(start, samples))

    async def stop_transaction(
        self, stop: TransactionStop, samples: Sequence[MeterSample] = ()
    ) -> Transaction | None:
        return await self._write(_stop_transaction_op(stop, samples))

    async def record_transaction_event(
        self, event: TransactionEvent, samples: Sequence[MeterSample] = ()
    ) -> TransactionEventOutcome:
        return await self._write(_transaction_event_op(event, samples))

    async def add_meter_values(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
    ) -> int:
        return await self._write(
            _add_meter_values_op(cp_id, evse_id, connector_id, transaction_id, samples)
        )

    async def get_transaction(self, transaction_id: str) -> Transaction | None:
        def read(conn: sqlite3.Connection) -> Transaction | None:
            row = conn.execute(
                f"SELECT {_TX_COLUMNS} FROM transactions WHERE transaction_id = ?"
                " ORDER BY pk DESC LIMIT 1",
                (transaction_id,),
            ).fetchone()
            return None if row is None else _transaction(row)

        return await self._read(read)

    async def list_transactions(
        self,
        page: Page,
        *,
        cp_id: str | None = None,
        active: bool | None = None,
        id_tag: str | None = None,
    ) -> list[Transaction]:
        clauses: list[str] = []
        params: list[Any] = []
        if page.starting_after is not None:
            clauses.append(
                "pk < (SELECT pk FROM transactions WHERE transaction_id = ? ORDER BY pk DESC"
                " LIMIT 1)"
            )
            params.append(page.starting_after)
        if cp_id is not None:
            clauses.append("charge_point_id = ?")
            params.append(cp_id)
        if active is not None:
            clauses.append("status = ?")
            params.append("active" if active else "completed")
        if id_tag is not None:
            clauses.append("id_tag = ? COLLATE NOCASE")
            params.append(id_tag)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params.append(page.limit)
        sql = f"SELECT {_TX_COLUMNS} FROM transactions {where} ORDER BY pk DESC LIMIT ?"

        def read(conn: sqlite3.Connection) -> list[Transaction]:
            return [_transaction(row) for row in conn.execute(sql, params).fetchall()]

        return await self._read(read)

    async def list_meter_values(
        self, transaction_id: str, *, limit: int, starting_after: int | None
    ) -> list[tuple[int, MeterSample]]:
        def read(conn: sqlite3.Connection) -> list[tuple[int, MeterSample]]:
            row = conn.execute(
                "SELECT pk FROM transactions WHERE transaction_id = ? ORDER BY pk DESC LIMIT 1",
                (transaction_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"transaction {transaction_id!r} not found")
            # Time order (ties by arrival). Samples can arrive out of time order, so the cursor is
            # the position (timestamp, id) of the last sample returned, not its id alone.
            after = ("", 0)
            if starting_after is not None:
                cursor = conn.execute(
                    "SELECT timestamp, id FROM meter_values WHERE id = ?", (starting_after,)
                ).fetchone()
                after = ("", starting_after) if cursor is None else (cursor[0], cursor[1])
            rows = conn.execute(
                "SELECT * FROM meter_values WHERE transaction_pk = ? AND (timestamp, id) > (?, ?)"
                " ORDER BY timestamp, id LIMIT ?",
                (row[0], after[0], after[1], limit),
            ).fetchall()
            return [
                (
                    r["id"],
                    MeterSample(
                        timestamp=parse_timestamp(r["timestamp"]),
                        value=r["value"],
                        measurand=r["measurand"],
                        unit=r["unit"],
                        context=r["context"],
                        location=r["location"],
                        phase=r["phase"] or None,
                        format=r["format"],
                    ),
                )
                for r in rows
            ]

        return await self._read(read)

    # --- device model and charger reports --------------------------------------------------------

    async def upsert_device_variables(
        self, cp_id: str, variables: Sequence[DeviceVariable], at: datetime
    ) -> None:
        stamp = format_timestamp(at)
        rows = [
            (
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
                None if v.persistent is None else int(v.persistent),
                None if v.constant is None else int(v.constant),
                v.data_type,
                v.unit,
                v.min_limit,
                v.max_limit,
                v.values_list,
                stamp,
            )
            for v in variables
        ]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR REPLACE INTO device_variables (charge_point_id, component,"
                " component_instance, evse_id, connector_id, variable, variable_instance,"
                " attribute_type, value, mutability, persistent, constant, data_type, unit,"
                " min_limit, max_limit, values_list, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

        await self._write(op)

    async def list_device_variables(self, cp_id: str) -> list[DeviceVariable]:
        def read(conn: sqlite3.Connection) -> list[DeviceVariable]:
            return [
                DeviceVariable(
                    component=r["component"],
                    variable=r["variable"],
                    attribute_type=r["attribute_type"],
                    value=r["value"],
                    component_instance=r["component_instance"] or None,
                    evse_id=None if r["evse_id"] < 0 else r["evse_id"],
                    connector_id=None if r["connector_id"] < 0 else r["connector_id"],
                    variable_instance=r["variable_instance"] or None,
                    mutability=r["mutability"],
                    persistent=None if r["persistent"] is None else bool(r["persistent"]),
                    constant=None if r["constant"] is None else bool(r["constant"]),
                    data_type=r["data_type"],
                    unit=r["unit"],
                    min_limit=r["min_limit"],
                    max_limit=r["max_limit"],
                    values_list=r["values_list"],
                )
                for r in conn.execute(
                    "SELECT * FROM device_variables WHERE charge_point_id = ? ORDER BY component,"
                    " component_instance, evse_id, connector_id, variable, variable_instance,"
                    " attribute_type",
                    (cp_id,),
                )
            ]

        return await self._read(read)

    async def add_charger_report(
        self, cp_id: str, kind: str, timestamp: datetime, data: dict[str, Any]
    ) -> None:
        row = (cp_id, kind, format_timestamp(timestamp), orjson.dumps(data).decode())

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO charger_reports (charge_point_id, kind, timestamp, data)"
                " VALUES (?, ?, ?, ?)",
                row,
            )

        await self._write(op)

    async def list_charger_reports(
        self, cp_id: str, *, kind: str | None = None, limit: int = 100
    ) -> list[ChargerReport]:
        def read(conn: sqlite3.Connection) -> list[ChargerReport]:
            rows = conn.execute(
                "SELECT * FROM charger_reports WHERE charge_point_id = ?"
                " AND (? IS NULL OR kind = ?) ORDER BY id LIMIT ?",
                (cp_id, kind, kind, limit),
            ).fetchall()
            return [
                ChargerReport(
                    r["id"],
                    r["charge_point_id"],
                    r["kind"],
                    parse_timestamp(r["timestamp"]),
                    orjson.loads(r["data"]),
                )
                for r in rows
            ]

        return await self._read(read)

    # --- commands (audit trail) -----------------------------------------------------------------

    def next_command_id(self) -> int:
        # One process writes this database: a counter seeded from the table at open is enough.
        self._last_command_id += 1
        return self._last_command_id

    async def add_command(
        self,
        command_id: int,
        cp_id: str,
        action: str,
        *,
        requested_by: str,
        request: dict[str, Any],
        created_at: datetime,
        ocpp_action: str | None = None,
        ocpp_payload: dict[str, Any] | None = None,
    ) -> CommandRecord:
        row = (
            command_id,
            cp_id,
            action,
            requested_by,
            orjson.dumps(request).decode(),
            format_timestamp(created_at),
            ocpp_action,
            _json(ocpp_payload),
        )

        def op(conn: sqlite3.Connection) -> CommandRecord:
            conn.execute(
                "INSERT INTO commands (id, charge_point_id, action, requested_by, request,"
                " created_at, ocpp_action, ocpp_payload, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                row,
            )
            return _command(
                conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
            )

        return await self._write(op)

    async def complete_command(self, command_id: int, outcome: CommandOutcome) -> CommandRecord:
        row = (
            outcome.state,
            outcome.status,
            _json(outcome.response),
            _json(outcome.error),
            format_timestamp(outcome.completed_at),
            outcome.duration_ms,
            command_id,
        )

        def op(conn: sqlite3.Connection) -> CommandRecord:
            conn.execute(
                "UPDATE commands SET state = ?, status = ?, response = ?, error = ?,"
                " completed_at = ?, duration_ms = ? WHERE id = ?",
                row,
            )
            found = conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
            if found is None:
                raise NotFound(f"command {command_id} not found")
            return _command(found)

        return await self._write(op)

    async def get_command(self, command_id: int) -> CommandRecord | None:
        def read(conn: sqlite3.Connection) -> CommandRecord | None:
            row = conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
            return None if row is None else _command(row)

        return await self._read(read)

    async def list_commands(
        self, *, limit: int, starting_after: int | None, cp_id: str | None = None
    ) -> list[CommandRecord]:
        def read(conn: sqlite3.Connection) -> list[CommandRecord]:
            rows = conn.execute(
                "SELECT * FROM commands WHERE (? IS NULL OR id < ?)"
                " AND (? IS NULL OR charge_point_id = ?) ORDER BY id DESC LIMIT ?",
                (starting_after, starting_after, cp_id, cp_id, limit),
            ).fetchall()
            return [_command(row) for row in rows]

        return await self._read(read)

    # --- state that follows commands ------------------------------------------------------------

    async def put_charging_profile(self, profile: StoredChargingProfile) -> None:
        row = (
            profile.charge_point_id,
            profile.profile_id,
            profile.evse_id,
            profile.purpose,
            profile.stack_level,
            profile.transaction_id,
            orjson.dumps(profile.profile).decode(),
            format_timestamp(profile.set_at),
        )

        def op(conn: sqlite3.Connection) -> None:
            # The same id replaces (1.6 §5.16.3); so does the same purpose+stack level on the same
            # EVSE (1.6 §3.13.2), which the charger has just overwritten.
            conn.execute(
                "DELETE FROM charging_profiles WHERE charge_point_id = ? AND evse_id = ?"
                " AND purpose = ? AND stack_level = ? AND profile_id != ?",
                (
                    profile.charge_point_id,
                    profile.evse_id,
                    profile.purpose,
                    profile.stack_level,
                    profile.profile_id,
                ),
            )
            conn.execute(
                "INSERT OR REPLACE INTO charging_profiles (charge_point_id, profile_id, evse_id,"
                " purpose, stack_level, transaction_id, profile, set_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

        await self._write(op)

    async def clear_charging_profiles(
        self,
        cp_id: str,
        *,
        profile_id: int | None,
        evse_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> int:
        def op(conn: sqlite3.Connection) -> int:
            if profile_id is not None:  # the id wins over the other criteria
                return conn.execute(
                    "DELETE FROM charging_profiles WHERE charge_point_id = ? AND profile_id = ?",
                    (cp_id, profile_id),
                ).rowcount
            return conn.execute(
                "DELETE FROM charging_profiles WHERE charge_point_id = ?"
                " AND (? IS NULL OR evse_id = ?) AND (? IS NULL OR purpose = ?)"
                " AND (? IS NULL OR stack_level = ?)",
                (cp_id, evse_id, evse_id, purpose, purpose, stack_level, stack_level),
            ).rowcount

        return await self._write(op)

    async def list_charging_profiles(self, cp_id: str) -> list[StoredChargingProfile]:
        def read(conn: sqlite3.Connection) -> list[StoredChargingProfile]:
            return [
                StoredChargingProfile(
                    charge_point_id=r["charge_point_id"],
                    profile_id=r["profile_id"],
                    evse_id=r["evse_id"],
                    purpose=r["purpose"],
                    stack_level=r["stack_level"],
                    transaction_id=r["transaction_id"],
                    profile=orjson.loads(r["profile"]),
                    set_at=parse_timestamp(r["set_at"]),
                )
                for r in conn.execute(
                    "SELECT * FROM charging_profiles WHERE charge_point_id = ?"
                    " ORDER BY evse_id, purpose, stack_level, profile_id",
                    (cp_id,),
                )
            ]

        return await self._read(read)

    async def put_reservation(self, reservation: Reservation) -> None:
        row = (
            reservation.charge_point_id,
            reservation.reservation_id,
            reservation.evse_id,
            reservation.connector_id,
            reservation.id_tag,
            format_timestamp(reservation.expires_at),
            reservation.status,
            format_timestamp(reservation.created_at),
        )

        def op(conn: sqlite3.Connection) -> None:
            # The same reservationId replaces the earlier reservation (1.6 §5.13).
            conn.execute(
                "INSERT OR REPLACE INTO reservations (charge_point_id, reservation_id, evse_id,"
                " connector_id, id_tag, expires_at, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

        await self._write(op)

    async def end_reservation(
        self, cp_id: str, reservation_id: int, status: str, at: datetime
    ) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "UPDATE reservations SET status = ?, ended_at = ? WHERE charge_point_id = ?"
                    " AND reservation_id = ? AND status = 'active'",
                    (status, format_timestamp(at), cp_id, reservation_id),
                ).rowcount
                > 0
            )

        return await self._write(op)

    async def expire_reservations(self, now: datetime) -> int:
        stamp = format_timestamp(now)

        def op(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE reservations SET status = 'expired', ended_at = expires_at"
                " WHERE status = 'active' AND expires_at <= ?",
                (stamp,),
            ).rowcount

        return await self._write(op)

    async def list_reservations(self, cp_id: str) -> list[Reservation]:
        def read(conn: sqlite3.Connection) -> list[Reservation]:
            return [
                _reservation(r)
                for r in conn.execute(
                    "SELECT * FROM reservations WHERE charge_point_id = ? ORDER BY created_at DESC,"
                    " reservation_id",
                    (cp_id,),
                )
            ]

        return await self._read(read)

    async def set_local_list_version(self, cp_id: str, version: int) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE charge_points SET local_list_version = ? WHERE id = ?", (version, cp_id)
            )

        await self._write(op)

    async def get_local_list_version(self, cp_id: str) -> int | None:
        def read(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "SELECT local_list_version FROM charge_points WHERE id = ?", (cp_id,)
            ).fetchone()
            return None if row is None else row[0]

        return await self._read(read)

    async def put_configuration_keys(
        self, cp_id: str, keys: Sequence[tuple[str, str | None, bool | None]], at: datetime
    ) -> None:
        stamp = format_timestamp(at)
        rows = [
            (cp_id, key, value, None if readonly is None else int(readonly), stamp)
            for key, value, readonly in keys
        ]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO configuration_keys (charge_point_id, key, value, readonly,"
                " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (charge_point_id, key) DO UPDATE"
                " SET value = excluded.value,"
                " readonly = COALESCE(excluded.readonly, configuration_keys.readonly),"
                " updated_at = excluded.updated_at",
                rows,
            )

        await self._write(op)

    async def list_configuration_keys(self, cp_id: str) -> list[ConfigurationKey]:
        def read(conn: sqlite3.Connection) -> list[ConfigurationKey]:
            return [
                ConfigurationKey(
                    r["key"],
                    r["value"],
                    None if r["readonly"] is None else bool(r["readonly"]),
                    parse_timestamp(r["updated_at"]),
                )
                for r in conn.execute(
                    "SELECT * FROM configuration_keys WHERE charge_point_id = ? ORDER BY key",
                    (cp_id,),
                )
            ]

        return await self._read(read)

    # --- message log ---------------------------------------------------------------------------

    async def append_messages(self, records: Sequence[MessageRecord]) -> None:
        if self._writer is None:
            raise RuntimeError("store is not open")
        # In chunks, behind the writes chargers wait for: the log is an audit trail, not state.
        for start in range(0, len(records), _MESSAGE_CHUNK):
            await self._writer.submit_background(
                _append_messages_op(records[start : start + _MESSAGE_CHUNK])
            )

    async def list_messages(
        self,
        *,
        limit: int,
        starting_after: int | None,
        cp_id: str | None = None,
        action: str | None = None,
        direction: str | None = None,
        since: datetime | None = None,
    ) -> list[OcppMessage]:
        clauses = ["id > ?"]
        params: list[Any] = [starting_after or 0]
        if cp_id is not None:
            clauses.append("charge_point_id = ? COLLATE NOCASE")
            params.append(cp_id)
        if action is not None:
            clauses.append("action = ?")
            params.append(action)
        if direction is not None:
            clauses.append("direction = ?")
            params.append(direction)
        if since is not None:
            clauses.append("timestamp >= ?")
            params.append(format_timestamp(since))
        params.append(limit)
        sql = f"SELECT * FROM ocpp_messages WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?"

        def read(conn: sqlite3.Connection) -> list[OcppMessage]:
            return [
                OcppMessage(
                    id=row["id"],
                    charge_point_id=row["charge_point_id"],
                    direction=row["direction"],
                    message_type=_MESSAGE_TYPES.get(row["message_type"], str(row["message_type"])),
                    unique_id=row["unique_id"],
                    action=row["action"],
                    payload=_message_payload(row["message_type"], row["payload"]),
                    timestamp=parse_timestamp(row["timestamp"]),
                )
                for row in conn.execute(sql, params).fetchall()
            ]

        return await self._read(read)

    async def purge_messages(self, before: datetime) -> int:
        def op(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM ocpp_messages WHERE timestamp < ?", (format_timestamp(before),)
            ).rowcount

        return await self._write(op)
