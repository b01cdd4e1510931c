"""Webhooks (admin-only): subscriptions, their secret's rotation and their attempts log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from csms.api.auth import require_admin
from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.schemas.base import Envelope, ItemPage
from csms.api.schemas.webhooks import (
    DeliveryOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)
from csms.domain.paging import Page
from csms.domain.updates import UNSET

__all__ = ["router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"], dependencies=[Depends(require_admin)])

WebhookId = Annotated[str, Path(max_length=64, description="The webhook's id (`wh_...`).")]


@router.get("", summary="List webhooks (ordered by id; admin only)")
async def list_webhooks(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        str | None, Query(alias="startingAfter", description="The id of the last item seen.")
    ] = None,
) -> Envelope[ItemPage[WebhookOut]]:
    webhooks = await ctx.webhooks.list_webhooks(Page(limit, starting_after))
    return Envelope(data=ItemPage.of(webhooks, WebhookOut.from_domain))


@router.post(
    "",
    status_code=201,
    summary="Create a webhook (admin only); its secret is in this answer only",
)
async def create_webhook(ctx: Ctx, body: WebhookCreate) -> Envelope[WebhookWithSecret]:
    created = await ctx.webhooks.create(body.url, body.events, body.description, body.enabled)
    return Envelope(data=WebhookWithSecret.with_secret(created))


@router.get("/{webhook_id}", summary="A webhook (admin only; without its secret)")
async def get_webhook(ctx: Ctx, webhook_id: WebhookId) -> Envelope[WebhookOut]:
    return Envelope(data=WebhookOut.from_domain(await ctx.webhooks.get(webhook_id)))


@router.patch(
    "/{webhook_id}",
    summary="Change a webhook (admin only); enabling it again resumes its pending events",
)
async def update_webhook(
    ctx: Ctx, webhook_id: WebhookId, body: WebhookUpdate
) -> Envelope[WebhookOut]:
    present = body.model_fields_set
    updated = await ctx.webhooks.update(
        webhook_id,
        url=body.url if "url" in present else UNSET,
        events=body.events if "events" in present else UNSET,
        enabled=body.enabled if "enabled" in present else UNSET,
        description=body.description if "description" in present else UNSET,
    )
    return Envelope(data=WebhookOut.from_domain(updated))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a webhook (admin only) with its undelivered events and attempts log",
)
async def delete_webhook(ctx: Ctx, webhook_id: WebhookId) -> Response:
    await ctx.webhooks.delete(webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    summary="Give a webhook a new secret (admin only); in this answer only, in use at once",
)
async def rotate_secret(ctx: Ctx, webhook_id: WebhookId) -> Envelope[WebhookWithSecret]:
    rotated = await ctx.webhooks.rotate_secret(webhook_id)
    return Envelope(data=WebhookWithSecret.with_secret(rotated))


@router.get(
    "/{webhook_id}/deliveries",
    summary="A webhook's delivery attempts, newest first (admin only; kept 30 days)",
)
async def list_deliveries(
    ctx: Ctx,
    webhook_id: WebhookId,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        int | None,
        Query(alias="startingAfter", ge=0, description="The id of the last attempt seen."),
    ] = None,
) -> Envelope[ItemPage[DeliveryOut]]:
    deliveries = await ctx.webhooks.deliveries(webhook_id, Page(limit, starting_after))
    return Envelope(data=ItemPage.of(deliveries, DeliveryOut.from_domain))
