"""Shared request dependencies: the ApiContext and cursor paging."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Path, Query, Request

from csms.api.context import ApiContext
from csms.api.schemas.base import CP_ID_MAX

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "CpId", "Ctx", "IdCursor", "Limit", "get_context"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


async def get_context(request: Request) -> ApiContext:
    # async: FastAPI runs a plain def dependency on a worker thread, a hop per request.
    return cast(ApiContext, request.app.state.ctx)


Ctx = Annotated[ApiContext, Depends(get_context)]

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}; default {DEFAULT_LIMIT}."),
]

CpId = Annotated[str, Path(max_length=CP_ID_MAX, description="The charge point's OCPP identity.")]
"""A charge point in a route's path."""

IdCursor = Annotated[
    int | None, Query(alias="startingAfter", ge=0, description="The id of the last item seen.")
]
"""The cursor of a list whose items have integer ids."""
