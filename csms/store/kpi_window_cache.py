"""What a KPI report reads from the roll-up's rows at its window's checkpoints, kept between
requests (ADR 009).

That read (one or two rows per charger in scope, and for uptime by connector the sockets'
downtime between them) is the same for every request with the same checkpoints and scope until
the rows change; made into Python values, for a network of 10,000 chargers it is most of a
report's time. The default window (the last 7 days) keeps its checkpoints for an hour, a window
of whole days for good. The rows change at each round of the roll-up (hourly) and on a late
change; the stores count every change with triggers (a row of kpi_days written or deleted, a
charger registered, deleted, or moved to another site) and read that number in the same
snapshot as the rows, so a read kept under one number is exactly what reading again would give
while the number holds. Several nodes share the number through their database. What begins or
ends inside the window's pieces after its checkpoints is read every time.

Only the loop's thread touches the cache: a store looks it up before its read and stores what
the read returned after it; the read itself only compares numbers."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from typing import Any, Final, NamedTuple

from csms.domain.kpi_history import ConnectorKey
from csms.domain.kpi_window import Checkpoint, Window

__all__ = ["MAX_ROWS", "CachedRead", "ReadKey", "WindowCache", "read_key"]

MAX_ROWS: Final = 60_000
"""At most this many chargers' rows kept, over all reads (about 0.5 KB each): six reads of a
10,000-charger network, a few hundred of a site."""


class ReadKey(NamedTuple):
    """A read: the window's checkpoints, its shape, what it reads, and the scope (one charger,
    lower-cased; some sites; or, both None, every charger). A week's read is the same whatever
    it is asked for (statuses and downtime then always True)."""

    first: Checkpoint
    last: Checkpoint
    week: bool
    statuses: bool
    downtime: bool
    cp_id: str | None
    site_ids: frozenset[str] | None


def read_key(
    window: Window,
    statuses: bool,
    downtime: bool,
    cp_id: str | None,
    site_ids: Collection[str] | None,
) -> ReadKey:
    return ReadKey(
        window.first,
        window.last,
        window.week,
        statuses or window.week,
        downtime or window.week,
        None if cp_id is None else cp_id.lower(),
        None if site_ids is None else frozenset(site_ids),
    )


class CachedRead(NamedTuple):
    """The rows as the store read them (plain tuples, never changed by a reader), the sockets'
    downtime (per charger, id lower-cased; None when not asked for) and the number they were
    read at."""

    version: int
    rows: Sequence[Sequence[Any]]
    downtime: dict[str, dict[ConnectorKey, int]] | None


class WindowCache:
    """The newest reads by key, least recently used first; only reads at the latest number seen
    (an older one can never be used again)."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self._max_rows = max_rows
        self._version: int | None = None
        self._reads: OrderedDict[ReadKey, CachedRead] = OrderedDict()
        self._rows = 0

    def get(self, key: ReadKey) -> CachedRead | None:
        found = self._reads.get(key)
        if found is not None:
            self._reads.move_to_end(key)
        return found

    def put(self, key: ReadKey, read: CachedRead) -> None:
        if self._version is not None and read.version < self._version:
            return  # read before a change another read has already seen
        if read.version != self._version:
            self._reads.clear()
            self._rows = 0
            self._version = read.version
        if len(read.rows) > self._max_rows:
            return
        old = self._reads.pop(key, None)
        if old is not None:
            self._rows -= len(old.rows)
        self._reads[key] = read
        self._rows += len(read.rows)
        while self._rows > self._max_rows:
            _, dropped = self._reads.popitem(last=False)
            self._rows -= len(dropped.rows)

    def settled(
        self, key: ReadKey, kept: CachedRead | None, fresh: CachedRead | None
    ) -> CachedRead:
        """What a store's read ended with: the rows it read afresh (kept from now on), or the
        ones it found kept under ``key`` before it began and used."""
        if fresh is not None:
            self.put(key, fresh)
            return fresh
        assert kept is not None
        return kept

    def __len__(self) -> int:
        return len(self._reads)
