"""The message log service: frames paired into exchanges, flushed in batches, purged by age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from csms.domain.paging import Page
from csms.services.message_log import MessageLog
from csms.store.sqlite import SqliteStore

NOW = datetime(2026, 6, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def test_frames_are_paired_flushed_in_batches_and_expire(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "log.db")
    await store.open()
    clock = Clock()
    message_log = MessageLog(store.message_log, clock, retention=timedelta(days=3))
    try:
        clock.now = NOW - timedelta(days=10)
        message_log.record("CP", "in", 2, "a", "Heartbeat", '[2,"a","Heartbeat",{}]')
        message_log.record("CP", "out", 3, "a", "Heartbeat", '[3,"a",{"currentTime":"x"}]')
        clock.now = NOW
        message_log.record("CP", "out", 2, "a", "Reset", '[2,"a","Reset",{"type":"Soft"}]')
        message_log.record("CP", "in", 2, "b", "Heartbeat", '[2,"b","Heartbeat",{}]')
        # Nothing is written until the flush: the reply path never waits for the log.
        assert (await store.message_log.list_messages(Page(10))).items == []
        await message_log.flush()
        # The charger's "a" was answered; our own "a" (same id, other side) and "b" wait for
        # their answers, within the pairing window.
        stored = (await store.message_log.list_messages(Page(10))).items
        assert [(m.unique_id, m.direction, m.message_type) for m in stored] == [
            ("a", "in", "Call"),
            ("a", "out", "CallResult"),
        ]
        assert stored[1].payload == {"currentTime": "x"}
        message_log.record("CP", "in", 3, "a", None, '[3,"a",{"status":"Accepted"}]')
        clock.now = NOW + timedelta(seconds=10)  # "b" is now older than the window
        await message_log.flush()
        stored = (await store.message_log.list_messages(Page(10))).items
        assert [(m.unique_id, m.direction, m.action) for m in stored][2:] == [
            ("a", "out", "Reset"),
            ("a", "in", "Reset"),
            ("b", "in", "Heartbeat"),
        ]
        # Exchanges older than the retention go as a whole: the first one (10 days old).
        assert await message_log.purge_expired() == 1
        kept = (await store.message_log.list_messages(Page(10))).items
        assert [m.action for m in kept] == ["Reset", "Reset", "Heartbeat"]
    finally:
        await store.close()


async def test_a_frame_over_the_size_limit_is_logged_truncated_with_a_marker(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "log.db")
    await store.open()
    message_log = MessageLog(
        store.message_log, Clock(), retention=timedelta(days=3), max_frame_bytes=1024
    )
    try:
        big = orjson.dumps([2, "a", "DataTransfer", {"vendorId": "V", "data": "é" * 2000}])
        message_log.record("CP", "in", 2, "a", "DataTransfer", big.decode())
        message_log.record("CP", "out", 3, "a", "DataTransfer", '[3,"a",{"status":"Accepted"}]')
        await message_log.flush()
        call, answer = (await store.message_log.list_messages(Page(10))).items
        assert call.action == "DataTransfer" and call.unique_id == "a"
        marker = call.payload
        assert isinstance(marker, dict) and marker["truncated"] is True
        assert marker["frameBytes"] == len(big)
        head = marker["head"]
        assert big.decode().startswith(head) and 1000 < len(head.encode()) <= 1024
        assert answer.payload == {"status": "Accepted"}  # small frames are kept whole
    finally:
        await store.close()


async def test_the_buffer_is_bounded_and_what_it_drops_is_counted(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "log.db")
    await store.open()
    dropped: list[int] = []
    message_log = MessageLog(
        store.message_log,
        Clock(),
        retention=timedelta(days=3),
        max_buffer_bytes=10_000,
        on_drop=dropped.append,
    )
    try:
        frames = [f'[2,"{n:04d}","Heartbeat",{{}}]' for n in range(1000)]  # 27 kB in all
        for n, frame in enumerate(frames):
            message_log.record("CP", "in", 2, f"{n:04d}", "Heartbeat", frame)
            message_log.record("CP", "out", 3, f"{n:04d}", "Heartbeat", f'[3,"{n:04d}",{{}}]')
        assert 0 < sum(dropped) < 2000
        await message_log.flush(include_open=True)
        kept = (await store.message_log.list_messages(Page(1000))).items
        assert len(kept) == 2000 - sum(dropped)
        # Written out, the buffer has room again.
        before = sum(dropped)
        message_log.record("CP", "in", 2, "late", "Heartbeat", '[2,"late","Heartbeat",{}]')
        assert sum(dropped) == before
    finally:
        await store.close()
