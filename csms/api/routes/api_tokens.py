"""API tokens (admin-only): list, create (the token is shown once), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from csms.api.auth import require_admin
from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.schemas.api_tokens import ApiTokenCreate, ApiTokenCreated, ApiTokenOut
from csms.api.schemas.base import Envelope, ItemPage
from csms.domain.models import TokenSource
from csms.domain.paging import Page

__all__ = ["router"]

router = APIRouter(prefix="/api-tokens", tags=["api-tokens"], dependencies=[Depends(require_admin)])

TokenId = Annotated[str, Path(max_length=64, description="The token's id (`tok_...`).")]


@router.get("", summary="List API tokens (ordered by id; admin only)")
async def list_api_tokens(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        str | None, Query(alias="startingAfter", description="The id of the last item seen.")
    ] = None,
) -> Envelope[ItemPage[ApiTokenOut]]:
    tokens = await ctx.api_tokens.list_api_tokens(Page(limit, starting_after))
    return Envelope(data=ItemPage.of(tokens, ApiTokenOut.from_domain))


@router.post(
    "",
    status_code=201,
    summary="Create an API token (admin only); the token is in this answer only",
)
async def create_api_token(ctx: Ctx, body: ApiTokenCreate) -> Envelope[ApiTokenCreated]:
    created = await ctx.api_tokens.create(
        body.label, body.role, body.expires_at, source=TokenSource.API
    )
    return Envelope(data=ApiTokenCreated.with_token(created.record, created.token))


@router.delete(
    "/{token_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API token (admin only); it stops working at once",
)
async def revoke_api_token(ctx: Ctx, token_id: TokenId) -> Response:
    await ctx.api_tokens.revoke(token_id)
    return Response(status_code=204)
