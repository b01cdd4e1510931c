"""EVSE records: what operators recorded, filled in from the model, with live connector status."""

from __future__ import annotations

from collections.abc import Callable

from csms.domain.assets import ChargingStationModel, EvseRecord
from csms.domain.clock import Clock
from csms.domain.errors import NotFound
from csms.domain.evses import Evse, resolve_evse
from csms.domain.models import ChargePoint
from csms.domain.updates import ConnectorSpecChanges, EvseChanges
from csms.store.repositories import CatalogueStore, ChargerStore, EvseStore

__all__ = ["EvseService"]


class EvseService:
    def __init__(
        self,
        evses: EvseStore,
        chargers: ChargerStore,
        catalogue: CatalogueStore,
        clock: Clock,
    ) -> None:
        self._evses = evses
        self._chargers = chargers
        self._catalogue = catalogue
        self._clock = clock
        # Told the charger's id after a change of its EVSEs (the load manager reads them).
        self.on_change: Callable[[str], None] | None = None

    async def list_evses(self, cp_id: str) -> list[Evse]:
        """Every EVSE the charger reported or the operator recorded (EVSE 0, the station
        itself, is not one)."""
        cp = await self._charge_point(cp_id)
        records = {r.evse_id: r for r in await self._evses.list_evse_records(cp_id)}
        evse_ids = records.keys() | {s.evse_id for s in cp.connectors if s.evse_id > 0}
        model = await self._model(cp)
        return [
            resolve_evse(cp.id, evse_id, records.get(evse_id), model, cp.connectors)
            for evse_id in sorted(evse_ids)
        ]

    async def get(self, cp_id: str, evse_id: int) -> Evse:
        cp = await self._charge_point(cp_id)
        record = await self._evses.get_evse_record(cp_id, evse_id)
        if record is None and not any(s.evse_id == evse_id for s in cp.connectors):
            raise NotFound(f"charge point {cp_id!r} has no EVSE {evse_id}")
        return await self._resolved(cp, evse_id, record)

    async def update(self, cp_id: str, evse_id: int, changes: EvseChanges) -> Evse:
        record = await self._evses.update_evse(cp_id, evse_id, changes, self._clock())
        self._changed(cp_id)
        return await self._resolved(await self._charge_point(cp_id), evse_id, record)

    async def update_connector(
        self, cp_id: str, evse_id: int, connector_id: int, changes: ConnectorSpecChanges
    ) -> Evse:
        record = await self._evses.update_connector_spec(
            cp_id, evse_id, connector_id, changes, self._clock()
        )
        self._changed(cp_id)
        return await self._resolved(await self._charge_point(cp_id), evse_id, record)

    def _changed(self, cp_id: str) -> None:
        if self.on_change is not None:
            self.on_change(cp_id)

    async def _resolved(self, cp: ChargePoint, evse_id: int, record: EvseRecord | None) -> Evse:
        return resolve_evse(cp.id, evse_id, record, await self._model(cp), cp.connectors)

    async def _charge_point(self, cp_id: str) -> ChargePoint:
        cp = await self._chargers.get_charge_point(cp_id)
        if cp is None:
            raise NotFound(f"charge point {cp_id!r} not found")
        return cp

    async def _model(self, cp: ChargePoint) -> ChargingStationModel | None:
        return None if cp.model_id is None else await self._catalogue.get_model(cp.model_id)
