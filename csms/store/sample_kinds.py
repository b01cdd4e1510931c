"""Interned sample kinds, for both backends: what a meter sample is (measurand, phase, unit,
context, location, format) becomes a small number in its own table, so a sample row carries a
number instead of ~60 bytes of text, in the row and in its unique index."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from csms.domain.models import MeterSample

__all__ = ["KindKey", "SampleKinds", "kind_key"]

KindKey = tuple[str, str, str, str, str, str]


def kind_key(sample: MeterSample) -> KindKey:
    return (
        sample.measurand,
        sample.phase or "",
        sample.unit,
        sample.context,
        sample.location,
        sample.format,
    )


class SampleKinds:
    """The kinds' numbers, cached.

    A new kind is interned in a commit of its own before the first sample of that kind is
    written, and cached only once that commit is durable: a cached number always exists.
    """

    def __init__(
        self,
        load: Callable[[], Awaitable[dict[KindKey, int]]],
        intern: Callable[[list[KindKey]], Awaitable[dict[KindKey, int]]],
    ) -> None:
        self._load = load
        self._intern = intern
        self._ids: dict[KindKey, int] | None = None
        self._learning = asyncio.Lock()

    async def ids(self, samples: Sequence[MeterSample]) -> list[int]:
        keys = [kind_key(s) for s in samples]
        known = self._ids
        if known is None or any(k not in known for k in keys):
            known = await self._learn(keys)
        return [known[k] for k in keys]

    async def _learn(self, keys: list[KindKey]) -> dict[KindKey, int]:
        async with self._learning:  # one load or intern at a time; the others then find theirs
            if self._ids is None:
                self._ids = await self._load()
            missing = [k for k in dict.fromkeys(keys) if k not in self._ids]
            if missing:
                interned = await self._intern(missing)
                self._ids.update(interned)
            return self._ids
