"""The charging-station model catalogue."""

from __future__ import annotations

from csms.domain.assets import ChargingStationModel, ModelConnector, PowerType, new_id
from csms.domain.clock import Clock
from csms.domain.paging import Page, Paged
from csms.store.repositories import CatalogueStore

__all__ = ["CatalogueService"]


class CatalogueService:
    def __init__(self, store: CatalogueStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def add(
        self,
        *,
        vendor: str,
        model: str,
        power_type: PowerType,
        connectors: tuple[ModelConnector, ...],
        model_id: str | None = None,
        friendly_name: str | None = None,
        image_url: str | None = None,
    ) -> ChargingStationModel:
        now = self._clock()
        record = ChargingStationModel(
            id=model_id or new_id("model"),
            vendor=vendor,
            model=model,
            power_type=power_type,
            is_archived=False,
            friendly_name=friendly_name,
            image_url=image_url,
            connectors=connectors,
            created_at=now,
            updated_at=now,
        )
        return await self._store.add_model(record)

    async def get(self, model_id: str) -> ChargingStationModel | None:
        return await self._store.get_model(model_id)

    async def list_models(
        self,
        page: Page[str],
        *,
        vendor: str | None = None,
        model: str | None = None,
        is_archived: bool | None = False,
    ) -> Paged[ChargingStationModel]:
        return await self._store.list_models(
            page, vendor=vendor, model=model, is_archived=is_archived
        )

    async def rename(self, model_id: str, friendly_name: str | None) -> ChargingStationModel:
        return await self._store.rename_model(model_id, friendly_name, self._clock())

    async def archive(self, model_id: str) -> ChargingStationModel:
        return await self._store.archive_model(model_id, self._clock())
