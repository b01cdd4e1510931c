"""The error envelope: every failure is ``{"error": {"code", "message", "details"}}``.

Domain errors, FastAPI's request validation, Starlette's routing errors (unknown path, wrong
method) and anything unexpected all leave through here, so a client only ever parses one shape and
never sees a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from csms.domain.commands import CommandInvalid, CommandNotSupported
from csms.domain.errors import (
    Ambiguous,
    ChargerRejectedCall,
    ChargerTimeout,
    ChargerUnavailable,
    ClusterUnavailable,
    Conflict,
    DatabaseUnavailable,
    Invalid,
    NotFound,
)
from csms.log import get_logger

__all__ = ["ApiError", "BodyTooLarge", "error_response", "install_error_handlers"]

log = get_logger(__name__)

# Codes for errors raised as plain HTTP statuses (by Starlette's router, or by our own code).
_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    502: "charger_error",
    503: "unavailable",
    504: "charger_timeout",
}


class ApiError(Exception):
    """An error answer decided by the API layer itself (authentication, paging, ...)."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


class BodyTooLarge(StarletteHTTPException):
    """The request body passed the API's size limit while it was read (csms.api.body_limit)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {max_bytes} bytes")
        self.max_bytes = max_bytes


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": dict(details or {})}}
    return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))


def _validation_errors(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's error list without ``input``/``ctx``: those may echo secrets (a password)."""
    out: list[dict[str, Any]] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc and loc[0] in ("body", "query", "path", "header") else ""
        field = ".".join(loc[1:] if location else loc)
        out.append(
            {
                "location": location,
                "field": field,
                "message": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    return out


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc.errors())
    summary = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
    )
    return error_response(
        422, "validation_error", f"invalid request: {summary}", {"errors": errors}
    )


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such resource: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} not allowed on {request.url.path}"
    elif isinstance(exc, BodyTooLarge):
        return error_response(413, code, message, {"maxBytes": exc.max_bytes})
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _on_not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, "not_found", str(exc) or "not found")


async def _on_conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Conflict)
    details = {} if exc.field is None else {"field": exc.field}
    return error_response(409, "conflict", str(exc) or "conflict", details)


async def _on_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Invalid)
    error = {"location": "body", "field": exc.field, "message": str(exc), "type": "invalid"}
    return error_response(
        422, "validation_error", f"{exc.field}: {exc}", {"field": exc.field, "errors": [error]}
    )


async def _on_ambiguous(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Ambiguous)
    return error_response(409, "ambiguous", str(exc), {"candidates": exc.candidates})


async def _on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable", method=request.method, path=request.url.path)
    return error_response(
        503,
        "database_unavailable",
        "the database cannot be reached; try again shortly",
        headers={"Retry-After": "5"},
    )


async def _on_charger_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, "charger_offline", str(exc) or "the charger is not connected")


async def _on_cluster_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return error_response(
        503,
        "cluster_unavailable",
        str(exc) or "the node holding the charger cannot be reached",
        headers={"Retry-After": "5"},
    )


async def _on_charger_timeout(request: Request, exc: Exception) -> JSONResponse:
    return error_response(504, "charger_timeout", str(exc) or "the charger did not answer in time")


async def _on_charger_rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ChargerRejectedCall)
    return error_response(
        502,
        "charger_error",
        f"the charger answered with a CALLERROR: {exc}",
        {"code": exc.code, "description": exc.description, "details": exc.details},
    )


class _CatchAllMiddleware:
    """Turns an unexpected exception into a logged 500 envelope instead of a stack trace.

    Sits inside Starlette's ServerErrorMiddleware (which would answer in plain text and re-raise)
    so the exception is handled, logged once, and not propagated to the server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception(
                "unhandled error in API request", method=scope.get("method"), path=scope.get("path")
            )
            if started:  # too late for an error answer: let the server drop the connection
                raise
            response = error_response(500, "internal_error", "internal server error")
            await response(scope, receive, send)


async def _on_command_validation(request: Request, exc: Exception) -> JSONResponse:
    # A command body checked by its command model (csms.domain.commands) after routing.
    assert isinstance(exc, ValidationError)
    errors = [{**e, "location": "body"} for e in _validation_errors(exc.errors())]
    summary = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
    )
    return error_response(
        422, "validation_error", f"invalid command: {summary}", {"errors": errors}
    )


async def _on_command_invalid(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, "validation_error", str(exc))


async def _on_not_supported(request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, "not_supported", str(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ValidationError, _on_command_validation)
    app.add_exception_handler(CommandInvalid, _on_command_invalid)
    app.add_exception_handler(CommandNotSupported, _on_not_supported)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(NotFound, _on_not_found)
    app.add_exception_handler(Conflict, _on_conflict)
    app.add_exception_handler(Ambiguous, _on_ambiguous)
    app.add_exception_handler(Invalid, _on_invalid)
    app.add_exception_handler(DatabaseUnavailable, _on_database_unavailable)
    app.add_exception_handler(ChargerUnavailable, _on_charger_unavailable)
    app.add_exception_handler(ChargerTimeout, _on_charger_timeout)
    app.add_exception_handler(ClusterUnavailable, _on_cluster_unavailable)
    app.add_exception_handler(ChargerRejectedCall, _on_charger_rejected)
    app.add_middleware(_CatchAllMiddleware)
