"""Operator API tokens: created by the CLI or the config file, stored hashed."""

from __future__ import annotations

import time
from collections.abc import Iterable

from csms.config import ApiTokenSetting
from csms.domain.clock import Clock
from csms.domain.models import ApiToken, Role
from csms.domain.secrets import hash_api_token, new_api_token
from csms.store.repositories import ApiTokenStore

__all__ = ["ApiTokenService"]


class ApiTokenService:
    def __init__(self, store: ApiTokenStore, clock: Clock, cache_seconds: float = 30.0) -> None:
        self._store = store
        self._clock = clock
        # Every API request presents its token: known-good ones are kept a short while so a
        # request does not wait for the database just to be let in.
        self._cache_seconds = cache_seconds
        self._known: dict[str, tuple[float, ApiToken]] = {}

    async def create(self, name: str, role: Role) -> str:
        """Store a new token and return it in clear: the only time it is ever shown."""
        token = new_api_token()
        await self._store.add_api_token(
            hash_api_token(token), name=name, role=role, created_at=self._clock()
        )
        return token

    async def install(self, configured: Iterable[ApiTokenSetting]) -> None:
        """Make the tokens listed in the config file valid."""
        for item in configured:
            await self._store.add_api_token(
                hash_api_token(item.token),
                name=item.name,
                role=Role(item.role),
                created_at=self._clock(),
            )

    async def authenticate(self, token: str) -> ApiToken | None:
        token_hash = hash_api_token(token)
        now = time.monotonic()
        known = self._known.get(token_hash)
        if known is not None and known[0] > now:
            return known[1]
        found = await self._store.find_api_token(token_hash)
        if found is not None:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[token_hash] = (now + self._cache_seconds, found)
        return found
