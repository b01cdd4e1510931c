"""Per-EVSE state of the simulated 2.0.1 station (one connector per EVSE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulators.connector import Reservation
from simulators.outlet import Outlet
from simulators.session import SessionRunner

# 2.0.1 connector statuses (no Preparing/Charging/Finishing as in 1.6:
# those moved into TransactionEvent's chargingState).
AVAILABLE = "Available"
OCCUPIED = "Occupied"
RESERVED = "Reserved"
UNAVAILABLE = "Unavailable"
FAULTED = "Faulted"

CONNECTOR_ID = 1

# Which triggerReason goes with a stoppedReason when nothing more specific is known.
STOP_TRIGGERS = {
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "ImmediateReset": "ResetCommand",
    "Reboot": "ResetCommand",
    "DeAuthorized": "Deauthorized",
    "EVDisconnected": "EVCommunicationLost",
    "EnergyLimitReached": "EnergyLimitReached",
    "TimeLimitReached": "TimeLimitReached",
}


def stop_trigger(stopped_reason: str) -> str:
    return STOP_TRIGGERS.get(stopped_reason, "AbnormalCondition")


def id_token(value: str, kind: str) -> dict[str, str]:
    """An ``idToken`` object (wire format)."""
    return {"idToken": value, "type": kind}


@dataclass
class Transaction201:
    transaction_id: str
    evse_id: int
    token: dict[str, str] | None
    meter_start_wh: float
    start_time: str
    start_dt: datetime
    remote_start_id: int | None = None
    # The server's answer to Started (None while it is queued offline).
    start_response: dict[str, Any] | None = None


@dataclass
class Evse:
    evse_id: int
    # The version-neutral part: car, limit, meter, session task, stop request.
    runner: SessionRunner
    status: str = AVAILABLE
    operative: bool = True
    # ChangeAvailability(Inoperative) answered "Scheduled": apply after the tx.
    pending_inoperative: bool = False
    tx: Transaction201 | None = None
    reservation: Reservation | None = None

    @property
    def outlet(self) -> Outlet:
        return self.runner.outlet

    def idle_status(self, station_operative: bool = True) -> str:
        if not self.operative or not station_operative:
            return UNAVAILABLE
        if self.reservation is not None:
            return RESERVED
        return AVAILABLE
