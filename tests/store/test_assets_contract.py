"""The asset repositories' contract (networks, sites, the catalogue, EVSE records, the charge
point links), on both backends."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from csms.domain.assets import (
    Address,
    ChargingStationModel,
    ConnectorSpec,
    CurrentType,
    ModelConnector,
    Network,
    PowerType,
    Site,
)
from csms.domain.errors import Conflict, Invalid, NotFound
from csms.domain.models import BootInfo, ConnectorState
from csms.domain.paging import Page
from csms.domain.transactions import TransactionStart
from csms.domain.updates import (
    ChargePointChanges,
    ConnectorSpecChanges,
    EvseChanges,
    NetworkChanges,
    SiteChanges,
)
from csms.store.repositories import Store
from tests.store.conftest import NOW, add_charge_point

LATER = NOW + timedelta(minutes=1)
ALL: Page[str] = Page(1000)


def site(site_id: str, *, parent: str | None = None, network: str | None = None) -> Site:
    return Site(site_id, site_id.title(), "site", NOW, NOW, network, parent, f"ext-{site_id}")


def model(model_id: str, vendor: str = "Acme", name: str = "Volt 22") -> ChargingStationModel:
    outlet = ModelConnector(1, "type2", "SOCKET", 32.0, 230.0, 22_000.0)
    return ChargingStationModel(
        model_id, vendor, name, PowerType.AC_3_PHASE, False, NOW, NOW, connectors=(outlet,)
    )


async def test_networks_round_trip_update_and_delete(store: Store) -> None:
    address = Address("Main St", "Utrecht", "3511", "NL", street_number="1")
    network = Network("n1", "City", NOW, NOW, type="public", physical_address=address)
    assert await store.sites.add_network(network) == network
    assert await store.sites.get_network("n1") == network
    with pytest.raises(Conflict) as caught:
        await store.sites.add_network(network)
    assert caught.value.field == "id"
    await store.sites.add_network(Network("n0", "Other", NOW, NOW))
    listed = await store.sites.list_networks(Page(1))
    assert [n.id for n in listed.items] == ["n0"] and listed.has_more
    assert [n.id for n in (await store.sites.list_networks(Page(5, "n0"))).items] == ["n1"]

    updated = await store.sites.update_network(
        "n1", NetworkChanges(name="Town", physical_address=None), LATER
    )
    assert updated == dataclasses.replace(
        network, name="Town", physical_address=None, updated_at=LATER
    )
    assert await store.sites.get_network("n1") == updated
    with pytest.raises(NotFound):
        await store.sites.update_network("nope", NetworkChanges(name="x"), LATER)

    await store.sites.add_site(site("s", network="n1"))
    with pytest.raises(Conflict):
        await store.sites.delete_network("n1")
    await store.sites.delete_site("s")
    await store.sites.delete_network("n1")
    assert await store.sites.get_network("n1") is None
    with pytest.raises(NotFound):
        await store.sites.delete_network("n1")


async def test_sites_check_the_hierarchy_in_the_write(store: Store) -> None:
    await store.sites.add_network(Network("n1", "N1", NOW, NOW))
    await store.sites.add_site(site("a", network="n1"))
    await store.sites.add_site(site("b", parent="a"))
    await store.sites.add_site(site("c", parent="b"))
    assert await store.sites.get_site("c") == site("c", parent="b")

    with pytest.raises(Invalid) as caught:
        await store.sites.update_site("a", SiteChanges(parent_site_id="c"), LATER)
    assert caught.value.field == "parentSiteId"
    with pytest.raises(Invalid):
        await store.sites.add_site(site("d", parent="ghost"))
    with pytest.raises(Invalid):
        await store.sites.add_site(site("d", network="ghost"))
    with pytest.raises(Conflict):
        await store.sites.add_site(site("a"))
    assert (await store.sites.get_site("a")) == site("a", network="n1")  # nothing changed
    assert await store.sites.get_site("d") is None

    moved = await store.sites.update_site("c", SiteChanges(parent_site_id="a", name="C"), LATER)
    assert (moved.parent_site_id, moved.name, moved.updated_at) == ("a", "C", LATER)
    below_a = await store.sites.list_sites(ALL, parent_site_id="a")
    assert [s.id for s in below_a.items] == ["b", "c"]
    assert [s.id for s in (await store.sites.list_sites(ALL, network_id="n1")).items] == ["a"]
    assert sorted(s.id for s in await store.sites.all_sites()) == ["a", "b", "c"]

    with pytest.raises(Conflict):
        await store.sites.delete_site("a")  # sites below it
    await add_charge_point(store, "CP")
    await store.chargers.update_charge_point("CP", ChargePointChanges(site_id="c"))
    with pytest.raises(Conflict):
        await store.sites.delete_site("c")  # a charger on it
    await add_charge_point(store, "CP-2")
    assert await store.chargers.chargers_by_site() == {"c": ["CP"], None: ["CP-2"]}


async def test_charge_points_link_to_sites_and_live_models(store: Store) -> None:
    await store.sites.add_site(site("s"))
    await store.catalogue.add_model(model("m1"))
    await add_charge_point(store, "CP-1")
    await add_charge_point(store, "CP-2")
    for changes, field in (
        (ChargePointChanges(site_id="ghost"), "siteId"),
        (ChargePointChanges(model_id="ghost"), "modelId"),
    ):
        with pytest.raises(Invalid) as caught:
            await store.chargers.update_charge_point("CP-1", changes)
        assert caught.value.field == field
    linked = await store.chargers.update_charge_point(
        "CP-1", ChargePointChanges(site_id="s", model_id="m1", external_id="E-1")
    )
    assert (linked.site_id, linked.model_id, linked.external_id) == ("s", "m1", "E-1")
    listed = await store.chargers.list_charge_points(ALL, site_ids={"s"}, model_id="m1")
    assert [cp.id for cp in listed.items] == ["CP-1"]
    assert (await store.chargers.list_charge_points(ALL, site_ids=set())).items == []

    # A boot links a charger with no model to the live model of its vendor and model, any case.
    await store.chargers.record_boot(
        "CP-2",
        ocpp_version="2.0.1",
        boot_info=BootInfo(vendor="ACME", model="volt 22"),
        status="Pending",
        at=NOW,
    )
    booted = await store.chargers.get_charge_point("CP-2")
    assert booted is not None and booted.model_id == "m1"
    assert (booted.boot_status, booted.boot_accepted) == ("Pending", False)

    archived = await store.catalogue.archive_model("m1", LATER)
    assert archived.is_archived and archived.updated_at == LATER
    kept = await store.chargers.get_charge_point("CP-1")
    assert kept is not None and kept.model_id == "m1"  # an archived model keeps its links
    with pytest.raises(Invalid, match="archived"):
        await store.chargers.update_charge_point("CP-2", ChargePointChanges(model_id="m1"))
    await store.chargers.update_charge_point("CP-2", ChargePointChanges(model_id=None))
    await store.chargers.record_boot(
        "CP-2",
        ocpp_version="2.0.1",
        boot_info=BootInfo(vendor="Acme", model="Volt 22"),
        status="Accepted",
        at=LATER,
    )
    unlinked = await store.chargers.get_charge_point("CP-2")
    assert unlinked is not None and unlinked.model_id is None and unlinked.boot_accepted


async def test_the_catalogue_keeps_vendor_and_model_unique_among_live_models(
    store: Store,
) -> None:
    first = await store.catalogue.add_model(model("m1"))
    assert await store.catalogue.get_model("m1") == first
    with pytest.raises(Conflict) as caught:
        await store.catalogue.add_model(model("m2", vendor="acme", name="VOLT 22"))
    assert caught.value.field == "model"
    with pytest.raises(Conflict) as caught:
        await store.catalogue.add_model(model("m1", name="Other"))
    assert caught.value.field == "id"
    await store.catalogue.archive_model("m1", LATER)
    await store.catalogue.add_model(model("m2"))  # the archived one no longer counts
    await store.catalogue.add_model(model("m3", vendor="Other", name="X"))

    async def ids(**filters: object) -> list[str]:
        listed = await store.catalogue.list_models(ALL, **filters)  # type: ignore[arg-type]
        return [m.id for m in listed.items]

    assert await ids() == ["m2", "m3"]
    assert await ids(is_archived=True) == ["m1"]
    assert await ids(is_archived=None) == ["m1", "m2", "m3"]
    assert await ids(vendor="ACME", is_archived=None) == ["m1", "m2"]
    assert await ids(model="x") == ["m3"]
    renamed = await store.catalogue.rename_model("m2", "The Volt", LATER)
    assert renamed.friendly_name == "The Volt" and renamed.connectors == first.connectors
    with pytest.raises(NotFound):
        await store.catalogue.rename_model("nope", None, LATER)
    with pytest.raises(NotFound):
        await store.catalogue.archive_model("nope", LATER)


async def test_evse_records_are_created_on_first_change_and_go_with_their_charger(
    store: Store,
) -> None:
    with pytest.raises(NotFound):
        await store.evses.update_evse("CP", 1, EvseChanges(label="x"), NOW)
    await add_charge_point(store, "CP")
    assert await store.evses.get_evse_record("CP", 1) is None
    record = await store.evses.update_evse(
        "CP",
        1,
        EvseChanges(label="Bay 1", current_type="ac", max_amperage=16, phases=1),
        NOW,
    )
    assert (record.label, record.current_type, record.max_amperage, record.phases) == (
        "Bay 1",
        CurrentType.AC,
        16,
        1,
    )
    record = await store.evses.update_connector_spec(
        "CP", 1, 2, ConnectorSpecChanges(type="type2", format="CABLE"), LATER
    )
    record = await store.evses.update_connector_spec(
        "CP", 1, 1, ConnectorSpecChanges(type="ccs2"), LATER
    )
    assert record.connectors == (
        ConnectorSpec(1, "ccs2", None),
        ConnectorSpec(2, "type2", "CABLE"),
    )
    record = await store.evses.update_evse("CP", 1, EvseChanges(label=None, phases=3), LATER)
    assert record.label is None and record.phases == 3 and record.max_amperage == 16
    assert record.updated_at == LATER
    await store.evses.update_connector_spec("CP", 2, 1, ConnectorSpecChanges(), LATER)
    assert [r.evse_id for r in await store.evses.list_evse_records("CP")] == [1, 2]
    assert await store.evses.get_evse_record("CP", 1) == record

    await store.chargers.delete_charge_point("CP")
    await add_charge_point(store, "CP")
    assert await store.evses.list_evse_records("CP") == []


async def test_socket_states_list_every_reported_connector(store: Store) -> None:
    await add_charge_point(store, "CP-1")
    await add_charge_point(store, "CP-2")
    await store.chargers.record_connection("CP-1", ocpp_version="1.6", connected=True, at=NOW)
    await store.chargers.record_connector_status(
        "CP-1", ConnectorState(1, 1, "Faulted", "GroundFailure", NOW)
    )
    await store.chargers.record_connector_status(
        "CP-2", ConnectorState(2, 1, "Available", "NoError", NOW)
    )
    assert sorted(await store.chargers.list_socket_states()) == [
        ("CP-1", True, 1, 1, "Faulted"),
        ("CP-2", False, 2, 1, "Available"),
    ]


async def test_transactions_filter_by_the_sites_of_their_chargers(store: Store) -> None:
    await store.sites.add_site(site("s"))
    for cp_id in ("CP-1", "CP-2"):
        await add_charge_point(store, cp_id)
    await store.chargers.update_charge_point("CP-2", ChargePointChanges(site_id="s"))
    for cp_id in ("CP-1", "CP-2"):
        await store.transactions.start_transaction(
            TransactionStart(
                charge_point_id=cp_id,
                evse_id=1,
                connector_id=1,
                id_tag="TAG",
                started_at=NOW,
                meter_start_wh=0.0,
            )
        )
    listed = await store.transactions.list_transactions(Page(10), site_ids={"s", "other"})
    assert [tx.charge_point_id for tx in listed.items] == ["CP-2"]
    assert (await store.transactions.list_transactions(Page(10), site_ids=set())).items == []
