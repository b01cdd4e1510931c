"""Per-connector state of the simulated charger."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulators.meter import EnergyMeter

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
    meter: EnergyMeter
    status: str = AVAILABLE
    error_code: str = "NoError"
    operative: bool = True
    # ChangeAvailability(Inoperative) answered "Scheduled": apply after the tx.
    pending_inoperative: bool = False
    tx: Transaction | None = None
    reservation: Reservation | None = None
    # Set between accepting a RemoteStart and its session task starting, so
    # nothing else grabs the connector in that window.
    claimed: bool = False
    stop_reason: str | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    pending_tx_profile: dict[str, Any] | None = None

    def idle_status(self) -> str:
        if not self.operative:
            return UNAVAILABLE
        if self.reservation is not None:
            return RESERVED
        return AVAILABLE
