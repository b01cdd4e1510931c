"""Alerts, pure: what an operator must look at, raised and resolved by what chargers report and
what the CSMS observes (API.md "Monitoring"; docs/API.md "Alerts").

An alert has a name (what happened), a category and an urgency that follow from the name, and a
target: the charger, and the EVSE and connector when the cause is theirs. At most one alert per
name and target is open (Triggered or Acknowledged) at a time: a cause seen again while one is
open repeats it (``repeated``: its details become the latest cause's, with a count) instead of
raising a second one. An open alert is resolved by its cause going away (``Clearance``) or by an
operator (``apply_operator_change``); a Resolved alert is final, and the same cause seen later
raises a new alert.

What reports mean is decided here too, from version-neutral data (``status_changes``,
``call_error``, ``security_event``...): the service only feeds them and stores the outcome.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from csms.domain.clock import format_timestamp
from csms.domain.errors import Invalid
from csms.domain.models import ConnectorState

__all__ = [
    "CALL_ERROR_CODE",
    "CRITICAL_SECURITY_EVENTS",
    "DEFAULT_WINDOW",
    "KINDS",
    "ROUTINE_SECURITY_EVENTS",
    "Alert",
    "AlertCategory",
    "AlertFilter",
    "AlertKey",
    "AlertKind",
    "AlertName",
    "AlertStatus",
    "Change",
    "Clearance",
    "Occurrence",
    "OperatorChange",
    "Target",
    "Urgency",
    "alert_document",
    "alert_key",
    "apply_operator_change",
    "call_error",
    "default_window",
    "disconnected",
    "is_critical_security_event",
    "opened",
    "profile_rejected",
    "reconnected",
    "repeated",
    "resolved_by_cause",
    "security_event",
    "status_changes",
]


class AlertName(StrEnum):
    CHARGER_DISCONNECTED = "CHARGER_DISCONNECTED"
    FAULTED = "FAULTED"
    GROUND_FAILURE = "GROUND_FAILURE"
    VENDOR_ERROR_CODE = "VENDOR_ERROR_CODE"
    CALL_ERROR = "CALL_ERROR"
    PROFILE_REJECTED = "PROFILE_REJECTED"
    SECURITY_EVENT = "SECURITY_EVENT"


class AlertCategory(StrEnum):
    CONNECTIVITY = "connectivity"
    HARDWARE = "hardware"
    PROTOCOL = "protocol"
    LOAD_MANAGEMENT = "loadmanagement"
    SECURITY = "security"


class Urgency(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AlertStatus(StrEnum):
    TRIGGERED = "Triggered"
    ACKNOWLEDGED = "Acknowledged"
    RESOLVED = "Resolved"


@dataclass(frozen=True, slots=True)
class AlertKind:
    category: AlertCategory
    urgency: Urgency
    cause_resolves: bool
    """Whether a later report resolves it; when not, only an operator does."""


KINDS: Mapping[AlertName, AlertKind] = MappingProxyType(
    {
        # Drivers cannot use it remotely, and the CSMS can no longer manage or bill it.
        AlertName.CHARGER_DISCONNECTED: AlertKind(
            AlertCategory.CONNECTIVITY, Urgency.HIGH, cause_resolves=True
        ),
        AlertName.FAULTED: AlertKind(AlertCategory.HARDWARE, Urgency.HIGH, cause_resolves=True),
        # An electrical safety fault: someone should look even when the connector recovers.
        AlertName.GROUND_FAILURE: AlertKind(
            AlertCategory.HARDWARE, Urgency.HIGH, cause_resolves=True
        ),
        # Vendor-specific and often informational: only the vendor's manual says how bad it is.
        AlertName.VENDOR_ERROR_CODE: AlertKind(
            AlertCategory.HARDWARE, Urgency.LOW, cause_resolves=True
        ),
        # Usually a feature the charger lacks or a firmware bug: nothing stops working at once.
        AlertName.CALL_ERROR: AlertKind(AlertCategory.PROTOCOL, Urgency.LOW, cause_resolves=False),
        # Its circuit reserves the charger's maximum: safe, but capacity is lost until fixed.
        AlertName.PROFILE_REJECTED: AlertKind(
            AlertCategory.LOAD_MANAGEMENT, Urgency.MEDIUM, cause_resolves=False
        ),
        AlertName.SECURITY_EVENT: AlertKind(
            AlertCategory.SECURITY, Urgency.HIGH, cause_resolves=False
        ),
    }
)

CRITICAL_SECURITY_EVENTS: frozenset[str] = frozenset(
    {
        # Marked critical by the OCPP 2.0.1 appendix ("Security events") and/or the OCPP 1.6
        # security whitepaper (section 8), and never routine:
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
        "InvalidCsmsCertificate",
        "InvalidCentralSystemCertificate",  # 1.6's name
        "InvalidChargingStationCertificate",
        "InvalidChargePointCertificate",  # 1.6's name
        "InvalidTLSVersion",
        "InvalidTLSCipherSuite",
        "MaintenanceLoginFailed",
        # Not marked critical by either (a charger need not push them), but a charger that does
        # push one reports an attack or a broken trust relation:
        "AttemptedReplayAttacks",
        "InvalidMessages",
        "FailedToAuthenticateAtCsms",
        "FailedToAuthenticateAtCentralSystem",  # 1.6's name
        "CsmsFailedToAuthenticate",
        "CentralSystemFailedToAuthenticate",  # 1.6's name
        "ReconfigurationOfSecurityParameters",
        # Raised by the CSMS itself when it refuses a charger's CSR (a key too weak, another
        # identity's CN): csms.domain.certificates.CSR_REJECTED.
        "InvalidCertificateSigningRequest",
    }
)
"""The security event types (SecurityEventNotification ``type``, both versions) that raise a
SECURITY_EVENT alert. Compared ignoring case."""

ROUTINE_SECURITY_EVENTS: frozenset[str] = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "MaintenanceLoginAccepted",
    }
)
"""Marked critical by the specifications, so chargers push them, but part of normal operation
(every boot and firmware update sends some): an alert for each would bury the real ones. They
stay in the charger's security events (GET .../security-events); no alert."""

_CRITICAL_FOLDED = frozenset(name.casefold() for name in CRITICAL_SECURITY_EVENTS)

CALL_ERROR_CODE = "charger_error"
"""The ``error.code`` of a ``command.completed`` event whose call the charger answered with a
CALLERROR, or with an answer that breaks the schema (the command layer tells them apart only by
the description); a timeout or an offline charger has another code."""


def is_critical_security_event(event_type: str) -> bool:
    return event_type.casefold() in _CRITICAL_FOLDED


@dataclass(frozen=True, slots=True)
class Target:
    """What an alert is about: a charger, or one of its EVSEs and connectors."""

    charge_point_id: str
    evse_id: int | None = None
    connector_id: int | None = None


AlertKey = tuple[AlertName, str, int | None, int | None]
"""Name and target, the charger id folded: at most one open alert per key."""


def alert_key(name: AlertName, target: Target) -> AlertKey:
    return (name, target.charge_point_id.lower(), target.evse_id, target.connector_id)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A cause seen at ``at``: raise ``name`` on ``target``, or repeat the open one."""

    name: AlertName
    target: Target
    at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Clearance:
    """A cause gone at ``at``: resolve the open alert ``name`` on ``target``, if there is one."""

    name: AlertName
    target: Target
    at: datetime


Change = Occurrence | Clearance


@dataclass(frozen=True, slots=True)
class Alert:
    id: int  # given by the store; 0 until stored
    name: AlertName
    category: AlertCategory
    urgency: Urgency
    status: AlertStatus
    charge_point_id: str
    evse_id: int | None
    connector_id: int | None
    triggered_at: datetime
    details: Mapping[str, Any]
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None  # the operator's token name; None when its cause went away
    notes: str | None = None

    @property
    def target(self) -> Target:
        return Target(self.charge_point_id, self.evse_id, self.connector_id)

    @property
    def key(self) -> AlertKey:
        return alert_key(self.name, self.target)

    @property
    def is_open(self) -> bool:
        return self.status is not AlertStatus.RESOLVED

    @property
    def count(self) -> int:
        count = self.details.get("count")
        return count if isinstance(count, int) else 1


def _details(occurrence: Occurrence, count: int) -> dict[str, Any]:
    return {**occurrence.details, "count": count, "lastSeenAt": format_timestamp(occurrence.at)}


def opened(occurrence: Occurrence) -> Alert:
    """The alert a cause raises when none of its name and target is open."""
    kind = KINDS[occurrence.name]
    target = occurrence.target
    return Alert(
        id=0,
        name=occurrence.name,
        category=kind.category,
        urgency=kind.urgency,
        status=AlertStatus.TRIGGERED,
        charge_point_id=target.charge_point_id,
        evse_id=target.evse_id,
        connector_id=target.connector_id,
        triggered_at=occurrence.at,
        details=_details(occurrence, 1),
    )


def repeated(alert: Alert, occurrence: Occurrence) -> Alert:
    """The open ``alert`` after its cause was seen again: the latest cause's details, counted.
    Its status stays: an acknowledged alert stays acknowledged."""
    return dataclasses.replace(alert, details=_details(occurrence, alert.count + 1))


def resolved_by_cause(alert: Alert, at: datetime) -> Alert:
    return dataclasses.replace(alert, status=AlertStatus.RESOLVED, resolved_at=at, resolved_by=None)


@dataclass(frozen=True, slots=True)
class OperatorChange:
    """``PATCH /alerts/{id}``: acknowledge or resolve, with notes (when ``notes_given``; None
    clears them)."""

    status: AlertStatus
    by: str
    at: datetime
    notes: str | None = None
    notes_given: bool = False


_OPERATOR_MOVES: Mapping[AlertStatus, frozenset[AlertStatus]] = MappingProxyType(
    {
        AlertStatus.TRIGGERED: frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED}),
        # Acknowledging again only changes the notes.
        AlertStatus.ACKNOWLEDGED: frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED}),
        AlertStatus.RESOLVED: frozenset(),
    }
)


def apply_operator_change(alert: Alert, change: OperatorChange) -> Alert:
    """The alert after an operator's change; Invalid (naming ``status``) when not allowed."""
    if change.status not in _OPERATOR_MOVES[alert.status]:
        if alert.status is AlertStatus.RESOLVED:
            message = f"alert {alert.id} is Resolved already; it cannot become {change.status}"
        elif change.status is AlertStatus.TRIGGERED:
            message = "an operator may set Acknowledged or Resolved, not Triggered"
        else:
            message = f"alert {alert.id} cannot go from {alert.status} to {change.status}"
        raise Invalid("status", message)
    notes = change.notes if change.notes_given else alert.notes
    if change.status is AlertStatus.RESOLVED:
        return dataclasses.replace(
            alert,
            status=AlertStatus.RESOLVED,
            resolved_at=change.at,
            resolved_by=change.by,
            notes=notes,
        )
    if alert.status is AlertStatus.ACKNOWLEDGED:
        return dataclasses.replace(alert, notes=notes)
    return dataclasses.replace(
        alert,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_at=change.at,
        acknowledged_by=change.by,
        notes=notes,
    )


# --- what reports mean ---------------------------------------------------------------------------


def _present(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def status_changes(cp_id: str, state: ConnectorState, at: datetime) -> list[Change]:
    """A connector's status report: FAULTED while Faulted, GROUND_FAILURE from a GroundFailure
    (1.6 errorCode) until a status without an error, VENDOR_ERROR_CODE while a vendorErrorCode
    is reported. 1.6 connector 0 (the charger itself) is a target like any other."""
    target = Target(cp_id, state.evse_id, state.connector_id)
    details = _present(
        status=state.status,
        errorCode=state.error_code,
        vendorErrorCode=state.vendor_error_code,
        info=state.info,
        timestamp=format_timestamp(state.updated_at),
    )
    changes: list[Change] = []
    if state.status == "Faulted":
        changes.append(Occurrence(AlertName.FAULTED, target, at, details))
    else:
        changes.append(Clearance(AlertName.FAULTED, target, at))
    if state.error_code == "GroundFailure":
        changes.append(Occurrence(AlertName.GROUND_FAILURE, target, at, details))
    elif state.error_code in (None, "NoError"):  # 2.0.1 statuses carry no error code
        changes.append(Clearance(AlertName.GROUND_FAILURE, target, at))
    if state.vendor_error_code:
        changes.append(Occurrence(AlertName.VENDOR_ERROR_CODE, target, at, details))
    else:
        changes.append(Clearance(AlertName.VENDOR_ERROR_CODE, target, at))
    return changes


def disconnected(
    cp_id: str, since: datetime, at: datetime, close_code: int | None = None
) -> Occurrence:
    """A charger still offline at ``at``, gone since ``since``."""
    details = _present(disconnectedAt=format_timestamp(since), closeCode=close_code)
    return Occurrence(AlertName.CHARGER_DISCONNECTED, Target(cp_id), at, details)


def reconnected(cp_id: str, at: datetime) -> Clearance:
    return Clearance(AlertName.CHARGER_DISCONNECTED, Target(cp_id), at)


def call_error(cp_id: str, completed: Mapping[str, Any], at: datetime) -> Occurrence | None:
    """A ``command.completed`` event's data: an alert only when the charger answered with a
    CALLERROR (not for a timeout, an offline charger or a refusal before sending)."""
    error = completed.get("error")
    if not isinstance(error, Mapping) or error.get("code") != CALL_ERROR_CODE:
        return None
    answer = error.get("details")
    answer = answer if isinstance(answer, Mapping) else {}
    details = _present(
        commandId=completed.get("commandId"),
        action=completed.get("action"),
        ocppAction=completed.get("ocppAction"),
        errorCode=answer.get("code"),
        errorDescription=answer.get("description"),
        errorDetails=answer.get("errorDetails") or None,
    )
    return Occurrence(AlertName.CALL_ERROR, Target(cp_id), at, details)


def profile_rejected(cp_id: str, reason: str, at: datetime) -> Occurrence:
    return Occurrence(AlertName.PROFILE_REJECTED, Target(cp_id), at, {"reason": reason})


def security_event(cp_id: str, report: Mapping[str, Any], at: datetime) -> Occurrence | None:
    """A SecurityEventNotification's payload (both versions): an alert when it is critical."""
    event_type = report.get("type")
    if not isinstance(event_type, str) or not is_critical_security_event(event_type):
        return None
    details = _present(
        type=event_type, timestamp=report.get("timestamp"), techInfo=report.get("techInfo")
    )
    return Occurrence(AlertName.SECURITY_EVENT, Target(cp_id), at, details)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What ``GET /alerts`` selects: every given criterion must hold (a collection: any of its
    values). Active during [``start``, ``end``): triggered before ``end``, not resolved before
    ``start``."""

    charge_point_id: str | None = None
    site_ids: Collection[str] | None = None
    names: Collection[AlertName] | None = None
    statuses: Collection[AlertStatus] | None = None
    urgencies: Collection[Urgency] | None = None
    start: datetime | None = None
    end: datetime | None = None


DEFAULT_WINDOW = timedelta(hours=24)
"""What ``GET /alerts`` covers when ``start`` or ``end`` is left out."""


def default_window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime | None]:
    """The window (``end`` exclusive, None: open) a list covers: the last 24 h; a ``start``
    alone the 24 h from it, an ``end`` alone the 24 h before it (as the KPI windows do with
    their 7 days)."""
    if start is not None:
        return start, start + DEFAULT_WINDOW if end is None else end
    if end is not None:
        return end - DEFAULT_WINDOW, end
    return now - DEFAULT_WINDOW, None


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def alert_document(alert: Alert) -> dict[str, Any]:
    """The alert's API shape, which the ``alert.*`` events carry too."""
    return {
        "id": alert.id,
        "name": str(alert.name),
        "category": str(alert.category),
        "urgency": str(alert.urgency),
        "status": str(alert.status),
        "chargePointId": alert.charge_point_id,
        "evseId": alert.evse_id,
        "connectorId": alert.connector_id,
        "triggeredAt": format_timestamp(alert.triggered_at),
        "acknowledgedAt": _stamp(alert.acknowledged_at),
        "acknowledgedBy": alert.acknowledged_by,
        "resolvedAt": _stamp(alert.resolved_at),
        "resolvedBy": alert.resolved_by,
        "notes": alert.notes,
        "details": dict(alert.details),
    }
