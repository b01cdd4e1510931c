"""Schema-valid OCPP 1.6J and 2.0.1 payloads for the load generator (no ocpp library).

Each builder returns ``(action, payload)``. Timestamps come from ``now_iso()``, which formats the
wall clock at most once per millisecond-string change (cheap enough for 10,000+ calls/s).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

__all__ = [
    "ID_TAG",
    "ID_TOKEN_TYPE",
    "V16",
    "V201",
    "Call",
    "answer_for",
    "boot",
    "heartbeat",
    "meter_values",
    "now_iso",
    "status_notification",
]

V16 = "1.6"
V201 = "2.0.1"
SUBPROTOCOL = {V16: "ocpp1.6", V201: "ocpp2.0.1"}

# Created as an enabled id-tag of this type in our server before a run (the yardstick accepts all).
ID_TAG = "BENCHTAG"
ID_TOKEN_TYPE = "Central"

Call = tuple[str, dict[str, Any]]

_last_second = -1
_last_prefix = ""


def now_iso() -> str:
    """UTC "YYYY-MM-DDTHH:MM:SS.mmmZ"; the date-time part is cached per second."""
    global _last_second, _last_prefix
    now = time.time()
    second = int(now)
    if second != _last_second:
        _last_second = second
        _last_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_last_prefix}.{int((now - second) * 1000):03d}Z"


def boot(version: str) -> Call:
    if version == V16:
        return "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "LoadGen"}
    return "BootNotification", {
        "chargingStation": {"vendorName": "Bench", "model": "LoadGen"},
        "reason": "PowerUp",
    }


def heartbeat(version: str) -> Call:
    return "Heartbeat", {}


def status_notification(version: str, status: str = "Available") -> Call:
    if version == V16:
        return "StatusNotification", {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": status,
            "timestamp": now_iso(),
        }
    return "StatusNotification", {
        "timestamp": now_iso(),
        "connectorStatus": "Available" if status == "Available" else "Occupied",
        "evseId": 1,
        "connectorId": 1,
    }


def _sampled_16(wh: float) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": now_iso(),
            "sampledValue": [
                {"value": f"{wh:.0f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
            ],
        }
    ]


def _sampled_201(wh: float) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": now_iso(),
            "sampledValue": [{"value": wh, "measurand": "Energy.Active.Import.Register"}],
        }
    ]


def meter_values(version: str, wh: float, transaction_id: int | None = None) -> Call:
    if version == V16:
        payload: dict[str, Any] = {"connectorId": 1, "meterValue": _sampled_16(wh)}
        if transaction_id is not None:
            payload["transactionId"] = transaction_id
        return "MeterValues", payload
    return "MeterValues", {"evseId": 1, "meterValue": _sampled_201(wh)}


# --- transactions ------------------------------------------------------------------------------


def authorize(version: str) -> Call:
    if version == V16:
        return "Authorize", {"idTag": ID_TAG}
    return "Authorize", {"idToken": {"idToken": ID_TAG, "type": ID_TOKEN_TYPE}}


def start_transaction_16(meter_start: int) -> Call:
    return "StartTransaction", {
        "connectorId": 1,
        "idTag": ID_TAG,
        "meterStart": meter_start,
        "timestamp": now_iso(),
    }


def stop_transaction_16(transaction_id: int, meter_stop: int) -> Call:
    return "StopTransaction", {
        "transactionId": transaction_id,
        "idTag": ID_TAG,
        "meterStop": meter_stop,
        "timestamp": now_iso(),
        "reason": "Local",
    }


def new_transaction_id() -> str:
    return str(uuid.uuid4())


def transaction_event_201(event_type: str, transaction_id: str, seq_no: int, wh: float) -> Call:
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": now_iso(),
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": transaction_id, "chargingState": "Charging"},
        "meterValue": _sampled_201(wh),
    }
    if event_type == "Started":
        payload["triggerReason"] = "Authorized"
        payload["evse"] = {"id": 1, "connectorId": 1}
        payload["idToken"] = {"idToken": ID_TAG, "type": ID_TOKEN_TYPE}
    elif event_type == "Updated":
        payload["triggerReason"] = "MeterValuePeriodic"
    else:
        payload["triggerReason"] = "StopAuthorized"
        payload["transactionInfo"] = {
            "transactionId": transaction_id,
            "chargingState": "Idle",
            "stoppedReason": "Local",
        }
    return "TransactionEvent", payload


# --- answers to the central system's calls ---------------------------------------------------

_ANSWERS: dict[str, dict[str, Any]] = {
    "GetTransactionStatus": {"messagesInQueue": False},
    "GetConfiguration": {"configurationKey": []},
    "GetLocalListVersion": {"listVersion": 0},
    "GetCompositeSchedule": {"status": "Rejected"},
    "DataTransfer": {"status": "UnknownVendorId"},
    "GetDiagnostics": {},
    "UpdateFirmware": {},
}


def answer_for(action: str) -> dict[str, Any]:
    """An immediate, schema-valid answer to a central-system CALL (most just take a status)."""
    return _ANSWERS.get(action, {"status": "Accepted"})
