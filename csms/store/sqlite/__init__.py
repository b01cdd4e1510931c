"""The SQLite backend: one repository per aggregate over one shared ``SqliteDatabase``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from csms.store.cluster_repositories import ClusterStore
from csms.store.sqlite.alerts import SqliteAlerts
from csms.store.sqlite.api_tokens import SqliteApiTokens
from csms.store.sqlite.catalogue import SqliteCatalogue
from csms.store.sqlite.certificates import SqliteCertificates
from csms.store.sqlite.charger_state import SqliteChargerState
from csms.store.sqlite.chargers import SqliteChargers
from csms.store.sqlite.circuits import SqliteCircuits
from csms.store.sqlite.commands import SqliteCommands
from csms.store.sqlite.database import SqliteDatabase
from csms.store.sqlite.device_model import SqliteDeviceModel
from csms.store.sqlite.evses import SqliteEvses
from csms.store.sqlite.history import SqliteHistory
from csms.store.sqlite.id_tags import SqliteIdTags
from csms.store.sqlite.kpi_rollup import SqliteKpiRollup
from csms.store.sqlite.message_log import SqliteMessageLog
from csms.store.sqlite.reports import SqliteReports
from csms.store.sqlite.sites import SqliteSites
from csms.store.sqlite.transactions import SqliteTransactions
from csms.store.sqlite.webhooks import SqliteWebhooks

__all__ = ["SqliteStore"]


class SqliteStore:
    """Implements csms.store.repositories.Store over one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        max_batch: int = 512,
        on_batch: Callable[[int, float], None] | None = None,
        wal_max_bytes: int = 48 * 1024 * 1024,
        checkpoint_interval: float = 0.5,
    ) -> None:
        self.database = SqliteDatabase(
            path,
            synchronous=synchronous,
            max_batch=max_batch,
            on_batch=on_batch,
            wal_max_bytes=wal_max_bytes,
            checkpoint_interval=checkpoint_interval,
        )
        db = self.database
        self.chargers = SqliteChargers(db)
        self.sites = SqliteSites(db)
        self.circuits = SqliteCircuits(db)
        self.catalogue = SqliteCatalogue(db)
        self.evses = SqliteEvses(db)
        self.id_tags = SqliteIdTags(db)
        self.api_tokens = SqliteApiTokens(db)
        self.transactions = SqliteTransactions(db)
        self.device_model = SqliteDeviceModel(db)
        self.reports = SqliteReports(db)
        self.message_log = SqliteMessageLog(db)
        self.history = SqliteHistory(db)
        self.kpi_rollup = SqliteKpiRollup(db)
        self.commands = SqliteCommands(db)
        self.charger_state = SqliteChargerState(db)
        self.alerts = SqliteAlerts(db)
        self.webhooks = SqliteWebhooks(db)
        self.certificates = SqliteCertificates(db)
        # Single-node only: no record of which node holds which charger (ADR 013).
        self.cluster: ClusterStore | None = None

    async def open(self) -> None:
        await self.database.open()

    async def close(self) -> None:
        await self.database.close()
