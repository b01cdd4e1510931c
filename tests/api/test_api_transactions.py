"""Transactions and their meter values, written through the service, read through the API."""

from __future__ import annotations

from datetime import timedelta

import httpx

from csms.domain.models import MeterSample
from csms.domain.transactions import TransactionEvent, TransactionStart, TransactionStop
from tests.api.conftest import T0, ApiHarness

TX_KEYS = {
    "id",
    "priority",
    "transactionId",
    "chargePointId",
    "evseId",
    "connectorId",
    "idTag",
    "status",
    "startedAt",
    "stoppedAt",
    "meterStartWh",
    "meterStopWh",
    "energyWh",
    "stopReason",
}
SAMPLE_KEYS = {"id", "timestamp", "measurand", "phase", "unit", "value", "context", "location"}


async def _start(
    harness: ApiHarness, cp_id: str, id_tag: str, minute: int, transaction_id: str | None = None
) -> str:
    """A 1.6 StartTransaction, or with ``transaction_id`` a 2.0.1 TransactionEvent Started;
    returns the transaction's CSMS-wide id."""
    started_at = T0 + timedelta(minutes=minute)
    if transaction_id is None:
        tx = await harness.ctx.transactions.start(
            TransactionStart(
                charge_point_id=cp_id,
                evse_id=1,
                connector_id=1,
                id_tag=id_tag,
                started_at=started_at,
                meter_start_wh=1000.0,
            )
        )
        return tx.id
    outcome = await harness.ctx.transactions.record_event(
        TransactionEvent(
            charge_point_id=cp_id,
            transaction_id=transaction_id,
            event_type="Started",
            seq_no=0,
            timestamp=started_at,
            trigger_reason="Authorized",
            evse_id=1,
            connector_id=1,
            id_tag=id_tag,
            energy_register_wh=1000.0,
        ),
        [MeterSample(started_at, "1000")],
    )
    return outcome.transaction.id


async def _transaction_id(api: httpx.AsyncClient, ref: str) -> str:
    response = await api.get(f"/api/v1/transactions/{ref}")
    assert response.status_code == 200, response.text
    transaction_id: str = response.json()["data"]["transactionId"]
    return transaction_id


async def test_transaction_shape_and_energy(harness: ApiHarness, api: httpx.AsyncClient) -> None:
    ref = await _start(harness, "CP-1", "TAG-1", 0)
    tx_id = await _transaction_id(api, ref)
    response = await api.get(f"/api/v1/transactions/{tx_id}")
    assert response.status_code == 200
    tx = response.json()["data"]
    assert set(tx) == TX_KEYS
    assert tx["id"] == ref and ref.startswith("tx_") and not ref.isdigit()
    assert tx["transactionId"] == tx_id and tx_id.isdigit()
    assert tx["status"] == "active" and tx["stoppedAt"] is None and tx["energyWh"] is None
    assert tx["startedAt"] == "2025-03-01T12:00:00.123Z"
    assert tx["meterStartWh"] == 1000.0

    await harness.ctx.transactions.stop(
        TransactionStop(
            charge_point_id="CP-1",
            transaction_id=tx_id,
            stopped_at=T0 + timedelta(hours=1),
            meter_stop_wh=8500.5,
            reason="EVDisconnected",
        )
    )
    tx = (await api.get(f"/api/v1/transactions/{tx_id}")).json()["data"]
    assert tx["status"] == "completed"
    assert tx["stoppedAt"] == "2025-03-01T13:00:00.123Z"
    assert tx["meterStopWh"] == 8500.5 and tx["energyWh"] == 7500.5
    assert tx["stopReason"] == "EVDisconnected"
    assert tx["chargePointId"] == "CP-1" and tx["evseId"] == 1 and tx["connectorId"] == 1
    assert tx["idTag"] == "TAG-1"

    response = await api.get("/api/v1/transactions/999999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_list_newest_first_with_filters_and_paging(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    ids = [
        await _start(harness, "CP-1", "TAG-A", 0),
        await _start(harness, "CP-2", "TAG-B", 1, transaction_id="uuid-201-a"),
        await _start(harness, "CP-1", "TAG-B", 2),
        await _start(harness, "CP-2", "TAG-A", 3, transaction_id="uuid-201-b"),
    ]
    await harness.ctx.transactions.stop(
        TransactionStop(
            charge_point_id="CP-1",
            transaction_id=await _transaction_id(api, ids[0]),
            stopped_at=T0 + timedelta(minutes=9),
            meter_stop_wh=2000.0,
            reason=None,
        )
    )

    async def listed(**params: str | int) -> tuple[list[str], bool]:
        response = await api.get("/api/v1/transactions", params=params)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        return [tx["id"] for tx in data["items"]], data["hasMore"]

    assert await listed() == (ids[::-1], False)
    assert await listed(limit=2) == ([ids[3], ids[2]], True)
    assert await listed(limit=2, startingAfter=ids[2]) == ([ids[1], ids[0]], False)
    assert await listed(chargePointId="CP-2") == ([ids[3], ids[1]], False)
    assert await listed(active="false") == ([ids[0]], False)
    assert await listed(active="true", idTag="TAG-B") == ([ids[2], ids[1]], False)
    # Overlapping a window: ids[0] ran 12:00-12:09, the others are still active.
    assert await listed(start="2025-03-01T12:10:00Z") == (ids[:0:-1], False)
    assert await listed(end="2025-03-01T12:01:00Z") == ([ids[0]], False)
    response = await api.get(
        "/api/v1/transactions", params={"start": "2025-03-01T12:05:00Z", "end": "2025-03-01T12:05Z"}
    )
    assert response.status_code == 422
    assert (await api.get("/api/v1/transactions?limit=0")).status_code == 422
    response = await api.get("/api/v1/transactions", params={"startingAfter": "17"})
    assert response.status_code == 422
    assert "tx_42" in response.json()["error"]["message"]
    # ?siteId=: transactions of the chargers now on that site or below it.
    for body in ({"id": "top", "name": "Top"}, {"id": "s", "name": "S", "parentSiteId": "top"}):
        assert (await api.post("/api/v1/sites", json=body)).status_code == 201
    await harness.register("CP-2", siteId="s")
    assert await listed(siteId="top") == ([ids[3], ids[1]], False)
    assert await listed(siteId="s", idTag="TAG-A") == ([ids[3]], False)
    assert await listed(siteId="nowhere") == ([], False)


async def test_meter_values_in_time_order_with_numbers(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    ref = await _start(harness, "CP-1", "TAG-1", 0)
    tx_id = await _transaction_id(api, ref)
    t = T0 + timedelta(minutes=1)
    await harness.ctx.transactions.meter_values(
        "CP-1",
        1,
        1,
        tx_id,
        [
            MeterSample(timestamp=t + timedelta(seconds=2), value="1500.25"),
            MeterSample(timestamp=t, value="1200"),
            MeterSample(
                timestamp=t + timedelta(seconds=1),
                value="16.5",
                measurand="Current.Import",
                unit="A",
                phase="L1",
            ),
            MeterSample(
                timestamp=t + timedelta(seconds=3),
                value="AbCd==",
                format="SignedData",
                measurand="Energy.Active.Import.Register",
            ),
            MeterSample(
                timestamp=t + timedelta(seconds=4),
                value="n/a",
                measurand="SoC",
                unit="Percent",
                context="Transaction.End",
                location="EV",
            ),
        ],
    )

    response = await api.get(f"/api/v1/transactions/{tx_id}/meter-values")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["hasMore"] is False
    items = data["items"]
    assert all(set(item) == SAMPLE_KEYS for item in items)
    assert [item["timestamp"] for item in items] == [
        "2025-03-01T12:01:00.123Z",
        "2025-03-01T12:01:01.123Z",
        "2025-03-01T12:01:02.123Z",
        "2025-03-01T12:01:03.123Z",
        "2025-03-01T12:01:04.123Z",
    ]
    assert [item["value"] for item in items] == [1200.0, 16.5, 1500.25, "AbCd==", "n/a"]
    assert isinstance(items[0]["value"], float)
    assert items[0]["phase"] is None and items[1]["phase"] == "L1"
    assert items[1]["measurand"] == "Current.Import" and items[1]["unit"] == "A"
    assert items[4]["context"] == "Transaction.End" and items[4]["location"] == "EV"


async def test_meter_values_paging_and_errors(harness: ApiHarness, api: httpx.AsyncClient) -> None:
    ref = await _start(harness, "CP-1", "TAG-1", 0)
    tx_id = await _transaction_id(api, ref)
    await harness.ctx.transactions.meter_values(
        "CP-1",
        1,
        1,
        tx_id,
        [MeterSample(timestamp=T0 + timedelta(seconds=i), value=str(1000 + i)) for i in range(5)],
    )
    url = f"/api/v1/transactions/{ref}/meter-values"
    first = (await api.get(url, params={"limit": 2})).json()["data"]
    assert [item["value"] for item in first["items"]] == [1000.0, 1001.0]
    assert first["hasMore"] is True
    rest = (
        await api.get(url, params={"limit": 10, "startingAfter": first["items"][-1]["id"]})
    ).json()["data"]
    assert [item["value"] for item in rest["items"]] == [1002.0, 1003.0, 1004.0]
    assert rest["hasMore"] is False

    response = await api.get(url, params={"startingAfter": "abc"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["field"] == "startingAfter"
    response = await api.get("/api/v1/transactions/nope/meter-values")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_chargers_sharing_a_transaction_id_never_hide_each_other(
    harness: ApiHarness, api: httpx.AsyncClient
) -> None:
    """2.0.1 chargers choose their own transactionIds: two may both count 1, 2, 3."""
    first = await _start(harness, "CP-A", "TAG-A", 0, transaction_id="1")
    second = await _start(harness, "CP-B", "TAG-B", 1, transaction_id="1")
    only = await _start(harness, "CP-A", "TAG-A", 2, transaction_id="2")
    assert len({first, second, only}) == 3

    response = await api.get("/api/v1/transactions/1")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "ambiguous"
    assert sorted(error["details"]["candidates"]) == sorted([first, second])
    response = await api.get("/api/v1/transactions/1/meter-values")
    assert response.status_code == 409

    # Unambiguous: by id, by charger, or a transactionId only one charger uses.
    for url, expected in [
        (f"/api/v1/transactions/{first}", ("CP-A", "TAG-A")),
        (f"/api/v1/transactions/{second}", ("CP-B", "TAG-B")),
        ("/api/v1/charge-points/CP-B/transactions/1", ("CP-B", "TAG-B")),
        ("/api/v1/charge-points/cp-a/transactions/1", ("CP-A", "TAG-A")),
        ("/api/v1/transactions/2", ("CP-A", "TAG-A")),
    ]:
        response = await api.get(url)
        assert response.status_code == 200, (url, response.text)
        tx = response.json()["data"]
        assert (tx["chargePointId"], tx["idTag"]) == expected, url
    assert (await api.get("/api/v1/charge-points/CP-B/transactions/2")).status_code == 404
    assert (await api.get("/api/v1/transactions/tx_999999")).status_code == 404

    await harness.ctx.transactions.meter_values(
        "CP-B", 1, 1, "1", [MeterSample(T0 + timedelta(minutes=5), "1500")]
    )
    for url in (
        "/api/v1/charge-points/CP-B/transactions/1/meter-values",
        f"/api/v1/transactions/{second}/meter-values",
    ):
        items = (await api.get(url)).json()["data"]["items"]
        assert [item["value"] for item in items] == [1000.0, 1500.0], url
    items = (await api.get(f"/api/v1/transactions/{first}/meter-values")).json()["data"]["items"]
    assert [item["value"] for item in items] == [1000.0]
