"""Charge points: registration, state, and the operator's overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from csms.api.context import ApiContext
from csms.api.deps import DEFAULT_LIMIT, CpId, Ctx, Limit
from csms.api.errors import ApiError
from csms.api.schemas.base import Envelope, ItemPage
from csms.api.schemas.charge_points import (
    BootInfoOut,
    ChargePointCreate,
    ChargePointOut,
    ChargePointUpdate,
    RegistrationStatus,
    group_connectors,
)
from csms.domain.errors import Invalid
from csms.domain.models import ChargePoint
from csms.domain.paging import Page
from csms.domain.updates import UNSET, ChargePointChanges, Unset
from csms.log import get_logger

__all__ = ["router"]

log = get_logger(__name__)

router = APIRouter(prefix="/charge-points", tags=["charge points"])


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
        registration_status=_registration_status(cp.boot_status),
        boot_answer=_registration_status(cp.boot_answer),
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
        model_id=cp.model_id,
        external_id=cp.external_id,
        has_password=cp.has_password,
        auto_registered=cp.auto_registered,
        node_id=cp.node_id,
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
    site_id: Annotated[
        str | None,
        Query(alias="siteId", max_length=64, description="On this site or any site below it."),
    ] = None,
    network_id: Annotated[
        str | None,
        Query(alias="networkId", max_length=64, description="On a site of this network."),
    ] = None,
    model_id: Annotated[
        str | None, Query(alias="modelId", max_length=64, description="Linked to this model.")
    ] = None,
) -> Envelope[ItemPage[ChargePointOut]]:
    site_ids = await ctx.sites.scope(site_id=site_id, network_id=network_id)
    charge_points = await ctx.chargers.list_charge_points(
        Page(limit, starting_after),
        search=search or None,
        connected=connected,
        site_ids=site_ids,
        model_id=model_id,
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
        model_id=body.model_id,
        external_id=body.external_id,
    )
    log.info("charge point registered", charge_point_id=cp.id)
    return Envelope(data=charge_point_out(ctx, cp))


@router.get("/{cp_id}", summary="One charge point: state, boot info, EVSEs, active transactions")
async def get_charge_point(ctx: Ctx, cp_id: CpId) -> Envelope[ChargePointOut]:
    return Envelope(data=charge_point_out(ctx, await _get_or_404(ctx, cp_id)))


@router.patch(
    "/{cp_id}",
    summary="Change name, password, security profile, site, model, external id or boot answer",
)
async def update_charge_point(
    ctx: Ctx, cp_id: CpId, body: ChargePointUpdate
) -> Envelope[ChargePointOut]:
    present = body.model_fields_set
    boot_answer: RegistrationStatus | Unset | None = UNSET
    for alias in ("boot_answer", "registration_status"):
        if alias in present:
            value = getattr(body, alias)
            if boot_answer is not UNSET and value != boot_answer:
                raise Invalid("bootAnswer", "bootAnswer and registrationStatus disagree")
            boot_answer = value
    changes = ChargePointChanges(
        name=body.name if "name" in present else UNSET,
        # A new password is hashed by the service; an explicit null removes the password.
        password_hash=None if "password" in present and body.password is None else UNSET,
        security_profile=body.security_profile if "security_profile" in present else UNSET,
        site_id=body.site_id if "site_id" in present else UNSET,
        boot_answer=boot_answer,
        model_id=body.model_id if "model_id" in present else UNSET,
        external_id=body.external_id if "external_id" in present else UNSET,
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
