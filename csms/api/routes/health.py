"""Readiness (no token needed) and the Prometheus metrics (a token of any role, unless
``[api] public_metrics``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from csms.api.auth import metrics_access
from csms.api.deps import Ctx
from csms.api.schemas.base import ClusterNodeOut, HealthOut

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Readiness, the chargers connected here and, in a cluster, its live nodes",
    response_model_exclude_none=True,
)
async def health(ctx: Ctx) -> HealthOut:
    out = HealthOut(status="ok", chargers_connected=len(ctx.sessions), version=ctx.version)
    if ctx.cluster_health is not None:
        cluster = ctx.cluster_health()
        out.node_id = cluster["nodeId"]
        out.cluster_nodes = [ClusterNodeOut.model_validate(n) for n in cluster["clusterNodes"]]
    return out


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format); a token of any role",
    response_class=Response,
    dependencies=[Depends(metrics_access)],
)
async def metrics(ctx: Ctx) -> Response:
    return Response(ctx.metrics(), media_type="text/plain; version=0.0.4; charset=utf-8")
