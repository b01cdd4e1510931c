"""The alert rules (csms.domain.alerts): what reports mean, repeats, operators' moves, windows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from csms.domain.alerts import (
    CRITICAL_SECURITY_EVENTS,
    KINDS,
    ROUTINE_SECURITY_EVENTS,
    Alert,
    AlertCategory,
    AlertName,
    AlertStatus,
    Clearance,
    Occurrence,
    OperatorChange,
    Target,
    Urgency,
    alert_document,
    alert_key,
    apply_operator_change,
    call_error,
    default_window,
    disconnected,
    opened,
    profile_rejected,
    reconnected,
    repeated,
    resolved_by_cause,
    security_event,
    status_changes,
)
from csms.domain.errors import Invalid
from csms.domain.models import ConnectorState
from tests.api.test_api_alerts import ALERT_KEYS

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)
TRIGGERED, ACKNOWLEDGED, RESOLVED = (
    AlertStatus.TRIGGERED,
    AlertStatus.ACKNOWLEDGED,
    AlertStatus.RESOLVED,
)


def _alert(status: AlertStatus = TRIGGERED, **fields: object) -> Alert:
    alert = dataclasses.replace(
        opened(Occurrence(AlertName.FAULTED, Target("CP-1", 1, 1), T0, {"status": "Faulted"})),
        id=7,
        status=status,
    )
    return dataclasses.replace(alert, **fields)  # type: ignore[arg-type]


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "category", "urgency", "cause_resolves"),
    [
        (AlertName.CHARGER_DISCONNECTED, AlertCategory.CONNECTIVITY, Urgency.HIGH, True),
        (AlertName.FAULTED, AlertCategory.HARDWARE, Urgency.HIGH, True),
        (AlertName.GROUND_FAILURE, AlertCategory.HARDWARE, Urgency.HIGH, True),
        (AlertName.VENDOR_ERROR_CODE, AlertCategory.HARDWARE, Urgency.LOW, True),
        (AlertName.CALL_ERROR, AlertCategory.PROTOCOL, Urgency.LOW, False),
        (AlertName.PROFILE_REJECTED, AlertCategory.LOAD_MANAGEMENT, Urgency.MEDIUM, False),
        (AlertName.SECURITY_EVENT, AlertCategory.SECURITY, Urgency.HIGH, False),
    ],
)
def test_each_name_has_its_category_and_urgency(
    name: AlertName, category: AlertCategory, urgency: Urgency, cause_resolves: bool
) -> None:
    kind = KINDS[name]
    assert (kind.category, kind.urgency, kind.cause_resolves) == (
        category,
        urgency,
        cause_resolves,
    )
    alert = opened(Occurrence(name, Target("CP"), T0))
    assert (alert.category, alert.urgency, alert.status) == (category, urgency, TRIGGERED)


def test_every_name_is_described() -> None:
    assert set(KINDS) == set(AlertName)


# --- connector status ----------------------------------------------------------------------------


def _state(
    status: str, error_code: str | None = "NoError", vendor: str | None = None
) -> ConnectorState:
    return ConnectorState(2, 1, status, error_code, T0, info="x", vendor_error_code=vendor)


F, G, V = AlertName.FAULTED, AlertName.GROUND_FAILURE, AlertName.VENDOR_ERROR_CODE


@pytest.mark.parametrize(
    ("state", "raised", "cleared"),
    [
        (_state("Available"), set(), {F, G, V}),
        (_state("Faulted", "NoError"), {F}, {G, V}),
        (_state("Faulted", "GroundFailure"), {F, G}, {V}),
        (_state("Faulted", "GroundFailure", "E42"), {F, G, V}, set()),
        # Another error leaves a ground failure open: only a status without error resolves it.
        (_state("Faulted", "OverCurrentFailure"), {F}, {V}),
        (_state("Charging", "OtherError", "E7"), {V}, {F}),
        (_state("Available", None), set(), {F, G, V}),  # 2.0.1: no error codes at all
        (_state("Available", "NoError", ""), set(), {F, G, V}),
    ],
)
def test_a_status_raises_and_clears_per_connector(
    state: ConnectorState, raised: set[AlertName], cleared: set[AlertName]
) -> None:
    changes = status_changes("CP-1", state, T1)
    assert {c.name for c in changes if isinstance(c, Occurrence)} == raised
    assert {c.name for c in changes if isinstance(c, Clearance)} == cleared
    assert {c.target for c in changes} == {Target("CP-1", 2, 1)}
    assert {c.at for c in changes} == {T1}


def test_a_status_alert_carries_what_the_charger_said() -> None:
    [faulted, *_] = status_changes("CP-1", _state("Faulted", "GroundFailure", "E42"), T1)
    assert isinstance(faulted, Occurrence)
    assert faulted.details == {
        "status": "Faulted",
        "errorCode": "GroundFailure",
        "vendorErrorCode": "E42",
        "info": "x",
        "timestamp": "2026-03-01T12:00:00.000Z",
    }


# --- other causes --------------------------------------------------------------------------------


def test_disconnection_and_reconnection_target_the_charger() -> None:
    occurrence = disconnected("CP-1", T0, T1, 1006)
    assert occurrence == Occurrence(
        AlertName.CHARGER_DISCONNECTED,
        Target("CP-1"),
        T1,
        {"disconnectedAt": "2026-03-01T12:00:00.000Z", "closeCode": 1006},
    )
    assert disconnected("CP-1", T0, T1).details == {"disconnectedAt": "2026-03-01T12:00:00.000Z"}
    assert reconnected("CP-1", T2) == Clearance(AlertName.CHARGER_DISCONNECTED, Target("CP-1"), T2)


def test_only_a_callerror_answer_is_a_call_error() -> None:
    answered = {
        "commandId": 5,
        "action": "reset",
        "ocppAction": "Reset",
        "state": "failed",
        "status": None,
        "error": {
            "code": "charger_error",
            "message": "CP answered with NotImplemented: no",
            "details": {"code": "NotImplemented", "description": "no", "errorDetails": {}},
        },
    }
    occurrence = call_error("CP-1", answered, T1)
    assert occurrence is not None and occurrence.name is AlertName.CALL_ERROR
    assert occurrence.target == Target("CP-1")
    assert occurrence.details == {
        "commandId": 5,
        "action": "reset",
        "ocppAction": "Reset",
        "errorCode": "NotImplemented",
        "errorDescription": "no",
    }
    for code in ("charger_timeout", "charger_offline", "not_supported", "internal_error"):
        timed_out = {**answered, "error": {"code": code, "message": "m", "details": {}}}
        assert call_error("CP-1", timed_out, T1) is None
    assert call_error("CP-1", {**answered, "state": "completed", "error": None}, T1) is None


def test_a_refused_profile_is_kept_with_its_reason() -> None:
    occurrence = profile_rejected("CP-1", "Rejected", T1)
    assert (occurrence.name, occurrence.details) == (
        AlertName.PROFILE_REJECTED,
        {"reason": "Rejected"},
    )


@pytest.mark.parametrize(
    ("event_type", "alerted"),
    [
        ("InvalidFirmwareSignature", True),
        ("TamperDetectionActivated", True),
        ("SecurityLogWasCleared", True),
        ("AttemptedReplayAttacks", True),
        ("InvalidChargePointCertificate", True),  # 1.6's name
        ("invalidtlsversion", True),  # case does not matter
        ("StartupOfTheDevice", False),
        ("ResetOrReboot", False),
        ("FirmwareUpdated", False),
        ("SettingSystemTime", False),
        ("SomethingVendorSpecific", False),
    ],
)
def test_only_critical_security_events_raise_an_alert(event_type: str, alerted: bool) -> None:
    report = {"type": event_type, "timestamp": "2026-03-01T11:59:00Z", "techInfo": "slot 2"}
    occurrence = security_event("CP-1", report, T1)
    assert (occurrence is not None) is alerted
    if occurrence is not None:
        assert occurrence.details == report
        assert occurrence.target == Target("CP-1")


def test_routine_and_critical_security_events_do_not_overlap() -> None:
    assert not CRITICAL_SECURITY_EVENTS & ROUTINE_SECURITY_EVENTS
    assert security_event("CP-1", {"timestamp": "x"}, T1) is None  # no type at all


# --- one open alert per name and target ----------------------------------------------------------


def test_a_repeat_counts_and_keeps_the_latest_details_and_the_status() -> None:
    first = _alert(ACKNOWLEDGED)
    assert first.details == {
        "status": "Faulted",
        "count": 1,
        "lastSeenAt": "2026-03-01T12:00:00.000Z",
    }
    again = Occurrence(AlertName.FAULTED, Target("cp-1", 1, 1), T2, {"status": "Faulted", "x": 1})
    second = repeated(first, again)
    assert second.details == {
        "status": "Faulted",
        "x": 1,
        "count": 2,
        "lastSeenAt": "2026-03-01T12:02:00.000Z",
    }
    assert (second.status, second.triggered_at, second.id) == (ACKNOWLEDGED, T0, 7)
    assert repeated(second, again).count == 3


def test_the_key_ignores_the_case_of_the_charger_id() -> None:
    assert alert_key(AlertName.FAULTED, Target("CP-1", 1, 1)) == _alert().key
    assert alert_key(AlertName.FAULTED, Target("cp-1", 1, 1)) == _alert().key
    assert alert_key(AlertName.FAULTED, Target("cp-1", 1, 2)) != _alert().key
    assert alert_key(AlertName.GROUND_FAILURE, Target("cp-1", 1, 1)) != _alert().key


def test_a_cause_going_away_resolves_without_an_operator() -> None:
    resolved = resolved_by_cause(_alert(ACKNOWLEDGED), T2)
    assert (resolved.status, resolved.resolved_at, resolved.resolved_by) == (RESOLVED, T2, None)
    assert not resolved.is_open and _alert(ACKNOWLEDGED).is_open


# --- operators -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "requested", "allowed"),
    [
        (TRIGGERED, ACKNOWLEDGED, True),
        (TRIGGERED, RESOLVED, True),
        (ACKNOWLEDGED, ACKNOWLEDGED, True),
        (ACKNOWLEDGED, RESOLVED, True),
        (RESOLVED, ACKNOWLEDGED, False),
        (RESOLVED, RESOLVED, False),
        (TRIGGERED, TRIGGERED, False),
        (ACKNOWLEDGED, TRIGGERED, False),
    ],
)
def test_operator_moves(current: AlertStatus, requested: AlertStatus, allowed: bool) -> None:
    change = OperatorChange(requested, "ops", T2)
    if not allowed:
        with pytest.raises(Invalid) as raised:
            apply_operator_change(_alert(current), change)
        assert raised.value.field == "status"
        return
    after = apply_operator_change(_alert(current), change)
    assert after.status is requested


def test_acknowledging_then_resolving_records_who_and_when() -> None:
    acknowledged = apply_operator_change(
        _alert(), OperatorChange(ACKNOWLEDGED, "ops", T1, "on it", notes_given=True)
    )
    assert (acknowledged.acknowledged_at, acknowledged.acknowledged_by) == (T1, "ops")
    assert acknowledged.notes == "on it"
    again = apply_operator_change(acknowledged, OperatorChange(ACKNOWLEDGED, "boss", T2))
    assert again == acknowledged  # nothing to change: notes absent, first acknowledgement kept
    resolved = apply_operator_change(
        acknowledged, OperatorChange(RESOLVED, "boss", T2, "cable replaced", notes_given=True)
    )
    assert (resolved.status, resolved.resolved_at, resolved.resolved_by) == (RESOLVED, T2, "boss")
    assert (resolved.notes, resolved.acknowledged_by) == ("cable replaced", "ops")
    cleared = apply_operator_change(acknowledged, OperatorChange(RESOLVED, "x", T2, None, True))
    assert cleared.notes is None


# --- reading -------------------------------------------------------------------------------------


def test_the_window_defaults_to_24_hours() -> None:
    day = timedelta(hours=24)
    assert default_window(None, None, T2) == (T2 - day, None)
    assert default_window(T0, None, T2) == (T0, T0 + day)
    assert default_window(None, T1, T2) == (T1 - day, T1)
    assert default_window(T0, T1, T2) == (T0, T1)


def test_the_document_is_the_api_shape() -> None:
    document = alert_document(_alert(notes="n"))
    assert set(document) == ALERT_KEYS
    assert document["name"] == "FAULTED" and document["status"] == "Triggered"
    assert document["urgency"] == "high" and document["category"] == "hardware"
    assert document["triggeredAt"] == "2026-03-01T12:00:00.000Z"
    assert document["resolvedAt"] is None and document["evseId"] == 1
    charger_level = alert_document(opened(Occurrence(AlertName.CALL_ERROR, Target("CP"), T0)))
    assert charger_level["evseId"] is None and charger_level["connectorId"] is None
