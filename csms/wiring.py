"""The object graph of the central system: every service over one store, and the OCPP versions'
handlers over them. Built once by csms.app (which adds the gateway, the API and the lifecycle)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from csms.config import Settings
from csms.domain.clock import Clock
from csms.domain.webhooks import RetryPolicy
from csms.metrics import Metrics
from csms.ocpp.dispatch import CommandDispatcher
from csms.ocpp.schemas import V16_SCHEMAS, V201_SCHEMAS
from csms.ocpp.sessions import SessionRegistry
from csms.ocpp.v16.handlers import ALLOWED_BEFORE_BOOT as V16_ALLOWED_BEFORE_BOOT
from csms.ocpp.v16.handlers import V16Handlers
from csms.ocpp.v201.handlers import ALLOWED_BEFORE_BOOT as V201_ALLOWED_BEFORE_BOOT
from csms.ocpp.v201.handlers import V201Handlers
from csms.ocpp.versions import ProtocolSupport
from csms.services.alerts import AlertService
from csms.services.api_tokens import ApiTokenService
from csms.services.authorization import AuthorizationService
from csms.services.catalogue import CatalogueService
from csms.services.certificate_authority import CaFiles
from csms.services.certificates import CertificateService
from csms.services.charger_state import ChargerStateService
from csms.services.chargers import ChargerService
from csms.services.circuits import CircuitService
from csms.services.commands import ChargerLink, CommandService
from csms.services.credential_guard import CredentialGuard
from csms.services.events import EventBus
from csms.services.evses import EvseService
from csms.services.history import HistoryService
from csms.services.id_tags import IdTagService
from csms.services.kpi_rollup import KpiRollup
from csms.services.kpis import KpiService
from csms.services.loadmanagement import LoadManager
from csms.services.message_log import MessageLog
from csms.services.messages import MessageQueryService
from csms.services.profile_sender import ProfileSender
from csms.services.reports import ReportService
from csms.services.sites import SiteService
from csms.services.socket_index import SocketIndex
from csms.services.transactions import TransactionService
from csms.services.webhooks import WebhookService
from csms.store.repositories import Store

__all__ = ["Services", "build_protocols", "build_services"]


@dataclass
class Services:
    """Every service of the central system, built once by ``build_services``."""

    chargers: ChargerService
    authorization: AuthorizationService
    transactions: TransactionService
    id_tags: IdTagService
    api_tokens: ApiTokenService
    message_log: MessageLog
    messages: MessageQueryService
    reports: ReportService
    state: ChargerStateService
    commands: CommandService
    sites: SiteService
    catalogue: CatalogueService
    evses: EvseService
    circuits: CircuitService
    load_manager: LoadManager
    history: HistoryService
    kpis: KpiService
    kpi_rollup: KpiRollup
    alerts: AlertService
    webhooks: WebhookService
    certificates: CertificateService
    events: EventBus


def build_services(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    sessions: SessionRegistry,
    sockets: SocketIndex,
    metrics: Metrics,
    is_connected: Callable[[str], bool],
    node_id: str | None = None,
    charger_link: ChargerLink | None = None,
) -> Services:
    events = EventBus(clock)
    message_log = MessageLog(
        store.message_log,
        clock,
        retention=timedelta(days=settings.database.message_log_retention_days),
        max_frame_bytes=settings.ocpp.message_log_max_frame_bytes,
        max_buffer_bytes=settings.ocpp.message_log_max_buffer_bytes,
        on_drop=metrics.message_log_dropped,
    )
    authorization = AuthorizationService(store.id_tags, clock)
    chargers = ChargerService(
        store.chargers,
        events,
        clock,
        heartbeat_interval=settings.ocpp.heartbeat_interval,
        boot_retry_interval=settings.ocpp.boot_retry_interval,
        default_registration_status=settings.ocpp.default_registration_status,
        allow_unknown_chargers=settings.ocpp.allow_unknown_chargers,
        revoked=store.certificates,
        max_unknown_chargers=settings.ocpp.max_unknown_chargers,
        guard=CredentialGuard(
            max_failures_per_identity=settings.ocpp.auth_max_failures_per_identity,
            max_failures_per_address=settings.ocpp.auth_max_failures_per_address,
            window=settings.ocpp.auth_failure_window_s,
            lockout=settings.ocpp.auth_lockout_s,
            concurrency=settings.ocpp.password_check_concurrency,
        ),
        node_id=node_id,
    )
    ca_files = CaFiles.resolve(
        settings.tls.ca_cert_file, settings.tls.ca_key_file, settings.pki_dir
    )
    certificates = CertificateService(
        store.certificates,
        events,
        clock,
        files=ca_files,
        validity_days=settings.tls.client_cert_days,
    )
    reports = ReportService(store.device_model, store.reports, events, clock)
    state = ChargerStateService(store.charger_state, clock)
    transactions = TransactionService(store.transactions, events)
    sockets.attach(events)
    chargers.end_session = sessions.end
    commands = CommandService(
        store.commands,
        store.id_tags,
        charger_link or CommandDispatcher(sessions),
        chargers,
        state,
        reports,
        events,
        clock,
        default_timeout=settings.ocpp.command_timeout,
        max_timeout=settings.ocpp.command_timeout_max,
    )
    evses = EvseService(store.evses, store.chargers, store.catalogue, clock)
    sites = SiteService(store.sites, store.chargers, sockets, clock)
    services = Services(
        chargers=chargers,
        authorization=authorization,
        transactions=transactions,
        id_tags=IdTagService(store.id_tags, clock),
        api_tokens=ApiTokenService(store.api_tokens, clock),
        message_log=message_log,
        messages=MessageQueryService(store.message_log, message_log),
        reports=reports,
        state=state,
        commands=commands,
        sites=sites,
        catalogue=CatalogueService(store.catalogue, clock),
        evses=evses,
        circuits=CircuitService(store.circuits, transactions, clock),
        load_manager=LoadManager(
            store.circuits,
            transactions,
            evses,
            ProfileSender(commands, clock, timeout=settings.ocpp.command_timeout),
            events,
            clock,
            meter_timeout=settings.loadmanagement.meter_timeout_s,
            is_connected=is_connected,
        ),
        history=HistoryService(
            store.history,
            store.chargers,
            clock,
            retention=timedelta(days=settings.monitoring.history_retention_days),
        ),
        kpis=KpiService(store.history, store.kpi_rollup, store.chargers, sites, clock),
        kpi_rollup=KpiRollup(
            store.kpi_rollup,
            clock,
            retention=timedelta(days=settings.monitoring.history_retention_days),
        ),
        alerts=AlertService(
            store.alerts,
            chargers,
            events,
            clock,
            disconnected_after=settings.monitoring.disconnected_alert_after_s,
        ),
        webhooks=WebhookService(
            store.webhooks,
            clock,
            policy=RetryPolicy(
                retry_for=timedelta(seconds=settings.webhooks.retry_for_s),
                first_delay=settings.webhooks.retry_first_delay_s,
            ),
            request_timeout=settings.webhooks.request_timeout_s,
            outbox_retention=timedelta(days=settings.webhooks.outbox_retention_days),
        ),
        certificates=certificates,
        events=events,
    )
    events.attach(services.webhooks)
    services.load_manager.attach(events)
    services.alerts.attach(events)
    services.circuits.on_change = services.load_manager.on_circuit_event
    services.evses.on_change = services.load_manager.on_evse_change
    return services


def build_protocols(settings: Settings, services: Services) -> dict[str, ProtocolSupport]:
    """Each OCPP version's schemas and handlers over the services."""
    authorization = services.authorization
    certificates = services.certificates
    return {
        "1.6": ProtocolSupport(
            "1.6",
            V16_SCHEMAS,
            V16Handlers(
                services.chargers,
                authorization,
                services.transactions,
                services.reports,
                certificates,
                follow_up_timeout=settings.ocpp.command_timeout,
            ).table(),
            V16_ALLOWED_BEFORE_BOOT,
        ),
        "2.0.1": ProtocolSupport(
            "2.0.1",
            V201_SCHEMAS,
            V201Handlers(
                services.chargers,
                authorization,
                services.transactions,
                services.reports,
                services.state,
                certificates,
                follow_up_timeout=settings.ocpp.command_timeout,
            ).table(),
            V201_ALLOWED_BEFORE_BOOT,
        ),
    }
