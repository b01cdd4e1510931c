"""The id-tags table as operators manage it."""

from __future__ import annotations

from csms.domain.clock import Clock
from csms.domain.models import IdTag
from csms.domain.paging import Page, Paged
from csms.domain.updates import IdTagChanges
from csms.store.repositories import IdTagStore

__all__ = ["IdTagService"]


class IdTagService:
    def __init__(self, store: IdTagStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def get(self, uid: str) -> IdTag | None:
        return await self._store.get_id_tag(uid)

    async def list_id_tags(self, page: Page[str]) -> Paged[IdTag]:
        return await self._store.list_id_tags(page)

    async def add(self, tag: IdTag) -> IdTag:
        return await self._store.add_id_tag(tag, self._clock())

    async def update(self, uid: str, changes: IdTagChanges) -> IdTag:
        return await self._store.update_id_tag(uid, changes)

    async def delete(self, uid: str) -> None:
        await self._store.delete_id_tag(uid)
