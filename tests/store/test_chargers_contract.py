"""The store contract for charge points, id-tags and API tokens, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from csms.domain.errors import Conflict, NotFound
from csms.domain.models import BootInfo, ConnectorState, IdTag, IdTagStatus, NewIdTag
from csms.domain.paging import Page
from csms.domain.transactions import TransactionStart
from csms.domain.updates import UNSET, ChargePointChanges, IdTagChanges
from csms.store.repositories import Store
from tests.store.conftest import NOW, add_charge_point

EVERYTHING: Page[str] = Page(100)
LATER = NOW + timedelta(minutes=5)


async def test_a_charge_point_is_registered_once_and_found_whatever_the_case(store: Store) -> None:
    await add_charge_point(store, "CP-One", name="first", password_hash="h", security_profile=1)
    with pytest.raises(Conflict):
        await add_charge_point(store, "cp-one")
    found = await store.chargers.get_charge_point("cp-ONE")
    assert found is not None
    assert (found.id, found.name, found.has_password, found.security_profile) == (
        "CP-One",
        "first",
        True,
        1,
    )
    assert found.created_at == NOW and not found.connected and not found.boot_accepted
    assert found.connectors == () and found.active_transactions == ()
    credentials = await store.chargers.get_credentials("CP-ONE")
    assert credentials is not None and credentials.password_hash == "h"
    assert await store.chargers.get_credentials("nobody") is None
    assert await store.chargers.get_charge_point("nobody") is None


async def test_charge_points_are_listed_by_id_with_search_and_paging(store: Store) -> None:
    for cp_id in ("CP-3", "CP-1", "cp-2", "OTHER_1", "OTHERX1"):
        await add_charge_point(store, cp_id)
    await store.chargers.record_boot(
        "CP-3", ocpp_version="1.6", boot_info=BootInfo(vendor="Acme%"), status="Accepted", at=NOW
    )
    await store.chargers.record_connection("CP-1", ocpp_version="1.6", connected=True, at=NOW)

    async def ids(
        page: Page[str] = EVERYTHING, search: str | None = None, connected: bool | None = None
    ) -> tuple[list[str], bool]:
        listed = await store.chargers.list_charge_points(page, search=search, connected=connected)
        return [cp.id for cp in listed.items], listed.has_more

    assert await ids() == (["CP-1", "cp-2", "CP-3", "OTHER_1", "OTHERX1"], False)
    assert await ids(Page(2)) == (["CP-1", "cp-2"], True)
    assert await ids(Page(2, "cp-2")) == (["CP-3", "OTHER_1"], True)
    assert await ids(Page(10, "OTHER_1")) == (["OTHERX1"], False)
    assert await ids(search="acme") == (["CP-3"], False)
    assert await ids(search="%") == (["CP-3"], False)  # wildcards are taken literally
    assert await ids(search="r_") == (["OTHER_1"], False)
    assert await ids(connected=True) == (["CP-1"], False)
    assert (await ids(connected=False))[0] == ["cp-2", "CP-3", "OTHER_1", "OTHERX1"]


async def test_partial_updates_change_only_what_they_name(store: Store) -> None:
    await add_charge_point(store, "CP", name="before", password_hash="h")
    updated = await store.chargers.update_charge_point(
        "cp", ChargePointChanges(name=None, security_profile=2, boot_answer="Pending")
    )
    assert updated.name is None and updated.security_profile == 2 and updated.has_password
    assert updated.boot_answer == "Pending" and updated.boot_status is None
    same = await store.chargers.update_charge_point("CP", ChargePointChanges())
    assert same == updated
    assert ChargePointChanges().name is UNSET
    with pytest.raises(NotFound):
        await store.chargers.update_charge_point("nobody", ChargePointChanges(name="x"))
    await store.chargers.delete_charge_point("cp")
    assert await store.chargers.get_charge_point("CP") is None
    with pytest.raises(NotFound):
        await store.chargers.delete_charge_point("CP")


async def test_boot_connection_and_statuses_are_recorded(store: Store) -> None:
    await add_charge_point(store, "CP")
    info = BootInfo(vendor="V", model="M", serial_number="S", firmware_version="1.0")
    await store.chargers.record_boot(
        "cp", ocpp_version="2.0.1", boot_info=info, status="Accepted", at=NOW
    )
    await store.chargers.record_connection("CP", ocpp_version="2.0.1", connected=True, at=NOW)
    later = NOW + timedelta(minutes=5)
    await store.chargers.record_last_seen([("CP", later), ("nobody", later)])
    await store.chargers.record_firmware_status("CP", "Installed")
    await store.chargers.record_diagnostics_status("CP", "Uploaded")
    await store.chargers.record_connector_status(
        "CP", ConnectorState(1, 1, "Charging", "NoError", NOW + timedelta(seconds=2))
    )
    # A status queued offline that arrives after a newer one does not overwrite it.
    await store.chargers.record_connector_status(
        "CP", ConnectorState(1, 1, "Available", "NoError", NOW + timedelta(seconds=1))
    )
    await store.chargers.record_connector_status(
        "CP", ConnectorState(2, 1, "Faulted", "GroundFailure", NOW, "info", "E42")
    )
    await store.transactions.start_transaction(TransactionStart("CP", 1, 1, "TAG", NOW, 0.0))
    cp = await store.chargers.get_charge_point("CP")
    assert cp is not None
    assert cp.boot_accepted and cp.ocpp_version == "2.0.1" and cp.boot_info == info
    assert cp.connected and cp.connected_since == NOW and cp.last_seen_at == later
    assert (cp.firmware_status, cp.diagnostics_status) == ("Installed", "Uploaded")
    assert [(c.evse_id, c.status) for c in cp.connectors] == [(1, "Charging"), (2, "Faulted")]
    assert cp.connectors[1].vendor_error_code == "E42" and cp.connectors[1].info == "info"
    assert len(cp.active_transactions) == 1

    await store.chargers.mark_all_disconnected()
    cp = await store.chargers.get_charge_point("CP")
    assert cp is not None and not cp.connected and cp.connected_since is None
    await store.chargers.record_connection("CP", ocpp_version="2.0.1", connected=True, at=later)
    await store.chargers.record_connection("CP", ocpp_version="2.0.1", connected=False, at=later)
    cp = await store.chargers.get_charge_point("CP")
    assert cp is not None and not cp.connected and cp.last_seen_at == later


async def test_id_tags(store: Store) -> None:
    new = NewIdTag("Card-1", IdTagStatus.ENABLED, "ISO14443", NOW, "PARENT", "Alice", "u-1", "x-1")
    tag = await store.id_tags.add_id_tag(new, NOW)
    assert tag == IdTag(
        "Card-1",
        IdTagStatus.ENABLED,
        "ISO14443",
        NOW,
        "PARENT",
        "Alice",
        "u-1",
        "x-1",
        created_at=NOW,
        last_updated_at=NOW,
    )
    with pytest.raises(Conflict):
        await store.id_tags.add_id_tag(NewIdTag("card-1"), NOW)
    assert await store.id_tags.get_id_tag("CARD-1") == tag
    updated = await store.id_tags.update_id_tag(
        "card-1", IdTagChanges(status="blocked", expire_at=None, label=None), LATER
    )
    assert updated == replace(
        tag, status=IdTagStatus.BLOCKED, expire_at=None, label=None, last_updated_at=LATER
    )
    assert await store.id_tags.get_id_tag("card-1") == updated
    with pytest.raises(NotFound):
        await store.id_tags.update_id_tag("nobody", IdTagChanges(label="x"), LATER)
    for uid in ("B", "A", "c"):
        await store.id_tags.add_id_tag(NewIdTag(uid), NOW)
    first = await store.id_tags.list_id_tags(Page(2))
    assert [t.uid for t in first.items] == ["A", "B"] and first.has_more
    rest = await store.id_tags.list_id_tags(Page(5, "B"))
    assert [t.uid for t in rest.items] == ["c", "Card-1"] and not rest.has_more
    await store.id_tags.delete_id_tag("C")
    assert await store.id_tags.get_id_tag("c") is None
    with pytest.raises(NotFound):
        await store.id_tags.delete_id_tag("c")


async def test_an_id_tag_without_a_type_and_clearing_fields(store: Store) -> None:
    tag = await store.id_tags.add_id_tag(NewIdTag("UID-1"), NOW)
    assert (tag.type, tag.user_id, tag.external_id) == (None, None, None)
    assert await store.id_tags.get_id_tag("uid-1") == tag

    typed = await store.id_tags.update_id_tag(
        "UID-1", IdTagChanges(type="eMAID", user_id="alice@example.com", external_id="crm-7"), LATER
    )
    assert (typed.type, typed.user_id, typed.external_id) == (
        "eMAID",
        "alice@example.com",
        "crm-7",
    )
    assert (typed.created_at, typed.last_updated_at) == (NOW, LATER)

    # None clears; an absent field stays; every update moves last_updated_at, an empty one too.
    cleared = await store.id_tags.update_id_tag(
        "UID-1", IdTagChanges(type=None, external_id=None), LATER + timedelta(seconds=1)
    )
    assert (cleared.type, cleared.user_id, cleared.external_id) == (None, "alice@example.com", None)
    untouched = await store.id_tags.update_id_tag(
        "UID-1", IdTagChanges(), LATER + timedelta(seconds=2)
    )
    assert untouched == replace(cleared, last_updated_at=LATER + timedelta(seconds=2))
    assert await store.id_tags.get_id_tag("UID-1") == untouched


async def test_id_tags_filtered_by_user_and_status(store: Store) -> None:
    tags = [
        ("A", "alice", IdTagStatus.ENABLED),
        ("B", "bob", IdTagStatus.ENABLED),
        ("C", "alice", IdTagStatus.BLOCKED),
        ("D", None, IdTagStatus.BLOCKED),
        ("E", "alice", IdTagStatus.ENABLED),
        ("F", "Alice", IdTagStatus.ENABLED),
        ("G", "alice", IdTagStatus.DISABLED),
    ]
    for uid, user_id, status in tags:
        await store.id_tags.add_id_tag(NewIdTag(uid, status, user_id=user_id), NOW)

    async def uids(
        page: Page[str], *, user_id: str | None = None, status: IdTagStatus | None = None
    ) -> tuple[list[str], bool]:
        listed = await store.id_tags.list_id_tags(page, user_id=user_id, status=status)
        return [t.uid for t in listed.items], listed.has_more

    assert await uids(Page(10), user_id="alice") == (["A", "C", "E", "G"], False)
    assert await uids(Page(2), user_id="alice") == (["A", "C"], True)
    assert await uids(Page(2, "C"), user_id="alice") == (["E", "G"], False)
    assert await uids(Page(10), user_id="Alice") == (["F"], False)  # userId is exact
    assert await uids(Page(10), user_id="nobody") == ([], False)
    assert await uids(Page(10), status=IdTagStatus.BLOCKED) == (["C", "D"], False)
    assert await uids(Page(10), status=IdTagStatus.DISABLED) == (["G"], False)
    assert await uids(Page(1, "A"), user_id="alice", status=IdTagStatus.ENABLED) == (
        ["E"],
        False,
    )
    assert await uids(Page(10), user_id="alice", status=IdTagStatus.ENABLED) == (
        ["A", "E"],
        False,
    )
    assert await uids(Page(3, "d")) == (["E", "F", "G"], False)  # the cursor is case-insensitive
