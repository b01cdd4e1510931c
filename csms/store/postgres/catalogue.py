"""The charging-station model catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.assets import ChargingStationModel
from csms.domain.errors import Conflict, NotFound
from csms.domain.paging import Page, Paged, paged
from csms.store.asset_rows import MODEL_COLUMNS, model_from_row, model_values
from csms.store.postgres.database import CONVERSIONS, PostgresDatabase

__all__ = ["PostgresCatalogue"]

_C = CONVERSIONS
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(1, len(MODEL_COLUMNS.split(",")) + 1))
# The partial unique index on (lower(vendor), lower(model)) of the live models (002_assets.sql).
_LIVE_INDEX = "charging_station_models_live"


async def _model(conn: asyncpg.Connection, model_id: str) -> ChargingStationModel | None:
    row = await conn.fetchrow(
        f"SELECT {MODEL_COLUMNS} FROM charging_station_models WHERE id = $1", model_id
    )
    return None if row is None else model_from_row(row, _C)


def _duplicate(model: ChargingStationModel) -> Conflict:
    return Conflict(f"a live model {model.vendor!r} {model.model!r} already exists", field="model")


def _taken(model: ChargingStationModel) -> Conflict:
    return Conflict(f"model {model.id!r} already exists", field="id")


class PostgresCatalogue:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def add_model(self, model: ChargingStationModel) -> ChargingStationModel:
        row = model_values(model, _C)

        async def op(conn: asyncpg.Connection) -> ChargingStationModel:
            # Checked first, as the SQLite backend does, so that an id and a vendor + model
            # both taken report the id; the primary key still decides a race.
            if await _model(conn, model.id) is not None:
                raise _taken(model)
            try:
                await conn.execute(
                    f"INSERT INTO charging_station_models ({MODEL_COLUMNS})"
                    f" VALUES ({_PLACEHOLDERS})",
                    *row,
                )
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name == _LIVE_INDEX:
                    raise _duplicate(model) from exc
                raise _taken(model) from exc
            return model

        return await self._db.write(op)

    async def get_model(self, model_id: str) -> ChargingStationModel | None:
        return await self._db.read(lambda conn: _model(conn, model_id))

    async def list_models(
        self,
        page: Page[str],
        *,
        vendor: str | None = None,
        model: str | None = None,
        is_archived: bool | None = False,
    ) -> Paged[ChargingStationModel]:
        params: list[Any] = [page.starting_after]
        clauses = ["($1::text IS NULL OR id > $1)"]

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if vendor is not None:
            clauses.append(f"lower(vendor) = lower({param(vendor)})")
        if model is not None:
            clauses.append(f"lower(model) = lower({param(model)})")
        if is_archived is not None:
            clauses.append(f"is_archived = {param(is_archived)}")
        sql = (
            f"SELECT {MODEL_COLUMNS} FROM charging_station_models"
            f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT {param(page.fetch)}"
        )

        async def read(conn: asyncpg.Connection) -> Paged[ChargingStationModel]:
            rows = await conn.fetch(sql, *params)
            return paged([model_from_row(row, _C) for row in rows], page)

        return await self._db.read(read)

    async def rename_model(
        self, model_id: str, friendly_name: str | None, at: datetime
    ) -> ChargingStationModel:
        return await self._update(
            model_id, "friendly_name = $2, updated_at = $3", friendly_name, at
        )

    async def archive_model(self, model_id: str, at: datetime) -> ChargingStationModel:
        return await self._update(model_id, "is_archived = true, updated_at = $2", at)

    async def _update(self, model_id: str, sets: str, *params: Any) -> ChargingStationModel:
        async def op(conn: asyncpg.Connection) -> ChargingStationModel:
            row = await conn.fetchrow(
                f"UPDATE charging_station_models SET {sets} WHERE id = $1"
                f" RETURNING {MODEL_COLUMNS}",
                model_id,
                *params,
            )
            if row is None:
                raise NotFound(f"charging-station model {model_id!r} not found")
            return model_from_row(row, _C)

        return await self._db.write(op)
