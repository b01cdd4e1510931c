"""What the API layer is given by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from csms.domain.throttling import FailureThrottle
from csms.ocpp.sessions import SessionRegistry
from csms.services.alerts import AlertService
from csms.services.api_tokens import ApiTokenService
from csms.services.catalogue import CatalogueService
from csms.services.charger_state import ChargerStateService
from csms.services.chargers import ChargerService
from csms.services.circuits import CircuitService
from csms.services.commands import CommandService
from csms.services.events import EventBus
from csms.services.evses import EvseService
from csms.services.history import HistoryService
from csms.services.id_tags import IdTagService
from csms.services.kpis import KpiService
from csms.services.loadmanagement import LoadManager
from csms.services.messages import MessageQueryService
from csms.services.reports import ReportService
from csms.services.sites import SiteService
from csms.services.transactions import TransactionService
from csms.services.webhooks import WebhookService

__all__ = ["ApiContext"]


@dataclass(frozen=True, slots=True)
class ApiContext:
    chargers: ChargerService
    transactions: TransactionService
    id_tags: IdTagService
    api_tokens: ApiTokenService
    messages: MessageQueryService
    commands: CommandService
    state: ChargerStateService
    reports: ReportService
    sites: SiteService
    catalogue: CatalogueService
    evses: EvseService
    circuits: CircuitService
    load_manager: LoadManager
    history: HistoryService
    kpis: KpiService
    alerts: AlertService
    webhooks: WebhookService
    sessions: SessionRegistry
    events: EventBus
    version: str
    # Prometheus text for /metrics (csms.metrics renders it).
    metrics: Callable[[], bytes]
    # /metrics without a token ([api] public_metrics).
    public_metrics: bool = False
    # Request bodies above this are refused with 413 before parsing ([api] max_body_bytes).
    max_body_bytes: int = 1024 * 1024
    # Wrong bearer tokens per client address ([api] auth_max_failures, ...).
    token_failures: FailureThrottle = field(default_factory=lambda: FailureThrottle(10, 60, 60))
    # This node and the live nodes of its cluster for /health; None: not clustered.
    cluster_health: Callable[[], dict[str, Any]] | None = None
