"""The charging-station model catalogue."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from csms.domain.assets import ChargingStationModel
from csms.domain.errors import Conflict, NotFound
from csms.domain.paging import Page, Paged, paged
from csms.store.asset_rows import MODEL_COLUMNS, model_from_row, model_values
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.values import CONVERSIONS, ts

__all__ = ["SqliteCatalogue"]

_C = CONVERSIONS
_PLACEHOLDERS = ", ".join("?" * len(MODEL_COLUMNS.split(",")))


def _model(conn: sqlite3.Connection, model_id: str) -> ChargingStationModel | None:
    row = conn.execute(
        f"SELECT {MODEL_COLUMNS} FROM charging_station_models WHERE id = ?", (model_id,)
    ).fetchone()
    return None if row is None else model_from_row(row, _C)


def _duplicate(model: ChargingStationModel) -> Conflict:
    return Conflict(f"a live model {model.vendor!r} {model.model!r} already exists", field="model")


class SqliteCatalogue:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add_model(self, model: ChargingStationModel) -> ChargingStationModel:
        row = model_values(model, _C)

        def op(conn: sqlite3.Connection) -> ChargingStationModel:
            if _model(conn, model.id) is not None:
                raise Conflict(f"model {model.id!r} already exists", field="id")
            try:
                conn.execute(
                    f"INSERT INTO charging_station_models ({MODEL_COLUMNS})"
                    f" VALUES ({_PLACEHOLDERS})",
                    row,
                )
            except sqlite3.IntegrityError as exc:
                raise _duplicate(model) from exc
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
        clauses = ["(? IS NULL OR id > ?)"]
        params: list[Any] = [page.starting_after, page.starting_after]
        if vendor is not None:
            clauses.append("vendor = ? COLLATE NOCASE")
            params.append(vendor)
        if model is not None:
            clauses.append("model = ? COLLATE NOCASE")
            params.append(model)
        if is_archived is not None:
            clauses.append("is_archived = ?")
            params.append(int(is_archived))
        sql = (
            f"SELECT {MODEL_COLUMNS} FROM charging_station_models"
            f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?"
        )
        params.append(page.fetch)

        def read(conn: sqlite3.Connection) -> Paged[ChargingStationModel]:
            return paged([model_from_row(row, _C) for row in conn.execute(sql, params)], page)

        return await self._db.read(read)

    async def rename_model(
        self, model_id: str, friendly_name: str | None, at: datetime
    ) -> ChargingStationModel:
        return await self._update(
            model_id, "friendly_name = ?, updated_at = ?", (friendly_name, ts(at))
        )

    async def archive_model(self, model_id: str, at: datetime) -> ChargingStationModel:
        return await self._update(model_id, "is_archived = 1, updated_at = ?", (ts(at),))

    async def _update(
        self, model_id: str, sets: str, params: tuple[Any, ...]
    ) -> ChargingStationModel:
        def op(conn: sqlite3.Connection) -> ChargingStationModel:
            conn.execute(
                f"UPDATE charging_station_models SET {sets} WHERE id = ?", (*params, model_id)
            )
            found = _model(conn, model_id)
            if found is None:
                raise NotFound(f"charging-station model {model_id!r} not found")
            return found

        return await self._db.write(op)
