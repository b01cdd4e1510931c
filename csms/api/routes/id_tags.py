"""The id-tags table that answers chargers' Authorize / StartTransaction / TransactionEvent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.errors import ApiError
from csms.api.schemas.base import ID_TAG_MAX, Envelope, ItemPage
from csms.api.schemas.id_tags import USER_ID_MAX, IdTagCreate, IdTagOut, IdTagUpdate
from csms.domain.models import IdTagStatus
from csms.domain.paging import Page
from csms.domain.updates import UNSET, IdTagChanges

__all__ = ["router"]

router = APIRouter(prefix="/id-tags", tags=["id-tags"])

Uid = Annotated[str, Path(max_length=ID_TAG_MAX, description="The token value.")]


@router.get("", summary="List id-tags (ordered by idTagUid)")
async def list_id_tags(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        str | None, Query(alias="startingAfter", description="The idTagUid of the last item seen.")
    ] = None,
    user_id: Annotated[
        str | None,
        Query(
            alias="userId",
            max_length=USER_ID_MAX,
            description="Only the tags of this user (exact, case-sensitive match).",
        ),
    ] = None,
    status: Annotated[
        IdTagStatus | None,
        Query(description="Only the tags with this status: enabled, disabled or blocked."),
    ] = None,
) -> Envelope[ItemPage[IdTagOut]]:
    id_tags = await ctx.id_tags.list_id_tags(
        Page(limit, starting_after), user_id=user_id, status=status
    )
    return Envelope(data=ItemPage.of(id_tags, IdTagOut.from_domain))


@router.post("", status_code=201, summary="Add an id-tag")
async def add_id_tag(ctx: Ctx, body: IdTagCreate) -> Envelope[IdTagOut]:
    return Envelope(data=IdTagOut.from_domain(await ctx.id_tags.add(body.to_domain())))


@router.get("/{uid}", summary="One id-tag")
async def get_id_tag(ctx: Ctx, uid: Uid) -> Envelope[IdTagOut]:
    tag = await ctx.id_tags.get(uid)
    if tag is None:
        raise ApiError(404, "not_found", f"id-tag {uid!r} not found")
    return Envelope(data=IdTagOut.from_domain(tag))


@router.patch(
    "/{uid}",
    summary="Change an id-tag (null clears a field: expireAt, type, userId, ...)",
)
async def update_id_tag(ctx: Ctx, uid: Uid, body: IdTagUpdate) -> Envelope[IdTagOut]:
    present = body.model_fields_set
    changes = IdTagChanges(
        status=body.status.value if "status" in present else UNSET,
        type=body.type if "type" in present else UNSET,
        expire_at=body.expire_at if "expire_at" in present else UNSET,
        parent_id_tag=body.parent_id_tag if "parent_id_tag" in present else UNSET,
        label=body.label if "label" in present else UNSET,
        user_id=body.user_id if "user_id" in present else UNSET,
        external_id=body.external_id if "external_id" in present else UNSET,
    )
    return Envelope(data=IdTagOut.from_domain(await ctx.id_tags.update(uid, changes)))


@router.delete("/{uid}", status_code=204, response_class=Response, summary="Delete an id-tag")
async def delete_id_tag(ctx: Ctx, uid: Uid) -> Response:
    await ctx.id_tags.delete(uid)
    return Response(status_code=204)
