"""State a charger holds because operators told it to: profiles, reservations, local list,
configuration. Written when the charger accepts a command; read by the API."""

from __future__ import annotations

from collections.abc import Sequence

from csms.domain.clock import Clock
from csms.domain.models import (
    ConfigurationKey,
    Reservation,
    StoredChargingProfile,
)
from csms.log import get_logger
from csms.store.repositories import ChargerStateStore

__all__ = ["ChargerStateService"]

log = get_logger(__name__)


class ChargerStateService:
    def __init__(self, store: ChargerStateStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def charging_profiles(self, cp_id: str) -> list[StoredChargingProfile]:
        return await self._store.list_charging_profiles(cp_id)

    async def reservations(self, cp_id: str) -> list[Reservation]:
        return await self._store.list_reservations(cp_id)

    async def configuration_keys(self, cp_id: str) -> list[ConfigurationKey]:
        return await self._store.list_configuration_keys(cp_id)

    async def local_list_version(self, cp_id: str) -> int | None:
        return await self._store.get_local_list_version(cp_id)

    async def reservation_ended(self, cp_id: str, reservation_id: int, status: str) -> None:
        """The charger reports a reservation over (2.0.1 ReservationStatusUpdate)."""
        await self._store.end_reservation(cp_id, reservation_id, status, self._clock())

    async def expire_reservations(self) -> int:
        """1.6 has no "reservation ended" message: a reservation ends at its expiry."""
        expired = await self._store.expire_reservations(self._clock())
        if expired:
            log.info("reservations expired", count=expired)
        return expired

    async def remember_configuration(
        self, cp_id: str, keys: Sequence[tuple[str, str | None, bool | None]]
    ) -> None:
        await self._store.put_configuration_keys(cp_id, keys, self._clock())

    async def remember_profile(self, profile: StoredChargingProfile) -> None:
        await self._store.put_charging_profile(profile)

    async def forget_profiles(
        self,
        cp_id: str,
        *,
        profile_id: int | None,
        evse_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> int:
        return await self._store.clear_charging_profiles(
            cp_id,
            profile_id=profile_id,
            evse_id=evse_id,
            purpose=purpose,
            stack_level=stack_level,
        )

    async def remember_reservation(self, reservation: Reservation) -> None:
        await self._store.put_reservation(reservation)

    async def set_local_list_version(self, cp_id: str, version: int | None) -> None:
        await self._store.set_local_list_version(cp_id, version)
