"""Who is calling: the caller's own token (its role tells a client what it may do)."""

from __future__ import annotations

from fastapi import APIRouter

from csms.api.auth import Caller
from csms.api.schemas.api_tokens import CallerOut
from csms.api.schemas.base import Envelope

__all__ = ["router"]

router = APIRouter(tags=["api-tokens"])


@router.get(
    "/me",
    summary="The caller's own token: id, role, label, expiry",
    description="Any role. What a client shows or hides follows `role`: a `viewer` may only "
    "read. A token that is missing, invalid, expired or revoked is a 401 here as everywhere, "
    "so this is also the way to check a token.",
)
async def me(caller: Caller) -> Envelope[CallerOut]:
    return Envelope(data=CallerOut.from_domain(caller))
