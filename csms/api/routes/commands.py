"""Operator actions on chargers (and the catalogue of them with their bodies' JSON Schemas), the
raw OCPP escape hatch, and the audit trail of commands."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from csms.api.auth import Caller
from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.errors import ApiError
from csms.api.schemas.base import Envelope, ItemPage
from csms.api.schemas.commands import ActionOut, CommandOut, CommandPendingOut, CommandResultOut
from csms.domain import commands as cmd
from csms.domain.models import CommandRecord
from csms.domain.paging import Page

__all__ = ["body_schema", "router"]

router = APIRouter(tags=["commands"])

_ACTIONS_DOC = ", ".join(f"`{name}`" for name in cmd.COMMANDS)

Wait = Annotated[
    bool,
    Query(
        description="false: answer 202 at once; the outcome lands in the audit trail and as a "
        "`command.completed` event."
    ),
]
Timeout = Annotated[
    float | None,
    Query(gt=0, description="Seconds to wait for the charger (capped by the configuration)."),
]


def _result(record: CommandRecord) -> Envelope[CommandResultOut]:
    return Envelope(
        data=CommandResultOut(
            command_id=record.id,
            action=record.action,
            ocpp_action=record.ocpp_action,
            status=record.status,
            response=record.response,
        )
    )


async def _execute(
    ctx: Ctx,
    caller: Caller,
    response: Response,
    cp_id: str,
    action: str,
    command: cmd.Command,
    timeout: float | None,
    wait: bool,
) -> Envelope[CommandResultOut] | Envelope[CommandPendingOut]:
    record = await ctx.commands.execute(
        cp_id, action, command, requested_by=caller.name, timeout=timeout, wait=wait
    )
    if not wait:
        response.status_code = 202
        return Envelope(data=CommandPendingOut(command_id=record.id))
    return _result(record)


def _drop_property_titles(node: Any) -> None:
    # pydantic titles a field after its Python name ("Idtag"): the key is the API's name already.
    if isinstance(node, dict):
        for prop in (node.get("properties") or {}).values():
            if isinstance(prop, dict):
                prop.pop("title", None)
        for value in node.values():
            _drop_property_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_property_titles(value)


def body_schema(command: type[cmd.Command]) -> dict[str, Any]:
    """The JSON Schema of a command's body as the API takes it (camelCase, input side)."""
    schema = command.model_json_schema(by_alias=True, mode="validation")
    _drop_property_titles(schema)
    return schema


@functools.cache
def _actions() -> ItemPage[ActionOut]:
    # The commands never change while the process runs: built once, at the first request.
    items = [ActionOut(action=name, body_schema=body_schema(c)) for name, c in cmd.COMMANDS.items()]
    return ItemPage(items=items, has_more=False)


@router.get(
    "/actions",
    summary="The operator actions, each with the JSON Schema of its body",
    description="Every action `POST /charge-points/{id}/actions/{action}` takes, in the order of "
    "the API contract's table, with the JSON Schema of its body: what a client needs to build a "
    "form for it. Not paged (`hasMore` is always false). A body is checked against the charger's "
    "OCPP version only when it is sent (e.g. `keys` of `get-configuration` is for 1.6 chargers).",
)
async def list_actions() -> Envelope[ItemPage[ActionOut]]:
    return Envelope(data=_actions())


@router.post(
    "/charge-points/{cp_id}/actions/{action}",
    summary="Send an operator action to a connected charger",
    description=f"Actions: {_ACTIONS_DOC}. The body is the action's (see the API contract); the "
    "command layer turns it into the right call for the charger's OCPP version.",
    response_model=Envelope[CommandResultOut] | Envelope[CommandPendingOut],
    responses={
        202: {"model": Envelope[CommandPendingOut], "description": "Accepted (`?wait=false`)"},
        400: {"description": "`not_supported`: the charger's OCPP version lacks this action"},
        409: {"description": "`charger_offline`, or `conflict` (charger not accepted)"},
        502: {"description": "`charger_error`: the charger answered with a CALLERROR"},
        504: {"description": "`charger_timeout`: no answer in time"},
    },
)
async def run_action(
    ctx: Ctx,
    caller: Caller,
    response: Response,
    cp_id: Annotated[str, Path(max_length=48)],
    action: str,
    body: Annotated[dict[str, Any] | None, Body()] = None,
    wait: Wait = True,
    timeout: Timeout = None,
) -> Envelope[CommandResultOut] | Envelope[CommandPendingOut]:
    command = ctx.commands.parse(action, body or {})
    return await _execute(ctx, caller, response, cp_id, action, command, timeout, wait)


@router.post(
    "/charge-points/{cp_id}/call/{ocpp_action}",
    summary="Send any OCPP action of the charger's version with a raw payload",
    description="The payload is validated against the action's schema for the charger's version "
    "(422 naming the violation), sent as-is, and answered and recorded like any action.",
    response_model=Envelope[CommandResultOut] | Envelope[CommandPendingOut],
    responses={202: {"model": Envelope[CommandPendingOut]}},
)
async def raw_call(
    ctx: Ctx,
    caller: Caller,
    response: Response,
    cp_id: Annotated[str, Path(max_length=48)],
    ocpp_action: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9]+$")],
    body: Annotated[dict[str, Any] | None, Body()] = None,
    wait: Wait = True,
    timeout: Timeout = None,
) -> Envelope[CommandResultOut] | Envelope[CommandPendingOut]:
    command = cmd.RawCall(action=ocpp_action, payload=body or {})
    return await _execute(
        ctx, caller, response, cp_id, f"call/{ocpp_action}", command, timeout, wait
    )


@router.get("/commands", summary="The audit trail of commands, newest first")
async def list_commands(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        int | None,
        Query(alias="startingAfter", ge=1, description="The commandId of the last item seen."),
    ] = None,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId")] = None,
) -> Envelope[ItemPage[CommandOut]]:
    commands = await ctx.commands.list_commands(Page(limit, starting_after), cp_id=charge_point_id)
    return Envelope(data=ItemPage.of(commands, CommandOut.from_domain))


@router.get("/commands/{command_id}", summary="One command: request, OCPP call, outcome, timings")
async def get_command(ctx: Ctx, command_id: int) -> Envelope[CommandOut]:
    record = await ctx.commands.get(command_id)
    if record is None:
        raise ApiError(404, "not_found", f"command {command_id} not found")
    return Envelope(data=CommandOut.from_domain(record))
