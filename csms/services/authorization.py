"""Answers to Authorize / StartTransaction / TransactionEvent tokens, from the id-tags table."""

from __future__ import annotations

from csms.domain.authorization import Authorization, decide
from csms.domain.clock import Clock
from csms.store.base import IdTagStore

__all__ = ["AuthorizationService"]


class AuthorizationService:
    def __init__(self, store: IdTagStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def authorize(self, id_tag: str) -> Authorization:
        return decide(await self._store.get_id_tag(id_tag), self._clock())
