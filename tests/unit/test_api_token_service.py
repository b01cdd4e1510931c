"""The API token service over a real SQLite file: expiry on every request, a cache that never
outlives a revocation by more than a second, last uses written in batches, config tokens that
disappear with the config file's entry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csms.config import ApiTokenSetting
from csms.domain.errors import Invalid, NotFound
from csms.domain.models import ApiToken, Role, TokenSource
from csms.domain.paging import Page, Paged
from csms.domain.secrets import hash_api_token
from csms.services.api_tokens import ApiTokenService
from csms.store.repositories import ApiTokenStore
from csms.store.sqlite import SqliteStore

NOW = datetime(2026, 6, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """The real store, counting the reads and the last-use writes that reach it."""

    def __init__(self, inner: ApiTokenStore) -> None:
        self.inner = inner
        self.finds = 0
        self.use_writes: list[list[tuple[str, datetime]]] = []
        self.fail_use_writes = False

    async def add_api_token(self, token: ApiToken, token_hash: str) -> ApiToken:
        return await self.inner.add_api_token(token, token_hash)

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        self.finds += 1
        return await self.inner.find_api_token(token_hash)

    async def list_api_tokens(self, page: Page[str]) -> Paged[ApiToken]:
        return await self.inner.list_api_tokens(page)

    async def delete_api_token(self, token_id: str) -> None:
        await self.inner.delete_api_token(token_id)

    async def record_api_token_uses(self, uses: Sequence[tuple[str, datetime]]) -> None:
        if self.fail_use_writes:
            raise OSError("disk gone")
        self.use_writes.append(list(uses))
        await self.inner.record_api_token_uses(uses)

    async def remove_config_tokens(self, keep_hashes: Collection[str]) -> list[str]:
        return await self.inner.remove_config_tokens(keep_hashes)


class Setup:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.clock = Clock()
        self.monotonic = Monotonic()
        self.counting = CountingStore(store.api_tokens)
        self.service = ApiTokenService(self.counting, self.clock, monotonic=self.monotonic)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    store = SqliteStore(tmp_path / "tokens.db")
    await store.open()
    try:
        yield Setup(store)
    finally:
        await store.close()


async def test_create_shows_the_token_once_and_stores_only_its_hash(setup: Setup) -> None:
    expires = NOW + timedelta(days=7)
    created = await setup.service.create("ci", Role.ADMIN, expires, source=TokenSource.API)
    record = created.record
    assert record.id.startswith("tok_") and not record.id[4:].isdigit()
    assert (record.label, record.role, record.source) == ("ci", Role.ADMIN, TokenSource.API)
    assert (record.created_at, record.expires_at, record.last_used_at) == (NOW, expires, None)
    assert await setup.store.api_tokens.find_api_token(hash_api_token(created.token)) == record
    assert await setup.service.authenticate(created.token) == record
    assert await setup.service.authenticate(created.token + "x") is None


async def test_an_expiry_not_in_the_future_is_refused(setup: Setup) -> None:
    for expires in (NOW, NOW - timedelta(seconds=1)):
        with pytest.raises(Invalid) as caught:
            await setup.service.create(None, Role.VIEWER, expires, source=TokenSource.API)
        assert caught.value.field == "expiresAt"
    assert (await setup.service.list_api_tokens(Page(10))).items == []


async def test_expiry_is_checked_on_every_request_even_when_cached(setup: Setup) -> None:
    expires = NOW + timedelta(hours=1)
    created = await setup.service.create("t", Role.OPERATOR, expires, source=TokenSource.CLI)
    assert await setup.service.authenticate(created.token) is not None
    setup.clock.now = expires - timedelta(milliseconds=1)
    assert await setup.service.authenticate(created.token) is not None
    assert setup.counting.finds == 1  # served from the cache...
    setup.clock.now = expires
    assert await setup.service.authenticate(created.token) is None  # ...and still refused
    assert setup.counting.finds == 1


async def test_a_revocation_elsewhere_takes_effect_within_a_second(setup: Setup) -> None:
    created = await setup.service.create("t", Role.OPERATOR, source=TokenSource.CLI)
    assert await setup.service.authenticate(created.token) is not None
    # Revoked by another process (the CLI): this process's cache may hold it, at most 1 s.
    await setup.store.api_tokens.delete_api_token(created.record.id)
    setup.monotonic.now += 0.5
    assert await setup.service.authenticate(created.token) is not None
    setup.monotonic.now += 0.5
    assert await setup.service.authenticate(created.token) is None
    assert setup.counting.finds == 2


async def test_a_revocation_through_the_service_takes_effect_at_once(setup: Setup) -> None:
    created = await setup.service.create("t", Role.OPERATOR, source=TokenSource.API)
    other = await setup.service.create("u", Role.VIEWER, source=TokenSource.API)
    assert await setup.service.authenticate(created.token) is not None
    assert await setup.service.authenticate(other.token) is not None
    await setup.service.revoke(created.record.id)
    assert await setup.service.authenticate(created.token) is None
    assert await setup.service.authenticate(other.token) is not None
    with pytest.raises(NotFound):
        await setup.service.revoke(created.record.id)


async def test_last_use_is_remembered_then_written_once_per_flush(setup: Setup) -> None:
    a = await setup.service.create("a", Role.OPERATOR, source=TokenSource.CLI)
    b = await setup.service.create("b", Role.VIEWER, source=TokenSource.CLI)
    for second in range(30):
        setup.clock.now = NOW + timedelta(seconds=second)
        assert await setup.service.authenticate(a.token) is not None
    setup.clock.now = NOW + timedelta(seconds=10)
    assert await setup.service.authenticate(b.token) is not None
    # No write per request: the database has nothing yet, the service's list already shows it.
    assert setup.counting.use_writes == []
    stored = await setup.store.api_tokens.list_api_tokens(Page(10))
    assert [t.last_used_at for t in stored.items] == [None, None]
    listed = {
        t.label: t.last_used_at for t in (await setup.service.list_api_tokens(Page(10))).items
    }
    assert listed == {"a": NOW + timedelta(seconds=29), "b": NOW + timedelta(seconds=10)}

    await setup.service.flush_last_used()
    assert setup.counting.use_writes == [
        sorted(
            [(a.record.id, NOW + timedelta(seconds=29)), (b.record.id, NOW + timedelta(seconds=10))]
        )
    ]
    stored = await setup.store.api_tokens.list_api_tokens(Page(10))
    assert {t.label: t.last_used_at for t in stored.items} == listed
    await setup.service.flush_last_used()  # nothing new: no write
    assert len(setup.counting.use_writes) == 1


async def test_a_failed_flush_keeps_the_last_uses_for_the_next_one(setup: Setup) -> None:
    a = await setup.service.create("a", Role.OPERATOR, source=TokenSource.CLI)
    assert await setup.service.authenticate(a.token) is not None
    setup.counting.fail_use_writes = True
    with pytest.raises(OSError):
        await setup.service.flush_last_used()
    setup.counting.fail_use_writes = False
    await setup.service.flush_last_used()
    assert setup.counting.use_writes == [[(a.record.id, NOW)]]
    [stored] = (await setup.store.api_tokens.list_api_tokens(Page(10))).items
    assert stored.last_used_at == NOW


async def test_a_token_removed_from_the_config_file_stops_working_after_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restart.db"
    keep = ApiTokenSetting(name="dashboard", role="viewer", token="k" * 32)
    drop = ApiTokenSetting(name="old-script", role="admin", token="d" * 32)

    store = SqliteStore(path)
    await store.open()
    service = ApiTokenService(store.api_tokens, Clock())
    await service.install([keep, drop])
    cli = await service.create("from-cli", Role.OPERATOR, source=TokenSource.CLI)
    dropped = await service.authenticate(drop.token)
    assert dropped is not None and (dropped.role, dropped.source) == (
        Role.ADMIN,
        TokenSource.CONFIG,
    )
    kept = await service.authenticate(keep.token)
    assert kept is not None and kept.label == "dashboard"
    await store.close()

    # The next start, with `drop` deleted from the config file and `keep` renamed.
    store = SqliteStore(path)
    await store.open()
    try:
        service = ApiTokenService(store.api_tokens, Clock())
        renamed = ApiTokenSetting(name="wallboard", role="viewer", token=keep.token)
        await service.install([renamed])
        assert await service.authenticate(drop.token) is None
        again = await service.authenticate(keep.token)
        assert again is not None and (again.id, again.label) == (kept.id, "wallboard")
        assert await service.authenticate(cli.token) is not None  # not the config file's
        listed = {t.label for t in (await service.list_api_tokens(Page(10))).items}
        assert listed == {"wallboard", "from-cli"}
    finally:
        await store.close()


async def test_install_drops_a_removed_config_token_from_the_cache_at_once(setup: Setup) -> None:
    gone = ApiTokenSetting(name="gone", role="operator", token="g" * 32)
    await setup.service.install([gone])
    assert await setup.service.authenticate(gone.token) is not None
    await setup.service.install([])
    assert await setup.service.authenticate(gone.token) is None
