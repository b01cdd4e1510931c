"""The PostgreSQL database every repository of this backend shares: a pool for reads and bulk
writes, two connections for the group-commit writer, migrations, and what happens when the server
goes away.

Writes keep the guarantees of the SQLite backend (ADR 003): a charger's state change is
committed before it is acknowledged, and the writes of concurrent messages share one transaction
and one commit (group commit), so throughput does not fall to one round trip and one fsync per
frame. A write is a coroutine function over a writer connection, or a ``CombinedWrite`` that runs
with the others of its kind in the batch.

When the server cannot be reached every read and write raises ``DatabaseUnavailable`` at once
(chargers get an InternalError CALLERROR, the API a 503), each writer connection is retried at
most once a second, and everything carries on by itself when the server is back.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, TypeVar

import asyncpg
import orjson

from csms.config import mask_password
from csms.domain.errors import DatabaseUnavailable
from csms.log import get_logger
from csms.store.asset_rows import Conversions
from csms.store.group_commit import GroupCommitWriter, Outcome
from csms.store.outbox import DeclaredEvents
from csms.store.postgres.outbox import WithEvents
from csms.store.rows import unchanged

__all__ = ["CONVERSIONS", "CombinedWrite", "PostgresDatabase", "WriteOp", "rows_affected"]

T = TypeVar("T")
WriteOp = Callable[[asyncpg.Connection], Awaitable[Any]]

log = get_logger(__name__)

# Serialises migrations when several nodes start at once (any constant of our own).
_MIGRATION_LOCK = 0x6373_6D73
_RECONNECT_SECONDS = 1.0
# Writer connections: while one batch waits for its commit (a round trip and an fsync), the next
# batch runs on the other. Writes of different chargers do not depend on each other, and those
# of one charger are never in two batches at once (one CALL in flight per charger).
_WRITERS = 2
_CONNECT_TIMEOUT = 5.0

# What says "the server is not there" rather than "this statement is wrong".
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.QueryCanceledError,  # statement_timeout
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError,  # database not accepting connections
)


def _as_is(value: Any) -> Any:
    return value


CONVERSIONS = Conversions(time=unchanged, stamp=unchanged, json=_as_is, to_json=_as_is)
"""This backend's conversions for csms.store.asset_rows: timestamptz columns hold datetimes, and
jsonb columns are encoded and decoded by the codec every connection has (_init_connection)."""


def rows_affected(status: str) -> int:
    """How many rows a command changed, from its status ("DELETE 3", "INSERT 0 3")."""
    return int(status.rsplit(" ", 1)[1])


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("csms.store.postgres") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


async def _migrate(conn: asyncpg.Connection) -> int:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, script in _migrations():
            if version in applied:
                continue
            await conn.execute(script)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            applied.add(version)
    return max(applied, default=0)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # citext travels as text (COPY needs a binary codec for it); before the first migration
    # it does not exist yet, and the pool's connections are renewed after migrating.
    with contextlib.suppress(ValueError):
        await conn.set_builtin_type_codec("citext", codec_name="text")
    for json_type in ("json", "jsonb"):
        await conn.set_type_codec(
            json_type,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


class CombinedWrite(abc.ABC):
    """A write that runs together with the others of its kind in a batch: a few statements for
    all of them instead of a few for each. The per-frame path's commonest write (MeterValues)
    is one; on one connection a round trip per statement, not the work, is what limits a batch.

    The writes of one batch come from different chargers (a charger has one CALL in flight), so
    running a kind's writes together, after the batch's other writes, changes nothing they see.
    """

    async def __call__(self, conn: asyncpg.Connection) -> Any:
        """Alone (when a failed batch is run again, each write in its own savepoint)."""
        [result] = await self.run_together(conn, [self])
        return result

    @classmethod
    @abc.abstractmethod
    async def run_together(cls, conn: asyncpg.Connection, writes: list[Any]) -> list[Any]:
        """Apply every write (all of this class); one result per write, in order."""


class _WriteFailed(Exception):
    pass


async def _run_batch(conn: asyncpg.Connection, ops: list[WriteOp]) -> list[Outcome]:
    try:
        return await _run_optimistically(conn, ops)
    except _WriteFailed:
        # Some write raised: run the batch again, each write in its own savepoint, so the
        # failing one is undone alone and its neighbours still commit.
        return await _run_isolated(conn, ops)


def _inner(op: WriteOp) -> Any:
    return op.op if isinstance(op, WithEvents) else op


async def _run_optimistically(conn: asyncpg.Connection, ops: list[WriteOp]) -> list[Outcome]:
    results: list[Any] = [None] * len(ops)
    combined: dict[type[CombinedWrite], list[int]] = {}
    transaction = conn.transaction()
    await transaction.start()
    try:
        for i, op in enumerate(ops):
            inner = _inner(op)
            if isinstance(inner, CombinedWrite):
                combined.setdefault(type(inner), []).append(i)
            else:
                results[i] = await op(conn)
        for kind, positions in combined.items():
            together = await kind.run_together(conn, [_inner(ops[i]) for i in positions])
            for i, result in zip(positions, together, strict=True):
                results[i] = result
                op = ops[i]
                if isinstance(op, WithEvents):
                    await op.write_events(conn, result)
    except _UNAVAILABLE:
        raise
    except Exception as exc:
        await transaction.rollback()
        raise _WriteFailed from exc
    await transaction.commit()
    return [(True, result) for result in results]


async def _run_isolated(conn: asyncpg.Connection, ops: list[WriteOp]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    transaction = conn.transaction()
    await transaction.start()
    for op in ops:
        savepoint = conn.transaction()
        await savepoint.start()
        try:
            result = await op(conn)
        except _UNAVAILABLE:
            raise
        except Exception as exc:  # the caller gets its own exception back
            await savepoint.rollback()
            outcomes.append((False, exc))
        else:
            await savepoint.commit()
            outcomes.append((True, result))
    await transaction.commit()
    return outcomes


class PostgresDatabase:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 8,
        statement_timeout: float = 30.0,
        max_batch: int = 512,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.url = url
        self._masked = mask_password(url)
        self._pool_size = pool_size
        self._statement_timeout = statement_timeout
        self._max_batch = max_batch
        self._on_batch = on_batch
        self._pool: asyncpg.Pool | None = None
        self._writer: GroupCommitWriter[WriteOp] | None = None
        self._writer_conns: list[asyncpg.Connection | None] = [None] * _WRITERS
        self._next_connect = [0.0] * _WRITERS
        self._free_writers: asyncio.Queue[int] = asyncio.Queue()

    def _connect_options(self) -> dict[str, Any]:
        return {
            "server_settings": {
                "application_name": "csms",
                "statement_timeout": str(int(self._statement_timeout * 1000)),
                # Our statements are small and prepared once: planning them for JIT only costs.
                "jit": "off",
            },
            # Client side, for a server that stops answering without closing the socket.
            "command_timeout": self._statement_timeout + 5.0,
        }

    def unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return DatabaseUnavailable(f"cannot reach the database at {self._masked}: {detail}")

    # --- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self._pool_size,
                timeout=_CONNECT_TIMEOUT,
                init=_init_connection,
                **self._connect_options(),
            )
            async with self._pool.acquire() as conn:
                version = await _migrate(conn)
            await self._pool.expire_connections()
            for slot in range(_WRITERS):
                self._writer_conns[slot] = await self._connect()
                self._free_writers.put_nowait(slot)
        except Exception as exc:
            if self._pool is not None:
                self._pool.terminate()
                self._pool = None
            raise self.unavailable(exc) from exc
        log.info("database opened", url=self._masked, schema_version=version)
        self._writer = GroupCommitWriter(
            self._execute, max_batch=self._max_batch, on_batch=self._on_batch, workers=_WRITERS
        )
        self._writer.start()

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        for slot, conn in enumerate(self._writer_conns):
            if conn is not None:
                await conn.close(timeout=_CONNECT_TIMEOUT)
                self._writer_conns[slot] = None
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), _CONNECT_TIMEOUT)
            except TimeoutError:
                self._pool.terminate()
            self._pool = None

    async def _connect(self) -> asyncpg.Connection:
        conn: asyncpg.Connection = await asyncpg.connect(
            self.url, timeout=_CONNECT_TIMEOUT, **self._connect_options()
        )
        await _init_connection(conn)
        return conn

    # --- reads and writes ----------------------------------------------------------------------

    async def write(
        self,
        op: Callable[[asyncpg.Connection], Awaitable[T]],
        *,
        events: DeclaredEvents[T] | None = None,
    ) -> T:
        """Run ``op`` in the next group commit; returns once it is committed. ``events``: what
        the change causes, written to the webhooks' outbox in the same commit."""
        if self._writer is None:
            raise RuntimeError("store is not open")
        if events is not None:
            op = WithEvents(op, events)
        result: T = await self._writer.submit(op)
        return result

    async def write_apart(
        self,
        op: Callable[[asyncpg.Connection], Awaitable[T]],
        *,
        events: DeclaredEvents[T] | None = None,
    ) -> T:
        """Run ``op`` in a transaction of its own on a pooled connection, beside the writer:
        for bulk writes nobody waits on (the message log), which need not queue behind the
        writes chargers wait for, nor delay them."""
        if self._pool is None:
            raise RuntimeError("store is not open")
        if events is not None:
            op = WithEvents(op, events)
        try:
            async with self._pool.acquire(timeout=_CONNECT_TIMEOUT) as conn, conn.transaction():
                return await op(conn)
        except _UNAVAILABLE as exc:
            raise self.unavailable(exc) from exc

    async def read(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        if self._pool is None:
            raise RuntimeError("store is not open")
        try:
            async with self._pool.acquire(timeout=_CONNECT_TIMEOUT) as conn:
                return await fn(conn)
        except _UNAVAILABLE as exc:
            raise self.unavailable(exc) from exc

    async def _writer_connection(self, slot: int) -> asyncpg.Connection:
        conn = self._writer_conns[slot]
        if conn is not None and not conn.is_closed():
            return conn
        now = time.monotonic()
        if now < self._next_connect[slot]:
            raise DatabaseUnavailable(f"the database at {self._masked} is unavailable")
        self._next_connect[slot] = now + _RECONNECT_SECONDS
        try:
            conn = self._writer_conns[slot] = await self._connect()
        except Exception as exc:
            raise self.unavailable(exc) from exc
        log.info("database connection restored", url=self._masked)
        return conn

    async def _execute(self, ops: list[WriteOp]) -> list[Outcome]:
        slot = await self._free_writers.get()  # one per worker of the writer: never waits
        try:
            conn = await self._writer_connection(slot)
            return await _run_batch(conn, ops)
        except DatabaseUnavailable as exc:
            return [(False, exc)] * len(ops)
        except _UNAVAILABLE as exc:
            # Whether the commit happened is unknown: the caller is told it failed, and a
            # charger's retry is recognised as a replay if it did.
            log.warning("database connection lost", url=self._masked, error=repr(exc))
            lost = self._writer_conns[slot]
            if lost is not None:
                lost.terminate()
                self._writer_conns[slot] = None
            return [(False, self.unavailable(exc))] * len(ops)
        finally:
            self._free_writers.put_nowait(slot)
