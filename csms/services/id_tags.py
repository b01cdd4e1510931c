"""The id-tags table as operators manage it."""

from __future__ import annotations

from csms.domain.clock import Clock
from csms.domain.models import IdTag, IdTagStatus, NewIdTag
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

    async def list_id_tags(
        self,
        page: Page[str],
        *,
        user_id: str | None = None,
        status: IdTagStatus | None = None,
    ) -> Paged[IdTag]:
        return await self._store.list_id_tags(page, user_id=user_id, status=status)

    async def add(self, tag: NewIdTag) -> IdTag:
        return await self._store.add_id_tag(tag, self._clock())

    async def update(self, uid: str, changes: IdTagChanges) -> IdTag:
        return await self._store.update_id_tag(uid, changes, self._clock())

    async def delete(self, uid: str) -> None:
        await self._store.delete_id_tag(uid)
