"""What a charger holds because of commands: configuration, charging profiles, reservations."""

from __future__ import annotations

from fastapi import APIRouter

from csms.api.deps import CpId, Ctx
from csms.api.errors import ApiError
from csms.api.schemas.base import Envelope
from csms.api.schemas.commands import (
    ChargingProfileOut,
    ConfigurationKeyOut,
    ConfigurationOut,
    DeviceVariableOut,
    ReservationOut,
)

__all__ = ["router"]

router = APIRouter(prefix="/charge-points/{cp_id}", tags=["charge points"])


async def _known(ctx: Ctx, cp_id: str) -> str:
    charge_point = await ctx.chargers.get(cp_id)
    if charge_point is None:
        raise ApiError(404, "not_found", f"charge point {cp_id!r} not found")
    return charge_point.id


@router.get("/configuration", summary="The configuration last read from the charger")
async def get_configuration(ctx: Ctx, cp_id: CpId) -> Envelope[ConfigurationOut]:
    charge_point = await ctx.chargers.get(cp_id)
    if charge_point is None:
        raise ApiError(404, "not_found", f"charge point {cp_id!r} not found")
    keys = await ctx.state.configuration_keys(charge_point.id)
    variables = await ctx.reports.device_model(charge_point.id)
    return Envelope(
        data=ConfigurationOut(
            charge_point_id=charge_point.id,
            ocpp_version=charge_point.ocpp_version,
            keys=[
                ConfigurationKeyOut(
                    key=k.key, value=k.value, readonly=k.readonly, updated_at=k.updated_at
                )
                for k in keys
            ],
            variables=[DeviceVariableOut.from_domain(v) for v in variables],
            local_list_version=await ctx.state.local_list_version(charge_point.id),
        )
    )


@router.get("/charging-profiles", summary="Charging profiles the charger accepted")
async def list_charging_profiles(ctx: Ctx, cp_id: CpId) -> Envelope[list[ChargingProfileOut]]:
    profiles = await ctx.state.charging_profiles(await _known(ctx, cp_id))
    return Envelope(
        data=[
            ChargingProfileOut(evse_id=p.evse_id, charging_profile=p.profile, set_at=p.set_at)
            for p in profiles
        ]
    )


@router.get("/reservations", summary="Reservations made through the central system")
async def list_reservations(ctx: Ctx, cp_id: CpId) -> Envelope[list[ReservationOut]]:
    reservations = await ctx.state.reservations(await _known(ctx, cp_id))
    return Envelope(
        data=[
            ReservationOut(
                reservation_id=r.reservation_id,
                evse_id=r.evse_id,
                connector_id=r.connector_id,
                id_tag=r.id_tag,
                expiry_date=r.expires_at,
                status=r.status,  # type: ignore[arg-type]
                created_at=r.created_at,
                ended_at=r.ended_at,
            )
            for r in reservations
        ]
    )
