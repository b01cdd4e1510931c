"""Builds the operator API: routers, authentication, the error envelope, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from csms.api.auth import authenticate
from csms.api.body_limit import BodySizeLimit
from csms.api.console import install_console
from csms.api.context import ApiContext
from csms.api.errors import install_error_handlers
from csms.api.routes import (
    alerts,
    allocation,
    api_tokens,
    catalogue,
    charge_points,
    charger_state,
    circuits,
    commands,
    events,
    evses,
    health,
    history,
    id_tags,
    kpis,
    me,
    messages,
    monitoring_queries,
    sites,
    transactions,
    webhooks,
)
from csms.api.schemas.base import ErrorEnvelope

__all__ = ["API_PREFIX", "create_api"]

API_PREFIX = "/api/v1"

_DESCRIPTION = """\
The operator API of the central system: charge points and their EVSEs, transactions and meter
values, id-tags, the OCPP message log, networks and sites (the live site tree), the
charging-station model catalogue, circuits for load management (the chargers on them, their
priorities, the circuit meters' readings), and alerts. The same requests work whether a charger
speaks OCPP 1.6 or 2.0.1. The operator console, a web page built on this API alone, is at `/`.

* **Auth**: `Authorization: Bearer <token>`. `viewer` tokens may only read (GET); `operator`
  tokens may do everything but the admin-only routes (the model catalogue's writes, API
  tokens), which take an `admin` token. Missing, invalid, expired or revoked token: 401; a
  viewer's write or a non-admin on an admin-only route: 403. After too many invalid tokens
  from one address, its requests are answered 429 (`Retry-After`) for a while.
* **Limits**: a request body over the configured size (default 1 MiB) is a 413.
* **Envelopes**: success `{"data": ...}`; lists `{"data": {"items": [...], "hasMore": bool}}`
  with `?limit=` (1-1000, default 50) and `?startingAfter=<id of the last item>`;
  errors `{"error": {"code", "message", "details"}}`.
* **Timestamps** are ISO 8601 UTC with milliseconds and `Z`. Energy in Wh.
"""


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorEnvelope, "description": description}


_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("Missing or invalid token (`unauthorized`)"),
    403: _error("A viewer token on a write, or not an admin on an admin-only route (`forbidden`)"),
    404: _error("No such resource (`not_found`)"),
    409: _error("Already exists (`conflict`)"),
    422: _error("Invalid parameters or body (`validation_error`); `details.errors` lists them"),
}


def create_api(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        title="CSMS operator API",
        description=_DESCRIPTION,
        version=ctx.version,
        responses={500: _error("Unexpected server error (`internal_error`)")},
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    # Added last, so outermost: a body too large is refused before anything else reads it.
    app.add_middleware(BodySizeLimit, max_bytes=ctx.max_body_bytes)

    app.include_router(health.router)
    # Each router straight onto the app: a router nested in another costs a second round of
    # route matching on every request.
    routers = (
        charge_points,
        charger_state,
        evses,
        commands,
        transactions,
        id_tags,
        messages,
        events,
        sites,
        catalogue,
        circuits,
        allocation,
        alerts,
        api_tokens,
        history,
        kpis,
        monitoring_queries,
        webhooks,
        me,
    )
    for module in routers:
        app.include_router(
            module.router,
            prefix=API_PREFIX,
            dependencies=[Depends(authenticate)],
            responses=_AUTH_RESPONSES,
        )
    # The operator console at / (no token: the page signs in with one and calls the API).
    install_console(app)
    return app
