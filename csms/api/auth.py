"""Bearer-token authentication and the roles: viewer reads, operator writes, admin also
holds the admin-only writes (``AdminOnly``); wrong tokens throttled per client address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from csms.api.deps import Ctx
from csms.api.errors import ApiError
from csms.domain.models import ApiToken, Role
from csms.domain.throttling import retry_after_seconds

__all__ = ["AdminOnly", "Caller", "authenticate", "bearer", "metrics_access", "require_admin"]

# auto_error=False: a missing header reaches ``authenticate``, which answers with our envelope.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="An API token (`csms token create` or the config file). `viewer` tokens may only "
    "read (GET); `operator` tokens may do everything but the admin-only writes; `admin` tokens "
    "everything.",
)

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def authenticate(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiToken:
    """The caller's token; 401 without a valid one, 403 for a viewer's write, 429 while the
    caller's address is locked out after too many invalid tokens."""
    # The address as uvicorn reports it: behind a proxy it trusts (FORWARDED_ALLOW_IPS, by
    # default the local host) the client's own, from X-Forwarded-For.
    address = request.client.host if request.client is not None else ""
    # Checked before the token, so that guessing gains nothing while it lasts.
    blocked = ctx.token_failures.blocked_for(address)
    if blocked > 0:
        retry_after = retry_after_seconds(blocked)
        raise ApiError(
            429,
            "too_many_requests",
            f"too many invalid tokens from this address; try again in {retry_after} s",
            {"retryAfter": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
    if credentials is None or not credentials.credentials:
        # No token is no guess: it does not count towards a lock-out.
        raise ApiError(401, "unauthorized", "a bearer token is required", headers=_CHALLENGE)
    token = await ctx.api_tokens.authenticate(credentials.credentials)
    if token is None:
        ctx.token_failures.failed(address)
        raise ApiError(401, "unauthorized", "invalid API token", headers=_CHALLENGE)
    if request.method not in _READ_METHODS and token.role == Role.VIEWER:
        role = str(token.role)
        raise ApiError(403, "forbidden", f"the {role} role may only read", {"role": role})
    return token


async def metrics_access(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """/metrics: any role's token, unless ``[api] public_metrics`` opens it to all."""
    if not ctx.public_metrics:
        await authenticate(request, ctx, credentials)


Caller = Annotated[ApiToken, Depends(authenticate)]
"""Who sent the request; declare it on a route that needs the name (e.g. to record a command)."""


async def require_admin(request: Request, token: Caller) -> ApiToken:
    """For the admin-only routes (API.md "Roles"): 403 for anyone but an admin."""
    if token.role != Role.ADMIN:
        role = str(token.role)
        message = f"only the admin role may do this (this token is {role})"
        raise ApiError(403, "forbidden", message, {"role": role})
    return token


AdminOnly = Annotated[ApiToken, Depends(require_admin)]
"""Declare on an admin-only route (or put ``Depends(require_admin)`` in its dependencies)."""
