"""Readiness: answers 200 as soon as the API is up; no token needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from csms.api.deps import Ctx
from csms.api.schemas.base import HealthOut

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", summary="Readiness and the number of connected chargers")
async def health(ctx: Ctx) -> HealthOut:
    return HealthOut(status="ok", chargers_connected=len(ctx.sessions), version=ctx.version)


@router.get(
    "/metrics", summary="Prometheus metrics (text exposition format)", response_class=Response
)
async def metrics(ctx: Ctx) -> Response:
    return Response(ctx.metrics(), media_type="text/plain; version=0.0.4; charset=utf-8")
