"""Operator API tokens: created by the API, the CLI or the config file, stored hashed.

Every API request presents its token, so two things stay off the request's path:
- the lookup: a known-good token is remembered for at most ``cache_seconds`` (1 s), which bounds
  how long a token revoked elsewhere (the CLI, another process) keeps working; a revocation
  through this service drops the entry at once. Expiry is checked against the clock on every
  request, cached or not.
- the last use: remembered in memory (one entry per token) and written in one batch by
  ``flush_last_used``, which the central system's housekeeping calls once a minute. A token is
  therefore written at most once a minute however busy it is, and ``list`` shows the remembered
  time before it is written.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from csms.config import ApiTokenSetting
from csms.domain.clock import Clock
from csms.domain.errors import Invalid
from csms.domain.models import ApiToken, Role, TokenSource
from csms.domain.paging import Page, Paged
from csms.domain.secrets import hash_api_token, new_api_token, new_api_token_id
from csms.log import get_logger
from csms.store.repositories import ApiTokenStore

__all__ = ["ApiTokenService", "CreatedToken"]

log = get_logger(__name__)

# Enough for every token a deployment has; past it the cache starts again rather than grow.
_CACHE_CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: str  # in clear: shown to whoever created it, never stored nor shown again
    record: ApiToken


class ApiTokenService:
    def __init__(
        self,
        store: ApiTokenStore,
        clock: Clock,
        *,
        cache_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, ApiToken]] = {}  # token hash → (valid until, record)
        self._uses: dict[str, datetime] = {}  # token id → last use not yet written

    async def create(
        self,
        label: str | None,
        role: Role,
        expires_at: datetime | None = None,
        *,
        source: TokenSource,
    ) -> CreatedToken:
        """Store a new token and return it in clear: the only time it is ever shown."""
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise Invalid("expiresAt", "expiresAt must be in the future")
        token = new_api_token()
        record = ApiToken(
            id=new_api_token_id(),
            role=role,
            label=label,
            source=source,
            created_at=now,
            expires_at=expires_at,
        )
        stored = await self._store.add_api_token(record, hash_api_token(token))
        return CreatedToken(token, stored)

    async def install(self, configured: Iterable[ApiTokenSetting]) -> None:
        """Make the config file's tokens valid, and delete the config tokens it no longer
        lists: a token removed from the file stops working at the next start."""
        keep: set[str] = set()
        for item in configured:
            token_hash = hash_api_token(item.token)
            keep.add(token_hash)
            record = ApiToken(
                id=new_api_token_id(),  # used only when the token is new
                role=Role(item.role),
                label=item.name,
                source=TokenSource.CONFIG,
                created_at=self._clock(),
            )
            await self._store.add_api_token(record, token_hash)
        removed = await self._store.remove_config_tokens(keep)
        if removed:
            self._forget(set(removed))
            log.info("config tokens removed", ids=removed)

    async def authenticate(self, token: str) -> ApiToken | None:
        """The token's record; None when it is unknown, revoked or expired."""
        token_hash = hash_api_token(token)
        now_mono = self._monotonic()
        cached = self._known.get(token_hash)
        found = cached[1] if cached is not None and cached[0] > now_mono else None
        if found is None:
            found = await self._store.find_api_token(token_hash)
            if found is None:
                self._known.pop(token_hash, None)
                return None
            if len(self._known) >= _CACHE_CAPACITY:
                self._known.clear()
            self._known[token_hash] = (now_mono + self._cache_seconds, found)
        now = self._clock()
        if found.expired(now):
            return None
        self._uses[found.id] = now
        return found

    async def list_api_tokens(self, page: Page[str]) -> Paged[ApiToken]:
        tokens = await self._store.list_api_tokens(page)
        return Paged([self._with_last_use(t) for t in tokens.items], tokens.has_more)

    async def revoke(self, token_id: str) -> None:
        """Delete the token (NotFound when unknown); it stops working at once in this process."""
        await self._store.delete_api_token(token_id)
        self._forget({token_id})

    async def flush_last_used(self) -> None:
        """Write the remembered last uses in one batch (kept for the next flush if it fails)."""
        if not self._uses:
            return
        uses, self._uses = self._uses, {}
        try:
            await self._store.record_api_token_uses(sorted(uses.items()))
        except Exception:
            for token_id, at in uses.items():
                newer = self._uses.get(token_id)
                self._uses[token_id] = at if newer is None else max(at, newer)
            raise

    def _with_last_use(self, token: ApiToken) -> ApiToken:
        pending = self._uses.get(token.id)
        if pending is None or (token.last_used_at is not None and token.last_used_at >= pending):
            return token
        return dataclasses.replace(token, last_used_at=pending)

    def _forget(self, token_ids: set[str]) -> None:
        self._known = {h: e for h, e in self._known.items() if e[1].id not in token_ids}
        for token_id in token_ids:
            self._uses.pop(token_id, None)
