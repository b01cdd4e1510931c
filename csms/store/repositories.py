"""The store interface: one small repository protocol per aggregate (those of the estate in
csms.store.estate_repositories, of monitoring in csms.store.monitoring_repositories, of
webhooks in csms.store.webhook_repositories, of certificates in
csms.store.certificate_repositories and of charger reports in csms.store.report_repositories,
re-exported here), and the ``Store`` that holds one of each.

Services depend on the narrowest repository they need. Two backends implement them all:
``csms.store.sqlite`` (one file, the default) and ``csms.store.postgres``. Every write method
returns only after its change is committed; a backend that cannot reach its database raises
``DatabaseUnavailable`` (csms.domain.errors) instead of guessing. A write method that takes
``events`` writes them to the webhooks' outbox in the commit of its change (csms.store.outbox).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from csms.domain.models import (
    ApiToken,
    BootInfo,
    ChargePoint,
    CommandOutcome,
    CommandRecord,
    ConfigurationKey,
    ConnectorState,
    Credentials,
    IdTag,
    IdTagStatus,
    MessageExchange,
    MeterSample,
    NewIdTag,
    OcppMessage,
    Reservation,
    StoredChargingProfile,
    StoredSample,
)
from csms.domain.paging import Page, Paged
from csms.domain.transactions import (
    EventOutcome,
    StopOutcome,
    Transaction,
    TransactionEvent,
    TransactionStart,
    TransactionStop,
)
from csms.domain.updates import (
    ChargePointChanges,
    IdTagChanges,
)
from csms.store.certificate_repositories import CertificateStore
from csms.store.cluster_repositories import ClusterStore, Holder, Recorded
from csms.store.estate_repositories import CatalogueStore, CircuitStore, EvseStore, SiteStore
from csms.store.monitoring_repositories import AlertStore, HistoryStore, KpiRollupStore
from csms.store.outbox import DeclaredEvents
from csms.store.report_repositories import ChargerReportStore, DeviceModelStore
from csms.store.webhook_repositories import WebhookStore

__all__ = [
    "AlertStore",
    "ApiTokenStore",
    "CatalogueStore",
    "CertificateStore",
    "ChargerReportStore",
    "ChargerStateStore",
    "ChargerStore",
    "CircuitStore",
    "CommandStore",
    "DeviceModelStore",
    "EvseStore",
    "HistoryStore",
    "IdTagStore",
    "KpiRollupStore",
    "MessageLogStore",
    "SiteStore",
    "SocketReport",
    "Store",
    "TransactionStore",
    "WebhookStore",
]


SocketReport = tuple[str, bool, int, int, str]
"""(chargePointId, connected, evseId, connectorId, status): one connector, for the site tree."""


class ChargerStore(Protocol):
    async def get_charge_point(self, cp_id: str) -> ChargePoint | None: ...
    async def list_charge_points(
        self,
        page: Page[str],
        *,
        search: str | None = None,
        connected: bool | None = None,
        site_ids: Collection[str] | None = None,
        model_id: str | None = None,
    ) -> Paged[ChargePoint]:
        """``site_ids``: only chargers on one of these sites (an empty collection: none)."""
        ...

    async def add_charge_point(
        self,
        cp_id: str,
        *,
        name: str | None,
        password_hash: str | None,
        security_profile: int,
        site_id: str | None,
        created_at: datetime,
        model_id: str | None = None,
        external_id: str | None = None,
        boot_answer: str | None = None,
        auto_registered: bool = False,
    ) -> ChargePoint:
        """Conflict when the id is taken; Invalid when the site or (live) model does not exist."""
        ...

    async def count_auto_registered(self) -> int:
        """How many chargers are still as ``allow_unknown_chargers`` let them in."""
        ...

    async def update_charge_point(self, cp_id: str, changes: ChargePointChanges) -> ChargePoint: ...
    async def delete_charge_point(
        self, cp_id: str, *, events: DeclaredEvents[None] | None = None
    ) -> None: ...
    async def get_credentials(self, cp_id: str) -> Credentials | None: ...
    async def record_boot(
        self, cp_id: str, *, ocpp_version: str, boot_info: BootInfo, status: str, at: datetime
    ) -> None:
        """Also links the charger to the live catalogue model of its vendor and model, unless
        it has a model already."""
        ...

    async def record_connector_status(
        self, cp_id: str, state: ConnectorState, *, events: DeclaredEvents[None] | None = None
    ) -> None:
        """Unless a newer status is known; a new status or error also starts a status
        interval (and ends the one before)."""
        ...

    async def record_connection(
        self,
        cp_id: str,
        *,
        ocpp_version: str,
        connected: bool,
        at: datetime,
        reason: str | None = None,
        events: DeclaredEvents[Recorded] | None = None,
        holder: Holder | None = None,
    ) -> Recorded:
        """Also opens the charger's connection interval, or closes it with ``reason``. In a
        cluster, ``holder`` claims or releases the charger in the same commit (ADR 013); a
        release that does not hold records nothing (``Recorded.changed`` False)."""
        ...

    async def record_last_seen(self, seen: Sequence[tuple[str, datetime]]) -> None: ...
    async def record_firmware_status(
        self, cp_id: str, status: str, *, events: DeclaredEvents[None] | None = None
    ) -> None: ...
    async def record_diagnostics_status(self, cp_id: str, status: str) -> None: ...
    async def mark_all_disconnected(self) -> None:
        """At start: also closes the connection intervals a stop left open, at the moment each
        charger was last heard."""
        ...

    async def chargers_by_site(self) -> dict[str | None, list[str]]:
        """Every charger's id under its siteId (None: no site), for the site tree."""
        ...

    async def list_socket_states(self) -> list[SocketReport]:
        """Every reported connector of every charger, with whether the charger is connected."""
        ...


class IdTagStore(Protocol):
    async def get_id_tag(self, uid: str) -> IdTag | None: ...
    async def list_id_tags(
        self,
        page: Page[str],
        *,
        user_id: str | None = None,
        status: IdTagStatus | None = None,
    ) -> Paged[IdTag]:
        """Ordered by uid (the cursor); ``user_id`` matches exactly."""
        ...

    async def add_id_tag(self, tag: NewIdTag, created_at: datetime) -> IdTag: ...
    async def update_id_tag(self, uid: str, changes: IdTagChanges, updated_at: datetime) -> IdTag:
        """Apply ``changes`` and set ``last_updated_at`` to ``updated_at``, even when
        ``changes`` is empty (every PATCH counts as an update)."""
        ...

    async def delete_id_tag(self, uid: str) -> None: ...


class ApiTokenStore(Protocol):
    """API token records, keyed by id and found by the token's hash."""

    async def add_api_token(self, token: ApiToken, token_hash: str) -> ApiToken:
        """Store the record; for a hash already stored, update its role, label, expiry and
        source in place (the config file is installed again at every start) and keep its id,
        creation and last use. Returns the stored record."""
        ...

    async def find_api_token(self, token_hash: str) -> ApiToken | None: ...
    async def list_api_tokens(self, page: Page[str]) -> Paged[ApiToken]:
        """Ordered by id."""
        ...

    async def delete_api_token(self, token_id: str) -> None:
        """NotFound when there is no such token."""
        ...

    async def record_api_token_uses(self, uses: Sequence[tuple[str, datetime]]) -> None:
        """Set each (id, at) token's last use to ``at`` unless it already has a later one;
        ids no longer stored are skipped."""
        ...

    async def remove_config_tokens(self, keep_hashes: Collection[str]) -> list[str]:
        """Delete the ``config`` tokens whose hash is not in ``keep_hashes``; their ids."""
        ...


class TransactionStore(Protocol):
    """Transactions and their meter values. The rules are csms.domain.transactions'; a write
    loads the transaction, applies the rule and saves the result in one commit."""

    async def start_transaction(
        self,
        start: TransactionStart,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[tuple[Transaction, bool]] | None = None,
    ) -> tuple[Transaction, bool]:
        """Create the transaction, or return the existing one for a replay; True when created."""
        ...

    async def stop_transaction(
        self,
        stop: TransactionStop,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[StopOutcome | None] | None = None,
    ) -> StopOutcome | None:
        """End it (a second stop changes nothing); None when the transaction is unknown, whose
        samples are still kept."""
        ...

    async def record_transaction_event(
        self,
        event: TransactionEvent,
        samples: Sequence[MeterSample] = (),
        *,
        events: DeclaredEvents[EventOutcome] | None = None,
    ) -> EventOutcome: ...

    async def add_meter_values(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
        *,
        events: DeclaredEvents[int] | None = None,
    ) -> int:
        """Store samples once each (returns how many were new), attached to the transaction
        csms.domain.transactions.owner_of_samples picks."""
        ...

    async def get_transaction(self, pk: int) -> Transaction | None: ...
    async def find_transactions(
        self, transaction_id: str, *, cp_id: str | None = None
    ) -> list[Transaction]:
        """Transactions with this charger-side transactionId (on any charger unless ``cp_id``)."""
        ...

    async def list_transactions(
        self,
        page: Page[int],
        *,
        cp_id: str | None = None,
        active: bool | None = None,
        id_tag: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        site_ids: Collection[str] | None = None,
    ) -> Paged[Transaction]:
        """Newest first; ``start``/``end`` keep those overlapping the window; ``site_ids``
        those of chargers now on one of these sites. Cursor: the pk."""
        ...

    async def list_meter_values(
        self, transaction_pk: int, page: Page[int]
    ) -> Paged[tuple[int, MeterSample]]:
        """In time order (ties by arrival). Cursor: the id of the last sample seen."""
        ...

    async def query_meter_values(
        self,
        page: Page[int],
        *,
        start: datetime,
        end: datetime,
        cp_id: str | None = None,
        site_ids: Collection[str] | None = None,
        evse_id: int | None = None,
        measurand: str | None = None,
    ) -> Paged[StoredSample]:
        """Every stored sample with ``start <= timestamp < end``, in a transaction or not: of the
        charger ``cp_id`` (registered or not: a deleted charger's samples stay), of the chargers
        now on one of ``site_ids`` (empty: none), or (neither given) of every registered charger.
        Ordered by (charger, timestamp, evseId, connectorId, kind): the order of the key that
        stores a sample once, so a page is a range of that index. Cursor: the id of the last
        sample seen; an unknown one, or one outside the chargers asked for, is
        Invalid("startingAfter")."""
        ...


class MessageLogStore(Protocol):
    async def append_exchanges(self, exchanges: Sequence[MessageExchange]) -> None:
        """Written behind the writes chargers wait for: the log is an audit trail, not state."""
        ...

    async def list_messages(
        self,
        page: Page[int],
        *,
        cp_id: str | None = None,
        action: str | None = None,
        direction: str | None = None,
        since: datetime | None = None,
    ) -> Paged[OcppMessage]:
        """Frame by frame, oldest first. Cursor: the id of the last frame seen."""
        ...

    async def purge_messages(self, before: datetime) -> int: ...


class CommandStore(Protocol):
    async def allocate_command_id(self) -> int:
        """A new, unique command id, known before the command is written (it becomes the
        OCPP requestId/remoteStartId of the call, which is written together with it)."""
        ...

    async def add_command(
        self,
        command_id: int,
        cp_id: str,
        action: str,
        *,
        requested_by: str,
        request: dict[str, Any],
        created_at: datetime,
        ocpp_action: str | None = None,
        ocpp_payload: dict[str, Any] | None = None,
    ) -> CommandRecord: ...
    async def complete_command(
        self,
        command_id: int,
        outcome: CommandOutcome,
        *,
        events: DeclaredEvents[CommandRecord] | None = None,
    ) -> CommandRecord: ...
    async def get_command(self, command_id: int) -> CommandRecord | None: ...
    async def list_commands(
        self, page: Page[int], *, cp_id: str | None = None
    ) -> Paged[CommandRecord]:
        """Newest first. Cursor: the id of the last command seen."""
        ...


class ChargerStateStore(Protocol):
    """State a charger holds because an operator command told it to."""

    async def put_charging_profile(self, profile: StoredChargingProfile) -> None: ...
    async def clear_charging_profiles(
        self,
        cp_id: str,
        *,
        profile_id: int | None,
        evse_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> int: ...
    async def list_charging_profiles(self, cp_id: str) -> list[StoredChargingProfile]: ...
    async def put_reservation(self, reservation: Reservation) -> None: ...
    async def end_reservation(
        self, cp_id: str, reservation_id: int, status: str, at: datetime
    ) -> bool: ...
    async def expire_reservations(self, now: datetime) -> int: ...
    async def list_reservations(self, cp_id: str) -> list[Reservation]: ...
    async def set_local_list_version(self, cp_id: str, version: int | None) -> None: ...
    async def get_local_list_version(self, cp_id: str) -> int | None: ...
    async def put_configuration_keys(
        self, cp_id: str, keys: Sequence[tuple[str, str | None, bool | None]], at: datetime
    ) -> None: ...
    async def list_configuration_keys(self, cp_id: str) -> list[ConfigurationKey]: ...


class Store(Protocol):
    """One repository per aggregate over one database, opened and closed together."""

    @property
    def chargers(self) -> ChargerStore: ...
    @property
    def sites(self) -> SiteStore: ...
    @property
    def circuits(self) -> CircuitStore: ...
    @property
    def catalogue(self) -> CatalogueStore: ...
    @property
    def evses(self) -> EvseStore: ...
    @property
    def id_tags(self) -> IdTagStore: ...
    @property
    def api_tokens(self) -> ApiTokenStore: ...
    @property
    def transactions(self) -> TransactionStore: ...
    @property
    def device_model(self) -> DeviceModelStore: ...
    @property
    def reports(self) -> ChargerReportStore: ...
    @property
    def message_log(self) -> MessageLogStore: ...
    @property
    def history(self) -> HistoryStore: ...
    @property
    def kpi_rollup(self) -> KpiRollupStore: ...
    @property
    def commands(self) -> CommandStore: ...
    @property
    def charger_state(self) -> ChargerStateStore: ...
    @property
    def alerts(self) -> AlertStore: ...
    @property
    def webhooks(self) -> WebhookStore: ...
    @property
    def certificates(self) -> CertificateStore: ...
    @property
    def cluster(self) -> ClusterStore | None:
        """Who holds which charger in a cluster (PostgreSQL); None on a single-node store."""
        ...

    async def open(self) -> None:
        """Connect and migrate; raises DatabaseUnavailable when the database cannot be reached."""
        ...

    async def close(self) -> None:
        """Commit what is queued, then disconnect."""
        ...
