"""API token records, on both backends: found by hash, listed by id, deleted, last use recorded
in batches, config tokens pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from csms.domain.errors import NotFound
from csms.domain.models import ApiToken, Role, TokenSource
from csms.domain.paging import Page
from csms.store.repositories import Store
from tests.store.conftest import NOW


def _token(
    token_id: str,
    role: Role = Role.OPERATOR,
    *,
    label: str | None = None,
    source: TokenSource = TokenSource.CLI,
) -> ApiToken:
    return ApiToken(id=token_id, role=role, label=label, source=source, created_at=NOW)


async def test_a_token_is_stored_with_its_record_and_found_by_its_exact_hash(store: Store) -> None:
    expires = NOW + timedelta(days=30)
    record = ApiToken(
        id="tok_a",
        role=Role.ADMIN,
        label="root",
        source=TokenSource.API,
        created_at=NOW,
        expires_at=expires,
    )
    assert await store.api_tokens.add_api_token(record, "hash-a") == record
    assert await store.api_tokens.find_api_token("hash-a") == record
    assert await store.api_tokens.find_api_token("HASH-A") is None  # hashes are exact
    assert await store.api_tokens.find_api_token("hash-b") is None
    # A token without a label reads back without one.
    await store.api_tokens.add_api_token(_token("tok_b", Role.VIEWER), "hash-b")
    found = await store.api_tokens.find_api_token("hash-b")
    assert found is not None and found.label is None and found.role == Role.VIEWER


async def test_adding_a_known_hash_updates_it_in_place_keeping_id_creation_and_last_use(
    store: Store,
) -> None:
    await store.api_tokens.add_api_token(_token("tok_1", label="ops"), "hash-1")
    await store.api_tokens.record_api_token_uses([("tok_1", NOW + timedelta(minutes=5))])
    again = ApiToken(
        id="tok_other",
        role=Role.VIEWER,
        label="ro",
        source=TokenSource.CONFIG,
        created_at=NOW + timedelta(days=1),
    )
    stored = await store.api_tokens.add_api_token(again, "hash-1")
    expected = ApiToken(
        id="tok_1",
        role=Role.VIEWER,
        label="ro",
        source=TokenSource.CONFIG,
        created_at=NOW,
        last_used_at=NOW + timedelta(minutes=5),
    )
    assert stored == expected
    assert await store.api_tokens.find_api_token("hash-1") == expected
    assert [t.id for t in (await store.api_tokens.list_api_tokens(Page(10))).items] == ["tok_1"]


async def test_tokens_are_listed_by_id_in_pages(store: Store) -> None:
    for token_id in ("tok_c", "tok_a", "tok_e", "tok_b", "tok_d"):
        await store.api_tokens.add_api_token(_token(token_id), f"hash-{token_id}")
    first = await store.api_tokens.list_api_tokens(Page(2))
    assert [t.id for t in first.items] == ["tok_a", "tok_b"] and first.has_more
    rest = await store.api_tokens.list_api_tokens(Page(2, "tok_b"))
    assert [t.id for t in rest.items] == ["tok_c", "tok_d"] and rest.has_more
    last = await store.api_tokens.list_api_tokens(Page(2, "tok_d"))
    assert [t.id for t in last.items] == ["tok_e"] and not last.has_more


async def test_a_deleted_token_is_gone_and_deleting_it_again_is_not_found(store: Store) -> None:
    await store.api_tokens.add_api_token(_token("tok_x"), "hash-x")
    await store.api_tokens.add_api_token(_token("tok_y"), "hash-y")
    await store.api_tokens.delete_api_token("tok_x")
    assert await store.api_tokens.find_api_token("hash-x") is None
    assert await store.api_tokens.find_api_token("hash-y") is not None
    with pytest.raises(NotFound):
        await store.api_tokens.delete_api_token("tok_x")


async def test_last_use_is_recorded_in_batches_and_never_moves_back(store: Store) -> None:
    await store.api_tokens.add_api_token(_token("tok_1"), "hash-1")
    await store.api_tokens.add_api_token(_token("tok_2"), "hash-2")
    await store.api_tokens.add_api_token(_token("tok_3"), "hash-3")
    t1, t2 = NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)
    await store.api_tokens.record_api_token_uses([])  # nothing to write is fine
    await store.api_tokens.record_api_token_uses([("tok_1", t2), ("tok_2", t1), ("tok_gone", t1)])
    # An older use arriving late (another process's flush) does not move it back.
    await store.api_tokens.record_api_token_uses([("tok_1", t1), ("tok_2", t2)])
    listed = {
        t.id: t.last_used_at for t in (await store.api_tokens.list_api_tokens(Page(10))).items
    }
    assert listed == {"tok_1": t2, "tok_2": t2, "tok_3": None}


async def test_config_tokens_not_kept_are_removed_and_others_stay(store: Store) -> None:
    await store.api_tokens.add_api_token(_token("tok_keep", source=TokenSource.CONFIG), "hash-keep")
    await store.api_tokens.add_api_token(
        _token("tok_drop1", source=TokenSource.CONFIG), "hash-drop1"
    )
    await store.api_tokens.add_api_token(
        _token("tok_drop2", source=TokenSource.CONFIG), "hash-drop2"
    )
    await store.api_tokens.add_api_token(_token("tok_cli", source=TokenSource.CLI), "hash-cli")
    await store.api_tokens.add_api_token(_token("tok_api", source=TokenSource.API), "hash-api")
    removed = await store.api_tokens.remove_config_tokens({"hash-keep", "hash-cli"})
    assert removed == ["tok_drop1", "tok_drop2"]
    listed = [t.id for t in (await store.api_tokens.list_api_tokens(Page(10))).items]
    assert listed == ["tok_api", "tok_cli", "tok_keep"]
    # An empty config file removes every config token, and nothing else.
    assert await store.api_tokens.remove_config_tokens(set()) == ["tok_keep"]
    assert await store.api_tokens.remove_config_tokens(set()) == []
    listed = [t.id for t in (await store.api_tokens.list_api_tokens(Page(10))).items]
    assert listed == ["tok_api", "tok_cli"]
