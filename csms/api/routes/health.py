"""Readiness: answers 200 as soon as the API is up; no token needed."""

from __future__ import annotations

from fastapi import APIRouter

from csms.api.deps import Ctx
from csms.api.schemas import HealthOut

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", summary="Readiness and the number of connected chargers")
async def health(ctx: Ctx) -> HealthOut:
    return HealthOut(status="ok", chargers_connected=len(ctx.sessions), version=ctx.version)
