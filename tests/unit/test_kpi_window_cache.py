"""The cache of KPI windows' reads (csms.store.kpi_window_cache): kept by key at the newest
number only, the least recently used dropped first once past its rows' bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csms.domain.kpi_window import WEEK, Checkpoint, Frontier, Window
from csms.store.kpi_window_cache import CachedRead, ReadKey, WindowCache, read_key

NOW = datetime(2026, 3, 3, 9, 20, tzinfo=UTC)
FRONTIER = Frontier(Checkpoint(NOW.date(), 9), True)
WEEK_WINDOW = Window.of(NOW - WEEK, NOW, NOW, FRONTIER)
DAYS = Window.of(
    datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 2, 27, tzinfo=UTC), NOW, FRONTIER
)


def _read(version: int, chargers: int) -> CachedRead:
    return CachedRead(version, [(f"CP-{n}",) for n in range(chargers)], {})


def _key(site: str) -> ReadKey:
    return read_key(WEEK_WINDOW, True, True, None, {site})


def test_a_key_is_the_windows_checkpoints_what_it_reads_and_the_scope() -> None:
    assert WEEK_WINDOW.week and not DAYS.week
    assert read_key(DAYS, True, True, "Cp-1", None) == read_key(DAYS, True, True, "CP-1", None)
    assert read_key(DAYS, True, True, None, ["b", "a"]) == read_key(DAYS, True, True, None, "ab")
    assert read_key(DAYS, True, True, None, ["a"]) != read_key(DAYS, True, True, None, None)
    assert read_key(DAYS, True, False, None, None) != read_key(DAYS, True, True, None, None)
    assert read_key(DAYS, False, False, None, None) != read_key(DAYS, True, False, None, None)
    an_hour_on = Window.of(
        NOW - WEEK + timedelta(hours=1),
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=1),
        Frontier(Checkpoint(NOW.date(), 10), True),
    )
    assert read_key(an_hour_on, True, True, None, None) != read_key(
        WEEK_WINDOW, True, True, None, None
    )
    # A week's read is the same whatever the report asks of it.
    assert read_key(WEEK_WINDOW, False, False, None, None) == read_key(
        WEEK_WINDOW, True, True, None, None
    )


def test_a_read_is_found_by_its_key() -> None:
    cache = WindowCache()
    kept = _read(5, 3)
    cache.put(_key("a"), kept)
    assert cache.get(_key("a")) is kept
    assert cache.get(_key("b")) is None


def test_a_newer_number_drops_every_older_read_and_an_older_one_is_not_kept() -> None:
    cache = WindowCache()
    cache.put(_key("a"), _read(5, 3))
    newer = _read(6, 1)
    cache.put(_key("b"), newer)
    assert cache.get(_key("a")) is None and cache.get(_key("b")) is newer
    cache.put(_key("a"), _read(5, 3))  # read before the change the other read saw
    assert cache.get(_key("a")) is None and len(cache) == 1


def test_past_its_bound_the_least_recently_used_go_first() -> None:
    cache = WindowCache(max_rows=10)
    keys = [_key(str(n)) for n in range(3)]
    for key in keys:
        cache.put(key, _read(1, 4))  # 12 rows: the first one goes
    assert cache.get(keys[0]) is None
    assert cache.get(keys[1]) is not None  # now the most recently used
    cache.put(keys[0], _read(1, 4))  # keys[2] is the least recently used
    assert cache.get(keys[2]) is None and cache.get(keys[1]) is not None
    assert len(cache) == 2
    cache.put(keys[2], _read(1, 11))  # larger than the bound: not kept, nothing dropped
    assert cache.get(keys[2]) is None and len(cache) == 2
    cache.put(keys[1], _read(1, 2))  # the same key again: replaced, counted once
    cache.put(keys[2], _read(1, 4))
    assert all(cache.get(key) is not None for key in keys)


def test_a_read_settles_on_what_it_read_afresh_else_on_what_was_kept() -> None:
    cache = WindowCache()
    kept = _read(1, 2)
    assert cache.settled(_key("a"), kept, None) is kept and len(cache) == 0
    fresh = _read(2, 2)
    assert cache.settled(_key("a"), kept, fresh) is fresh and cache.get(_key("a")) is fresh
