"""The monitoring queries' store contract, on both backends: every stored meter sample by charger
and time window, and a charger's reports newest first."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import pytest

from csms.domain.assets import Site
from csms.domain.errors import Invalid
from csms.domain.models import MeterSample, StoredSample
from csms.domain.paging import Page
from csms.domain.transactions import TransactionStart
from csms.store.repositories import Store
from tests.store.conftest import NOW

WINDOW_END = NOW + timedelta(hours=1)


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def energy(minutes: float, value: str = "1", **kind: str | None) -> MeterSample:
    return MeterSample(at(minutes), value, **kind)  # type: ignore[arg-type]


async def add_charger(store: Store, cp_id: str, site_id: str | None = None) -> None:
    await store.chargers.add_charge_point(
        cp_id,
        name=None,
        password_hash=None,
        security_profile=0,
        site_id=site_id,
        created_at=NOW,
    )


async def read_all(
    store: Store,
    limit: int,
    *,
    start: datetime = NOW,
    end: datetime = WINDOW_END,
    cp_id: str | None = None,
    site_ids: Collection[str] | None = None,
    evse_id: int | None = None,
    measurand: str | None = None,
) -> list[StoredSample]:
    """Every page, following the cursor."""
    found: list[StoredSample] = []
    cursor: int | None = None
    while True:
        page = await store.transactions.query_meter_values(
            Page(limit, cursor),
            start=start,
            end=end,
            cp_id=cp_id,
            site_ids=site_ids,
            evse_id=evse_id,
            measurand=measurand,
        )
        found += page.items
        assert len(page.items) <= limit
        if not page.has_more:
            return found
        cursor = page.items[-1].id


def keys(samples: list[StoredSample]) -> list[tuple[str, float, int, str]]:
    return [
        (
            s.charge_point_id,
            (s.sample.timestamp - NOW) / timedelta(minutes=1),
            s.evse_id,
            s.sample.value,
        )
        for s in samples
    ]


@pytest.fixture
async def fleet(store: Store) -> Store:
    """Three chargers: A and B on site s1, C on s2; samples in and out of transactions, sent out
    of time order, on both sides of the window [NOW, NOW + 1 h)."""
    await store.sites.add_site(Site("s1", "S1", "site", NOW, NOW))
    await store.sites.add_site(Site("s2", "S2", "site", NOW, NOW))
    await add_charger(store, "CP-A", "s1")
    await add_charger(store, "CP-B", "s1")
    await add_charger(store, "CP-C", "s2")
    tx = store.transactions
    await tx.add_meter_values("CP-B", 1, 1, None, [energy(30, "b30"), energy(-1, "before")])
    await tx.add_meter_values("CP-A", 2, 0, None, [energy(10, "a10"), energy(60, "at-end")])
    await tx.start_transaction(TransactionStart("CP-A", 1, 1, "TAG", at(0), 0.0), [energy(0, "a0")])
    await tx.add_meter_values(
        "CP-A",
        1,
        1,
        None,  # attached to the running transaction on this EVSE
        [energy(5, "a5"), energy(5, "a5-power", measurand="Power.Active.Import", unit="W")],
    )
    await tx.add_meter_values("CP-C", 1, 1, None, [energy(59.99, "c")])
    return store


async def test_samples_of_every_charger_by_charger_then_time(fleet: Store) -> None:
    everything = await read_all(fleet, 100)
    assert keys(everything) == [
        ("CP-A", 0, 1, "a0"),
        ("CP-A", 5, 1, "a5"),
        ("CP-A", 5, 1, "a5-power"),
        ("CP-A", 10, 2, "a10"),
        ("CP-B", 30, 1, "b30"),
        ("CP-C", 59.99, 1, "c"),
    ]
    a0, a5, a5_power, a10 = everything[:4]
    # In a transaction or not; the charger's transactionId (1.6: the key as a string).
    assert a0.transaction_id == a5.transaction_id == a5_power.transaction_id
    assert a0.transaction_id is not None and a10.transaction_id is None
    assert (a10.evse_id, a10.connector_id) == (2, 0)
    assert a5_power.sample == MeterSample(
        at(5), "a5-power", measurand="Power.Active.Import", unit="W"
    )
    # Every page size gives the same list.
    for limit in (1, 2, 3, 5):
        assert await read_all(fleet, limit) == everything


async def test_one_charger_and_filters(fleet: Store) -> None:
    assert [s.sample.value for s in await read_all(fleet, 2, cp_id="cp-a")] == [
        "a0",
        "a5",
        "a5-power",
        "a10",
    ]
    assert [s.sample.value for s in await read_all(fleet, 1, cp_id="CP-A", evse_id=2)] == ["a10"]
    power = await read_all(fleet, 1, measurand="Power.Active.Import")
    assert [s.sample.value for s in power] == ["a5-power"]
    assert await read_all(fleet, 10, cp_id="CP-NONE") == []
    assert await read_all(fleet, 10, measurand="Voltage") == []


async def test_the_window_includes_its_start_and_excludes_its_end(fleet: Store) -> None:
    values = [s.sample.value for s in await read_all(fleet, 10, start=at(5), end=at(30))]
    assert values == ["a5", "a5-power", "a10"]
    values = [s.sample.value for s in await read_all(fleet, 10, start=at(-1), end=at(60.001))]
    assert values == ["a0", "a5", "a5-power", "a10", "at-end", "before", "b30", "c"]


async def test_sites_scope_the_chargers(fleet: Store) -> None:
    in_s1 = await read_all(fleet, 2, site_ids={"s1"})
    assert {s.charge_point_id for s in in_s1} == {"CP-A", "CP-B"}
    assert [s.charge_point_id for s in await read_all(fleet, 2, site_ids={"s2"})] == ["CP-C"]
    assert await read_all(fleet, 2, site_ids=set()) == []
    assert len(await read_all(fleet, 2, site_ids={"s1", "s2"})) == 6


async def test_a_cursor_must_be_a_sample_of_the_query(fleet: Store) -> None:
    query = fleet.transactions.query_meter_values
    of_c = (await read_all(fleet, 10, cp_id="CP-C"))[0].id
    with pytest.raises(Invalid) as caught:
        await query(Page(10, of_c), start=NOW, end=WINDOW_END, cp_id="CP-A")
    assert caught.value.field == "startingAfter"
    with pytest.raises(Invalid):
        await query(Page(10, of_c), start=NOW, end=WINDOW_END, site_ids={"s1"})
    with pytest.raises(Invalid):
        await query(Page(10, 10**9), start=NOW, end=WINDOW_END)
    # The last sample of a charger: nothing follows on that charger.
    last = await query(Page(10, of_c), start=NOW, end=WINDOW_END, cp_id="cp-c")
    assert (last.items, last.has_more) == ([], False)


async def test_a_deleted_chargers_samples_stay_readable_by_its_id(fleet: Store) -> None:
    await fleet.chargers.delete_charge_point("CP-C")
    assert [s.sample.value for s in await read_all(fleet, 10, cp_id="CP-C")] == ["c"]
    # The other scopes are chargers that exist.
    assert "CP-C" not in {s.charge_point_id for s in await read_all(fleet, 10)}


async def test_the_stored_sample_key_still_refuses_duplicates(fleet: Store) -> None:
    again = await fleet.transactions.add_meter_values(
        "CP-A", 2, 0, None, [energy(10, "a10"), energy(11, "new")]
    )
    assert again == 1


# --- charger reports ---------------------------------------------------------------------------


async def page_all(
    store: Store, cp_id: str, kinds: Collection[str], limit: int, **window: datetime
) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    cursor: int | None = None
    while True:
        page = await store.reports.page_charger_reports(cp_id, kinds, Page(limit, cursor), **window)
        found += [(r.id, r.data["n"]) for r in page.items]
        if not page.has_more:
            return found
        cursor = page.items[-1].id


async def test_reports_page_newest_first_by_the_chargers_time(store: Store) -> None:
    reports = store.reports
    await reports.add_charger_report("CP", "event", at(1), {"n": "e1"}, received_at=at(50))
    await reports.add_charger_reports(
        "CP",
        "event",
        [(at(3), {"n": "e3"}), (at(2), {"n": "e2"}), (at(3), {"n": "e3-again"})],
        received_at=at(51),
    )
    await reports.add_charger_report("CP", "status_error", at(2.5), {"n": "s2.5"})
    await reports.add_charger_report("CP", "security_event", at(4), {"n": "sec"})
    await reports.add_charger_report("CP-OTHER", "event", at(5), {"n": "other"})
    expected = ["e3-again", "e3", "s2.5", "e2", "e1"]  # ties: the last stored first
    for limit in (1, 2, 5, 10):
        found = await page_all(store, "cp", ("event", "status_error"), limit)
        assert [n for _, n in found] == expected
    for limit in (1, 2):
        window = await page_all(
            store, "CP", ("event", "status_error"), limit, start=at(2), end=at(3)
        )
        assert [n for _, n in window] == ["s2.5", "e2"]
    # A cursor after the window's end: the end still holds.
    newest = (await reports.page_charger_reports("CP", ("event",), Page(1))).items[0]
    below = await reports.page_charger_reports(
        "CP", ("event", "status_error"), Page(10, newest.id), end=at(2.5)
    )
    assert [r.data["n"] for r in below.items] == ["e2", "e1"]
    first = await reports.page_charger_reports("CP", ("event",), Page(1))
    assert first.items[0].received_at == at(51) and first.has_more
    (oldest,) = (await reports.page_charger_reports("CP", ("event",), Page(1), end=at(2))).items
    assert (oldest.timestamp, oldest.received_at) == (at(1), at(50))


async def test_a_report_cursor_must_be_one_of_the_list(store: Store) -> None:
    await store.reports.add_charger_report("CP", "security_event", at(1), {"n": "sec"})
    await store.reports.add_charger_report("CP-2", "event", at(1), {"n": "other"})
    (security,) = (
        await store.reports.page_charger_reports("CP", ("security_event",), Page())
    ).items
    (other,) = (await store.reports.page_charger_reports("CP-2", ("event",), Page())).items
    for cp_id, kind, cursor in (("CP", "event", security.id), ("CP", "event", other.id)):
        with pytest.raises(Invalid) as caught:
            await store.reports.page_charger_reports(cp_id, (kind,), Page(10, cursor))
        assert caught.value.field == "startingAfter"
    after = await store.reports.page_charger_reports(
        "CP", ("security_event",), Page(10, security.id)
    )
    assert (after.items, after.has_more) == ([], False)
