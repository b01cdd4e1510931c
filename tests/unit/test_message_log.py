from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from csms.services.message_log import MessageLog
from csms.store.sqlite import SqliteStore


async def test_frames_are_flushed_in_batches_and_expire_after_the_retention(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "log.db")
    await store.open()
    now = datetime(2026, 6, 1, tzinfo=UTC)
    moments = iter([now - timedelta(days=10), now - timedelta(days=2), now, now])
    message_log = MessageLog(store, lambda: next(moments), retention=timedelta(days=3))
    try:
        message_log.record("CP", "in", 2, "a", "Heartbeat", '[2,"a","Heartbeat",{}]')
        message_log.record("CP", "out", 3, "a", "Heartbeat", '[3,"a",{"currentTime":"x"}]')
        message_log.record("CP", "in", 2, "b", "Heartbeat", '[2,"b","Heartbeat",{}]')
        # Nothing is written until the flush: the reply path never waits for the log.
        assert await store.list_messages(limit=10, starting_after=None) == []
        await message_log.flush()
        assert len(await store.list_messages(limit=10, starting_after=None)) == 3
        assert await message_log.purge_expired() == 1
        kept = await store.list_messages(limit=10, starting_after=None)
        assert [(m.unique_id, m.direction) for m in kept] == [("a", "out"), ("b", "in")]
        assert kept[0].payload == {"currentTime": "x"}
    finally:
        await store.close()
