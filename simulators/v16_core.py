"""Calls, state and the simple step-by-step calls of a 1.6 charger.

Layers, bottom up: ``link`` (connection, call plumbing, waiting) and
``outbox`` (queued delivery), both shared with 2.0.1; this module (1.6
messages); ``v16_transactions`` (queued transaction messages),
``v16_sessions`` (sessions, automatic mode, reset) and ``v16`` (answers to
the server's CALLs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulators._ocpp import ChargePoint16Base, OCPPError, call
from simulators.config import ConfigStore, default_entries
from simulators.connector import Connector
from simulators.errors import TRANSIENT_ERRORS
from simulators.ev import Car
from simulators.meter import NOMINAL_VOLTAGE
from simulators.outbox import QueuedDelivery
from simulators.outlet import DEFAULT_LIMIT_DELAY, Outlet
from simulators.product import MODEL_16 as MODEL
from simulators.product import VENDOR
from simulators.profiles import ProfileStore
from simulators.session import SessionRunner
from simulators.timeutil import utc_now_iso

SUBPROTOCOL = "ocpp1.6"


class ChargePoint16Core(QueuedDelivery, ChargePoint16Base):
    def __init__(
        self,
        identity: str,
        url: str,
        password: str | bytes | None = None,
        *,
        connectors: int = 2,
        auto: bool = False,
        meter_interval: float = 5.0,
        session_seconds: float = 60.0,
        idle_seconds: float = 10.0,
        id_tag: str = "SIM-TAG",
        power_w: float = 11000.0,
        phases: int = 3,
        response_timeout: float = 10.0,
        reconnect_initial: float = 1.0,
        reconnect_max: float = 30.0,
        finishing_seconds: float = 1.0,
        car_max_current: float = 32.0,
        car_phases: int = 3,
        limit_delay: float = DEFAULT_LIMIT_DELAY,
        smart_charging: bool = True,
    ) -> None:
        super().__init__(
            identity,
            url,
            password,
            subprotocol=SUBPROTOCOL,
            response_timeout=response_timeout,
            reconnect_initial=reconnect_initial,
            reconnect_max=reconnect_max,
        )
        self.auto = auto
        self.meter_interval = meter_interval
        self.session_seconds = session_seconds
        self.idle_seconds = idle_seconds
        self.id_tag = id_tag
        self.phases = phases
        self.finishing_seconds = finishing_seconds

        self.power_w = power_w
        # Without smart charging every profile is refused and the cars ignore limits.
        self.profiles = ProfileStore(phases, smart_charging=smart_charging)
        car = Car(car_max_current, car_phases)
        # The connector's rating: power_w on the charger's phases at the nominal voltage.
        rating = power_w / (NOMINAL_VOLTAGE * phases)
        self.connectors: dict[int, Connector] = {
            n: Connector(
                n,
                SessionRunner(
                    n,
                    Outlet(max_current=rating, phases=phases, car=car, delay=limit_delay),
                    self.profiles,
                ),
            )
            for n in range(1, connectors + 1)
        }
        self.cp_operative = True
        self.config = ConfigStore(default_entries(connectors, 0, max(0, round(meter_interval))))

    def connector(self, connector_id: int) -> Connector:
        try:
            return self.connectors[connector_id]
        except KeyError:
            raise ValueError(f"{self.identity}: no connector {connector_id}") from None

    async def _send_boot(self) -> float:
        result = await self.boot_notification()
        return float(result.interval)

    def _message_attempts(self) -> int:
        return max(1, self.config.get_int("TransactionMessageAttempts"))

    def _retry_interval(self) -> float:
        return float(self.config.get_int("TransactionMessageRetryInterval"))

    # ------------------------------------------------------ outgoing CALLs

    async def boot_notification(self) -> Any:
        self.boot_attempts += 1
        result = await self._call(
            call.BootNotification(
                charge_point_vendor=VENDOR,
                charge_point_model=MODEL,
                charge_point_serial_number=self.identity,
                charge_box_serial_number=self.identity,
                firmware_version=self.firmware_version,
            )
        )
        self.log.info("boot", status=result.status, interval=result.interval)
        if result.status == "Accepted":
            self.boot_count += 1
            if result.interval > 0:
                self.heartbeat_interval = int(result.interval)
                self.config.set_internal("HeartbeatInterval", str(self.heartbeat_interval))
                self._hb_wake.set()
            self._booted.set()
        return result

    async def heartbeat(self) -> Any:
        return await self._call(call.Heartbeat())

    async def authorize(self, id_tag: str) -> Any:
        return await self._call(call.Authorize(id_tag=id_tag))

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> Any:
        return await self._call(
            call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )

    async def diagnostics_status_notification(self, status: str) -> Any:
        return await self._call(call.DiagnosticsStatusNotification(status=status))

    async def firmware_status_notification(self, status: str) -> Any:
        return await self._call(call.FirmwareStatusNotification(status=status))

    def _status_of(self, connector_id: int) -> tuple[str, str]:
        if connector_id == 0:
            return ("Available" if self.cp_operative else "Unavailable"), "NoError"
        conn = self.connector(connector_id)
        return conn.status, conn.error_code

    async def status_notification(
        self,
        connector_id: int,
        status: str,
        error_code: str = "NoError",
        info: str | None = None,
        vendor_error_code: str | None = None,
    ) -> Any:
        """Record ``status`` for the connector and report it to the server."""
        if connector_id != 0:
            conn = self.connector(connector_id)
            conn.status, conn.error_code = status, error_code
        return await self._call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=utc_now_iso(),
                info=info,
                vendor_error_code=vendor_error_code,
            )
        )

    async def notify_status(self, connector_id: int, status: str | None = None) -> None:
        """Best effort: record the status, report it if we can (never queued)."""
        if connector_id != 0 and status is not None:
            self.connector(connector_id).status = status
        current, error_code = self._status_of(connector_id)
        if not self._booted.is_set() or not self.connected:
            return
        try:
            await self.status_notification(connector_id, current, error_code)
        except (*TRANSIENT_ERRORS, OCPPError) as exc:
            self.log.info("status_not_sent", connector=connector_id, error=repr(exc))

    async def send_all_statuses(self, connector_ids: Iterable[int] | None = None) -> None:
        ids = [0, *self.connectors] if connector_ids is None else list(connector_ids)
        for connector_id in ids:
            await self.notify_status(connector_id)
