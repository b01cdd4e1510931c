"""The pure rules behind the monitoring queries: which 1.6 statuses are events, how a stored
report reads as an event, and the windows the queries accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.domain.charger_events import (
    NOTIFY_EVENT,
    SECURITY_EVENT,
    STATUS_ERROR,
    ChargerEvent,
    EventSource,
    SecurityEvent,
    charger_event,
    check_window,
    is_connector_error,
    security_event,
)
from csms.domain.errors import Invalid
from csms.domain.metering import MAX_SAMPLE_WINDOW, check_sample_window
from csms.domain.models import ChargerReport

T = datetime(2025, 5, 1, tzinfo=UTC)
RECEIVED = T + timedelta(seconds=2)


def report(kind: str, data: dict[str, Any]) -> ChargerReport:
    return ChargerReport(9, "CP", kind, T, data, RECEIVED)


@pytest.mark.parametrize(
    ("error_code", "vendor_error_code", "is_error"),
    [
        ("NoError", None, False),
        ("NoError", "", False),
        (None, None, False),
        ("NoError", "W-1", True),
        ("GroundFailure", None, True),
        ("OtherError", "E9", True),
    ],
)
def test_which_statuses_are_errors(
    error_code: str | None, vendor_error_code: str | None, is_error: bool
) -> None:
    assert is_connector_error(error_code, vendor_error_code) is is_error


def test_a_notify_event_reads_field_by_field() -> None:
    data = {
        "eventId": 3,
        "timestamp": "2025-05-01T00:00:00Z",
        "trigger": "Delta",
        "cause": 2,
        "actualValue": "Faulted",
        "techCode": "E1",
        "techInfo": "hot",
        "cleared": True,
        "transactionId": "T-1",
        "variableMonitoringId": 5,
        "eventNotificationType": "CustomMonitor",
        "component": {"name": "EVSE", "instance": "a", "evse": {"id": 2, "connectorId": 1}},
        "variable": {"name": "AvailabilityState", "instance": "b"},
        "generatedAt": "2025-05-01T00:00:01Z",
        "seqNo": 0,
    }
    assert charger_event(report(NOTIFY_EVENT, data)) == ChargerEvent(
        id=9,
        source=EventSource.NOTIFY_EVENT,
        timestamp=T,
        received_at=RECEIVED,
        evse_id=2,
        connector_id=1,
        event_id=3,
        trigger="Delta",
        cause=2,
        notification_type="CustomMonitor",
        component="EVSE",
        component_instance="a",
        variable="AvailabilityState",
        variable_instance="b",
        actual_value="Faulted",
        tech_code="E1",
        tech_info="hot",
        cleared=True,
        transaction_id="T-1",
        variable_monitoring_id=5,
    )


def test_fields_of_an_unexpected_type_are_left_out() -> None:
    odd = {"eventId": "3", "cleared": "yes", "component": "EVSE", "cause": True, "techCode": 4}
    event = charger_event(report(NOTIFY_EVENT, odd))
    assert (event.event_id, event.cleared, event.component, event.cause, event.tech_code) == (
        None,
        None,
        None,
        None,
        None,
    )


def test_a_status_error_reads_as_a_status_notification_event() -> None:
    data = {
        "connectorId": 2,
        "status": "Faulted",
        "errorCode": "GroundFailure",
        "info": "RCD",
        "vendorId": "acme",
        "vendorErrorCode": "E7",
        "timestamp": "2025-05-01T00:00:00Z",
    }
    assert charger_event(report(STATUS_ERROR, data)) == ChargerEvent(
        id=9,
        source=EventSource.STATUS_NOTIFICATION,
        timestamp=T,
        received_at=RECEIVED,
        evse_id=2,  # 1.6 connector N is EVSE N
        connector_id=2,
        status="Faulted",
        error_code="GroundFailure",
        info="RCD",
        vendor_id="acme",
        vendor_error_code="E7",
    )


def test_a_security_event() -> None:
    data = {"type": "ResetOrReboot", "timestamp": "x", "techInfo": "manual"}
    assert security_event(report(SECURITY_EVENT, data)) == SecurityEvent(
        9, "ResetOrReboot", T, "manual", RECEIVED
    )
    assert security_event(report(SECURITY_EVENT, {})).type == ""


@pytest.mark.parametrize(
    ("span", "accepted"),
    [
        (timedelta(milliseconds=1), True),
        (MAX_SAMPLE_WINDOW, True),
        (MAX_SAMPLE_WINDOW + timedelta(milliseconds=1), False),
        (timedelta(0), False),
        (-timedelta(hours=1), False),
    ],
)
def test_meter_value_windows(span: timedelta, accepted: bool) -> None:
    if accepted:
        check_sample_window(T, T + span)
    else:
        with pytest.raises(Invalid) as caught:
            check_sample_window(T, T + span)
        assert caught.value.field == "end"


def test_event_windows_are_optional_but_ordered() -> None:
    for start, end in ((None, None), (T, None), (None, T), (T, T + timedelta(seconds=1))):
        check_window(start, end)
    with pytest.raises(Invalid):
        check_window(T, T)
