"""Charge points: registration, state, and the operator's overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from csms.api.context import ApiContext
from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.errors import ApiError
from csms.api.schemas.base import CP_ID_MAX, Envelope, ItemPage
from csms.api.schemas.charge_points import (
    BootInfoOut,
    ChargePointCreate,
    ChargePointOut,
    ChargePointUpdate,
    RegistrationStatus,
    group_connectors,
)
from csms.domain.models import ChargePoint
from csms.domain.paging import Page
from csms.domain.updates import UNSET, ChargePointChanges
from csms.log import get_logger

__all__ = ["router"]

log = get_logger(__name__)

router = APIRouter(prefix="/charge-points", tags=["charge points"])

CpId = Annotated[str, Path(max_length=CP_ID_MAX, description="The charge point's OCPP identity.")]


def charge_point_out(ctx: ApiContext, cp: ChargePoint) -> ChargePointOut:
    """The stored record, with connection state from the live session when there is one."""
    session = ctx.sessions.get(cp.id)
    connected_since: datetime | None
    last_seen_at: datetime | None
    ocpp_version: str | None
    if session is not None and not session.closed:
        connected, ocpp_version = True, session.ocpp_version
        connected_since, last_seen_at = session.connected_at, session.last_seen_at
    else:
        connected, ocpp_version = cp.connected, cp.ocpp_version
        connected_since, last_seen_at = cp.connected_since, cp.last_seen_at
    boot = cp.boot_info
    return ChargePointOut(
        id=cp.id,
        name=cp.name,
        ocpp_version=ocpp_version,
        connected=connected,
        last_seen_at=last_seen_at,
        connected_since=connected_since,
        registration_status=_registration_status(cp.registration_status),
        boot_info=BootInfoOut(
            vendor=boot.vendor,
            model=boot.model,
            serial_number=boot.serial_number,
            firmware_version=boot.firmware_version,
            iccid=boot.iccid,
            imsi=boot.imsi,
            meter_type=boot.meter_type,
            meter_serial_number=boot.meter_serial_number,
        ),
        firmware_status=cp.firmware_status,
        diagnostics_status=cp.diagnostics_status,
        evses=group_connectors(cp.connectors),
        active_transactions=list(cp.active_transactions),
        security_profile=cp.security_profile,
        site_id=cp.site_id,
        has_password=cp.has_password,
        created_at=cp.created_at,
    )


_REGISTRATION_STATUSES: dict[str, RegistrationStatus] = {
    "Accepted": "Accepted",
    "Pending": "Pending",
    "Rejected": "Rejected",
}


def _registration_status(value: str | None) -> RegistrationStatus | None:
    return None if value is None else _REGISTRATION_STATUSES.get(value)


async def _get_or_404(ctx: ApiContext, cp_id: str) -> ChargePoint:
    cp = await ctx.chargers.get(cp_id)
    if cp is None:
        raise ApiError(404, "not_found", f"charge point {cp_id!r} not found")
    return cp


@router.get("", summary="List charge points (ordered by id)")
async def list_charge_points(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: Annotated[
        str | None, Query(alias="startingAfter", description="The id of the last item seen.")
    ] = None,
    connected: Annotated[
        bool | None, Query(description="Only connected (true) or disconnected (false) chargers.")
    ] = None,
    search: Annotated[
        str | None,
        Query(max_length=100, description="Substring of id, name, vendor, model or serial number."),
    ] = None,
) -> Envelope[ItemPage[ChargePointOut]]:
    charge_points = await ctx.chargers.list_charge_points(
        Page(limit, starting_after), search=search or None, connected=connected
    )
    return Envelope(data=ItemPage.of(charge_points, lambda cp: charge_point_out(ctx, cp)))


@router.post("", status_code=201, summary="Register a charge point")
async def register_charge_point(ctx: Ctx, body: ChargePointCreate) -> Envelope[ChargePointOut]:
    cp = await ctx.chargers.register(
        body.id,
        name=body.name,
        password=body.password,
        security_profile=body.security_profile,
        site_id=body.site_id,
    )
    log.info("charge point registered", charge_point_id=cp.id)
    return Envelope(data=charge_point_out(ctx, cp))


@router.get("/{cp_id}", summary="One charge point: state, boot info, EVSEs, active transactions")
async def get_charge_point(ctx: Ctx, cp_id: CpId) -> Envelope[ChargePointOut]:
    return Envelope(data=charge_point_out(ctx, await _get_or_404(ctx, cp_id)))


@router.patch("/{cp_id}", summary="Change name, password, security profile or registration status")
async def update_charge_point(
    ctx: Ctx, cp_id: CpId, body: ChargePointUpdate
) -> Envelope[ChargePointOut]:
    present = body.model_fields_set
    changes = ChargePointChanges(
        name=body.name if "name" in present else UNSET,
        # A new password is hashed by the service; an explicit null removes the password.
        password_hash=None if "password" in present and body.password is None else UNSET,
        security_profile=body.security_profile if "security_profile" in present else UNSET,
        site_id=body.site_id if "site_id" in present else UNSET,
        registration_status=(
            body.registration_status if "registration_status" in present else UNSET
        ),
    )
    cp = await ctx.chargers.update(cp_id, changes, password=body.password)
    return Envelope(data=charge_point_out(ctx, cp))


@router.delete(
    "/{cp_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a charge point (a live connection is closed)",
)
async def delete_charge_point(ctx: Ctx, cp_id: CpId) -> Response:
    await ctx.chargers.delete(cp_id)
    log.info("charge point deleted", charge_point_id=cp_id)
    session = ctx.sessions.get(cp_id)
    if session is not None and not session.closed:
        # It would keep writing state for a record that no longer exists; its reconnect is
        # refused (unknown identity) unless unknown chargers are allowed.
        await session.close(1000, "charge point deleted")
    return Response(status_code=204)
