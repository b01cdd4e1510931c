"""Transactions (newest first) and their meter values (in time order)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit, split_page
from csms.api.errors import ApiError
from csms.api.schemas import Envelope, ItemPage, MeterValueOut, TransactionOut
from csms.store.base import Page

__all__ = ["router"]

router = APIRouter(prefix="/transactions", tags=["transactions"])


@router.get("", summary="List transactions, newest first")
async def list_transactions(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        str | None,
        Query(alias="startingAfter", description="The transactionId of the last item seen."),
    ] = None,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId")] = None,
    active: Annotated[
        bool | None, Query(description="Only active (true) or completed (false) transactions.")
    ] = None,
    id_tag: Annotated[str | None, Query(alias="idTag")] = None,
) -> Envelope[ItemPage[TransactionOut]]:
    rows = await ctx.transactions.list_transactions(
        Page(limit=limit + 1, starting_after=starting_after),
        cp_id=charge_point_id,
        active=active,
        id_tag=id_tag,
    )
    page, has_more = split_page(rows, limit)
    return Envelope(
        data=ItemPage(items=[TransactionOut.from_domain(tx) for tx in page], has_more=has_more)
    )


@router.get("/{transaction_id}", summary="One transaction, with its energy")
async def get_transaction(ctx: Ctx, transaction_id: str) -> Envelope[TransactionOut]:
    tx = await ctx.transactions.get(transaction_id)
    if tx is None:
        raise ApiError(404, "not_found", f"transaction {transaction_id!r} not found")
    return Envelope(data=TransactionOut.from_domain(tx))


@router.get(
    "/{transaction_id}/meter-values",
    summary="The transaction's meter samples in time order, paged by id",
)
async def list_meter_values(
    ctx: Ctx,
    transaction_id: str,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        int | None,
        Query(alias="startingAfter", ge=0, description="The id of the last sample seen."),
    ] = None,
) -> Envelope[ItemPage[MeterValueOut]]:
    # The store raises NotFound for an unknown transaction.
    rows = await ctx.transactions.meter_samples(
        transaction_id, limit=limit + 1, starting_after=starting_after
    )
    page, has_more = split_page(rows, limit)
    return Envelope(
        data=ItemPage(
            items=[MeterValueOut.from_domain(sample_id, sample) for sample_id, sample in page],
            has_more=has_more,
        )
    )
