"""Answers to Authorize / StartTransaction / TransactionEvent tokens, from the id-tags table."""

from __future__ import annotations

from csms.domain.authorization import Authorization, decide
from csms.domain.clock import Clock
from csms.store.repositories import IdTagStore

__all__ = ["AuthorizationService"]


class AuthorizationService:
    def __init__(self, store: IdTagStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def authorize(self, id_tag: str, token_type: str | None = None) -> Authorization:
        """``token_type``: the 2.0.1 idToken type the charger presented (None for 1.6); whether
        it fits the record is csms.domain.authorization's rule."""
        return decide(await self._store.get_id_tag(id_tag), self._clock(), token_type)
