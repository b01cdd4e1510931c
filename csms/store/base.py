"""The store interface: small repository protocols, one per aggregate.

Services depend on the narrowest protocol they need. SQLite implements them all today
(csms/store/sqlite.py); a PostgreSQL backend is meant to sit beside it behind the same protocols.
Every write method returns only after its change is committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from csms.domain.models import (
    ApiToken,
    BootInfo,
    ChargePoint,
    CommandRecord,
    ConfigurationKey,
    ConnectorState,
    DeviceVariable,
    IdTag,
    MeterSample,
    OcppMessage,
    Reservation,
    Role,
    StoredChargingProfile,
    Transaction,
    TransactionEvent,
    TransactionEventOutcome,
    TransactionStart,
    TransactionStop,
)

__all__ = [
    "UNSET",
    "ApiTokenStore",
    "ChargePointChanges",
    "ChargerReport",
    "ChargerReportStore",
    "ChargerStateStore",
    "ChargerStore",
    "CommandOutcome",
    "CommandStore",
    "Credentials",
    "DeviceModelStore",
    "IdTagChanges",
    "IdTagStore",
    "MessageLogStore",
    "MessageRecord",
    "Page",
    "Store",
    "TransactionStore",
]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: _Unset = _Unset()
"""Marks a field a partial update leaves alone (None means: clear it)."""


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 50
    starting_after: str | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    password_hash: str | None
    security_profile: int


@dataclass(frozen=True, slots=True)
class ChargePointChanges:
    name: str | _Unset | None = UNSET
    password_hash: str | _Unset | None = UNSET
    security_profile: int | _Unset = UNSET
    site_id: str | _Unset | None = UNSET
    registration_status: str | _Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class IdTagChanges:
    status: str | _Unset = UNSET
    type: str | _Unset = UNSET
    expire_at: datetime | _Unset | None = UNSET
    parent_id_tag: str | _Unset | None = UNSET
    label: str | _Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One frame for the message log; ``frame`` is the raw JSON text as sent or received."""

    charge_point_id: str
    direction: str  # "in" | "out"
    message_type: int  # 2 Call, 3 CallResult, 4 CallError
    unique_id: str | None
    action: str | None
    frame: str
    timestamp: datetime


class ChargerStore(Protocol):
    async def get_charge_point(self, cp_id: str) -> ChargePoint | None: ...
    async def list_charge_points(
        self, page: Page, *, search: str | None = None, connected: bool | None = None
    ) -> list[ChargePoint]: ...
    async def add_charge_point(
        self,
        cp_id: str,
        *,
        name: str | None,
        password_hash: str | None,
        security_profile: int,
        site_id: str | None,
        created_at: datetime,
    ) -> ChargePoint: ...
    async def update_charge_point(self, cp_id: str, changes: ChargePointChanges) -> ChargePoint: ...
    async def delete_charge_point(self, cp_id: str) -> None: ...
    async def get_credentials(self, cp_id: str) -> Credentials | None: ...
    async def record_boot(
        self, cp_id: str, *, ocpp_version: str, boot_info: BootInfo, accepted: bool, at: datetime
    ) -> None: ...
    async def record_connector_status(self, cp_id: str, state: ConnectorState) -> None: ...
    async def record_connection(
        self, cp_id: str, *, ocpp_version: str, connected: bool, at: datetime
    ) -> None: ...
    async def record_last_seen(self, seen: Sequence[tuple[str, datetime]]) -> None: ...
    async def record_firmware_status(self, cp_id: str, status: str) -> None: ...
    async def record_diagnostics_status(self, cp_id: str, status: str) -> None: ...
    async def mark_all_disconnected(self) -> None: ...


class IdTagStore(Protocol):
    async def get_id_tag(self, uid: str) -> IdTag | None: ...
    async def list_id_tags(self, page: Page) -> list[IdTag]: ...
    async def add_id_tag(self, tag: IdTag, created_at: datetime) -> IdTag: ...
    async def update_id_tag(self, uid: str, changes: IdTagChanges) -> IdTag: ...
    async def delete_id_tag(self, uid: str) -> None: ...


class ApiTokenStore(Protocol):
    async def add_api_token(
        self, token_hash: str, *, name: str, role: Role, created_at: datetime
    ) -> None: ...
    async def find_api_token(self, token_hash: str) -> ApiToken | None: ...


class TransactionStore(Protocol):
    async def start_transaction(
        self, start: TransactionStart, samples: Sequence[MeterSample] = ()
    ) -> tuple[Transaction, bool]:
        """Create the transaction, or return the existing one for a replay; True when created."""
        ...

    async def stop_transaction(
        self, stop: TransactionStop, samples: Sequence[MeterSample] = ()
    ) -> Transaction | None:
        """End it (a second stop changes nothing); None when the transaction is unknown."""
        ...

    async def record_transaction_event(
        self, event: TransactionEvent, samples: Sequence[MeterSample] = ()
    ) -> TransactionEventOutcome:
        """Apply one 2.0.1 TransactionEvent; a seqNo seen before changes nothing."""
        ...

    async def add_meter_values(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
    ) -> int:
        """Store samples once each; without a known transaction they go to the one running on
        that EVSE, if any."""
        ...

    async def get_transaction(self, transaction_id: str) -> Transaction | None: ...
    async def list_transactions(
        self,
        page: Page,
        *,
        cp_id: str | None = None,
        active: bool | None = None,
        id_tag: str | None = None,
    ) -> list[Transaction]: ...
    async def list_meter_values(
        self, transaction_id: str, *, limit: int, starting_after: int | None
    ) -> list[tuple[int, MeterSample]]: ...


class DeviceModelStore(Protocol):
    async def upsert_device_variables(
        self, cp_id: str, variables: Sequence[DeviceVariable], at: datetime
    ) -> None: ...
    async def list_device_variables(self, cp_id: str) -> list[DeviceVariable]: ...


@dataclass(frozen=True, slots=True)
class ChargerReport:
    id: int
    charge_point_id: str
    kind: str
    timestamp: datetime
    data: dict[str, Any]


class ChargerReportStore(Protocol):
    async def add_charger_report(
        self, cp_id: str, kind: str, timestamp: datetime, data: dict[str, Any]
    ) -> None: ...
    async def list_charger_reports(
        self, cp_id: str, *, kind: str | None = None, limit: int = 100
    ) -> list[ChargerReport]: ...


class MessageLogStore(Protocol):
    async def append_messages(self, records: Sequence[MessageRecord]) -> None: ...
    async def list_messages(
        self,
        *,
        limit: int,
        starting_after: int | None,
        cp_id: str | None = None,
        action: str | None = None,
        direction: str | None = None,
        since: datetime | None = None,
    ) -> list[OcppMessage]: ...
    async def purge_messages(self, before: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    state: str  # completed | failed
    completed_at: datetime
    duration_ms: float
    status: str | None = None
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class CommandStore(Protocol):
    def next_command_id(self) -> int:
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
    async def complete_command(self, command_id: int, outcome: CommandOutcome) -> CommandRecord: ...
    async def get_command(self, command_id: int) -> CommandRecord | None: ...
    async def list_commands(
        self, *, limit: int, starting_after: int | None, cp_id: str | None = None
    ) -> list[CommandRecord]: ...


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
    async def set_local_list_version(self, cp_id: str, version: int) -> None: ...
    async def get_local_list_version(self, cp_id: str) -> int | None: ...
    async def put_configuration_keys(
        self, cp_id: str, keys: Sequence[tuple[str, str | None, bool | None]], at: datetime
    ) -> None: ...
    async def list_configuration_keys(self, cp_id: str) -> list[ConfigurationKey]: ...


class Store(
    ChargerStore,
    IdTagStore,
    ApiTokenStore,
    TransactionStore,
    DeviceModelStore,
    ChargerReportStore,
    MessageLogStore,
    CommandStore,
    ChargerStateStore,
    Protocol,
):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
