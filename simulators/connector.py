"""Per-connector state of the simulated charger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from simulators.outlet import Outlet
from simulators.session import SessionRunner

AVAILABLE = "Available"
UNAVAILABLE = "Unavailable"
RESERVED = "Reserved"


@dataclass
class Reservation:
    reservation_id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None


@dataclass
class Transaction:
    # The id handed to the API caller: the server's id, or a negative
    # placeholder while the StartTransaction is still queued.
    local_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    start_time: str
    start_dt: datetime


@dataclass
class Connector:
    connector_id: int
    # The version-neutral part: car, limit, meter, session task, stop request.
    runner: SessionRunner
    status: str = AVAILABLE
    error_code: str = "NoError"
    operative: bool = True
    # ChangeAvailability(Inoperative) answered "Scheduled": apply after the tx.
    pending_inoperative: bool = False
    tx: Transaction | None = None
    reservation: Reservation | None = None

    @property
    def outlet(self) -> Outlet:
        return self.runner.outlet

    def idle_status(self) -> str:
        if not self.operative:
            return UNAVAILABLE
        if self.reservation is not None:
            return RESERVED
        return AVAILABLE
