"""The PostgreSQL backend (asyncpg): one repository per aggregate over one shared
``PostgresDatabase``, the same shape as csms.store.sqlite."""

from __future__ import annotations

from collections.abc import Callable

from csms.store.cluster_repositories import ClusterStore
from csms.store.postgres.alerts import PostgresAlerts
from csms.store.postgres.api_tokens import PostgresApiTokens
from csms.store.postgres.catalogue import PostgresCatalogue
from csms.store.postgres.certificates import PostgresCertificates
from csms.store.postgres.charger_state import PostgresChargerState
from csms.store.postgres.chargers import PostgresChargers
from csms.store.postgres.circuits import PostgresCircuits
from csms.store.postgres.cluster import PostgresCluster
from csms.store.postgres.commands import PostgresCommands
from csms.store.postgres.database import PostgresDatabase
from csms.store.postgres.device_model import PostgresDeviceModel
from csms.store.postgres.evses import PostgresEvses
from csms.store.postgres.history import PostgresHistory
from csms.store.postgres.id_tags import PostgresIdTags
from csms.store.postgres.kpi_rollup import PostgresKpiRollup
from csms.store.postgres.message_log import PostgresMessageLog
from csms.store.postgres.reports import PostgresReports
from csms.store.postgres.sites import PostgresSites
from csms.store.postgres.transactions import PostgresTransactions
from csms.store.postgres.webhooks import PostgresWebhooks

__all__ = ["PostgresStore"]


class PostgresStore:
    """Implements csms.store.repositories.Store over one PostgreSQL database."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 8,
        statement_timeout: float = 30.0,
        max_batch: int = 512,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.database = PostgresDatabase(
            url,
            pool_size=pool_size,
            statement_timeout=statement_timeout,
            max_batch=max_batch,
            on_batch=on_batch,
        )
        db = self.database
        self.chargers = PostgresChargers(db)
        self.sites = PostgresSites(db)
        self.circuits = PostgresCircuits(db)
        self.catalogue = PostgresCatalogue(db)
        self.evses = PostgresEvses(db)
        self.id_tags = PostgresIdTags(db)
        self.api_tokens = PostgresApiTokens(db)
        self.transactions = PostgresTransactions(db)
        self.device_model = PostgresDeviceModel(db)
        self.reports = PostgresReports(db)
        self.message_log = PostgresMessageLog(db)
        self.history = PostgresHistory(db)
        self.kpi_rollup = PostgresKpiRollup(db)
        self.commands = PostgresCommands(db)
        self.charger_state = PostgresChargerState(db)
        self.alerts = PostgresAlerts(db)
        self.webhooks = PostgresWebhooks(db)
        self.certificates = PostgresCertificates(db)
        self.cluster: ClusterStore | None = PostgresCluster(db)

    async def open(self) -> None:
        await self.database.open()

    async def close(self) -> None:
        await self.database.close()
