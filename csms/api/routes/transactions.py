"""Transactions (newest first) and their meter values (in time order).

A transaction is named by its CSMS-wide ``id`` (``tx_42``), or by the charger's ``transactionId``,
which a 2.0.1 charger chooses and which is unique only per charger: ``/transactions/{ref}``
takes either (409 ``ambiguous`` when chargers share it), ``/charge-points/{cpId}/transactions/
{transactionId}`` is always unambiguous.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from csms.api.context import ApiContext
from csms.api.deps import DEFAULT_LIMIT, CpId, Ctx, Limit
from csms.api.errors import ApiError
from csms.api.schemas.base import Envelope, ItemPage
from csms.api.schemas.transactions import MeterValueOut, TransactionOut
from csms.domain.paging import Page
from csms.domain.transactions import Transaction, transaction_pk

__all__ = ["router"]

router = APIRouter(tags=["transactions"])

Ref = Annotated[
    str,
    Path(max_length=64, description="The transaction's `id`, or a charger's `transactionId`."),
]
TransactionId = Annotated[
    str, Path(max_length=64, description="The charger's transactionId (1.6: an integer).")
]
SampleCursor = Annotated[
    int | None,
    Query(alias="startingAfter", ge=0, description="The id of the last sample seen."),
]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@router.get("/transactions", summary="List transactions, newest first")
async def list_transactions(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        str | None,
        Query(alias="startingAfter", description="The id of the last item seen (`tx_...`)."),
    ] = None,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId")] = None,
    active: Annotated[
        bool | None, Query(description="Only active (true) or completed (false) transactions.")
    ] = None,
    id_tag: Annotated[str | None, Query(alias="idTag")] = None,
    start: Annotated[
        datetime | None,
        Query(description="With `end`: transactions overlapping the window (no offset: UTC)."),
    ] = None,
    end: Annotated[datetime | None, Query(description="The window's end (exclusive).")] = None,
    site_id: Annotated[
        str | None,
        Query(
            alias="siteId",
            max_length=64,
            description="Of chargers now on this site or a site below it.",
        ),
    ] = None,
) -> Envelope[ItemPage[TransactionOut]]:
    cursor = None
    if starting_after is not None:
        cursor = transaction_pk(starting_after)
        if cursor is None:
            raise ApiError(
                422,
                "validation_error",
                f"startingAfter must be a transaction id such as tx_42, not {starting_after!r}",
            )
    start, end = _utc(start), _utc(end)
    if start is not None and end is not None and end <= start:
        raise ApiError(422, "validation_error", "end must be after start")
    transactions = await ctx.transactions.list_transactions(
        Page(limit, cursor),
        cp_id=charge_point_id,
        active=active,
        id_tag=id_tag,
        start=start,
        end=end,
        site_ids=await ctx.sites.scope(site_id=site_id),
    )
    return Envelope(data=ItemPage.of(transactions, TransactionOut.from_domain))


@router.get("/transactions/{ref}", summary="One transaction, by id or transactionId")
async def get_transaction(ctx: Ctx, ref: Ref) -> Envelope[TransactionOut]:
    return Envelope(data=TransactionOut.from_domain(await ctx.transactions.find(ref)))


@router.get(
    "/transactions/{ref}/meter-values",
    summary="The transaction's meter samples in time order, paged by id",
)
async def list_meter_values(
    ctx: Ctx, ref: Ref, limit: Limit = DEFAULT_LIMIT, starting_after: SampleCursor = None
) -> Envelope[ItemPage[MeterValueOut]]:
    return await _samples(ctx, await ctx.transactions.find(ref), limit, starting_after)


@router.get(
    "/charge-points/{cp_id}/transactions/{transaction_id}",
    summary="One transaction of a charge point, by the charger's transactionId",
)
async def get_charger_transaction(
    ctx: Ctx, cp_id: CpId, transaction_id: TransactionId
) -> Envelope[TransactionOut]:
    found = await ctx.transactions.of_charger(cp_id, transaction_id)
    return Envelope(data=TransactionOut.from_domain(found))


@router.get(
    "/charge-points/{cp_id}/transactions/{transaction_id}/meter-values",
    summary="The meter samples of a charge point's transaction, in time order",
)
async def list_charger_meter_values(
    ctx: Ctx,
    cp_id: CpId,
    transaction_id: TransactionId,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: SampleCursor = None,
) -> Envelope[ItemPage[MeterValueOut]]:
    found = await ctx.transactions.of_charger(cp_id, transaction_id)
    return await _samples(ctx, found, limit, starting_after)


async def _samples(
    ctx: ApiContext, transaction: Transaction, limit: int, starting_after: int | None
) -> Envelope[ItemPage[MeterValueOut]]:
    samples = await ctx.transactions.meter_samples(transaction, Page(limit, starting_after))
    return Envelope(data=ItemPage.of(samples, lambda row: MeterValueOut.from_domain(*row)))
