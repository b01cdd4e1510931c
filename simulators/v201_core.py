"""State and the simple step-by-step calls of a 2.0.1 station.

Layers, bottom up: ``link`` and ``outbox`` (shared with 1.6), this module
(2.0.1 messages), ``v201_transactions`` (TransactionEvent), ``v201_sessions``
(sessions, automatic mode, reset) and ``v201`` (answers to the server's
CALLs). Every public call returns the server's answer as a camelCase dict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulators._ocpp import ChargePoint201Base, OCPPError, call201, to_wire
from simulators.errors import TRANSIENT_ERRORS
from simulators.ev import Car
from simulators.meter import NOMINAL_VOLTAGE, build_meter_value_201, meter_value_201
from simulators.outbox import QueuedDelivery
from simulators.outlet import DEFAULT_LIMIT_DELAY, Outlet
from simulators.product import MODEL_201 as MODEL
from simulators.product import VENDOR
from simulators.profiles import ProfileStore
from simulators.session import SessionRunner
from simulators.timeutil import utc_now_iso
from simulators.v201_model import (
    HEARTBEAT,
    TX_ATTEMPT_INTERVAL,
    TX_ATTEMPTS,
    default_model,
)
from simulators.v201_state import CONNECTOR_ID, Evse, id_token

SUBPROTOCOL = "ocpp2.0.1"
# Made-up but well-formed modem identifiers (ICCID 20 digits, IMSI 15).
ICCID = "89490200001234567890"
IMSI = "262011234567890"


class ChargePoint201Core(QueuedDelivery, ChargePoint201Base):
    def __init__(
        self,
        identity: str,
        url: str,
        password: str | bytes | None = None,
        *,
        evses: int = 2,
        auto: bool = False,
        meter_interval: float = 5.0,
        session_seconds: float = 60.0,
        idle_seconds: float = 10.0,
        id_tag: str = "SIM-TAG",
        id_token_type: str = "ISO14443",
        power_w: float = 11000.0,
        phases: int = 3,
        response_timeout: float = 10.0,
        reconnect_initial: float = 1.0,
        reconnect_max: float = 30.0,
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
        self.id_token_type = id_token_type
        self.phases = phases
        self.power_w = power_w
        # Without smart charging every profile is refused and the cars ignore limits.
        self.profiles = ProfileStore(phases, smart_charging=smart_charging)
        car = Car(car_max_current, car_phases)
        # The EVSE's rating: power_w on the station's phases at the nominal voltage.
        rating = power_w / (NOMINAL_VOLTAGE * phases)
        self.evses: dict[int, Evse] = {
            n: Evse(
                n,
                SessionRunner(
                    n,
                    Outlet(max_current=rating, phases=phases, car=car, delay=limit_delay),
                    self.profiles,
                ),
            )
            for n in range(1, evses + 1)
        }
        self.station_operative = True
        self.model = default_model(
            evses,
            vendor=VENDOR,
            model=MODEL,
            heartbeat=0,
            tx_updated=max(0, round(meter_interval)),
        )
        # PowerUp for the first boot; a reset makes the next one RemoteReset.
        self.boot_reason = "PowerUp"

    def evse(self, evse_id: int) -> Evse:
        try:
            return self.evses[evse_id]
        except KeyError:
            raise ValueError(f"{self.identity}: no EVSE {evse_id}") from None

    def token(self, value: str | None = None, kind: str | None = None) -> dict[str, str]:
        """An idToken object; defaults to the charger's own id tag and type."""
        return id_token(value or self.id_tag, kind or self.id_token_type)

    # ----------------------------------------------------------- outbox hooks

    def _message_attempts(self) -> int:
        return max(1, int(self.model.value(*TX_ATTEMPTS)))

    def _retry_interval(self) -> float:
        return float(self.model.value(*TX_ATTEMPT_INTERVAL))

    async def _send_boot(self) -> float:
        result = await self.boot_notification(self.boot_reason)
        return float(result["interval"])

    # ------------------------------------------------------ outgoing CALLs

    async def _wire_call(self, payload: Any) -> dict[str, Any]:
        return to_wire(await self._call(payload))

    async def boot_notification(self, reason: str = "PowerUp") -> dict[str, Any]:
        self.boot_attempts += 1
        result = await self._wire_call(
            call201.BootNotification(
                reason=reason,
                charging_station={
                    "model": MODEL,
                    "vendorName": VENDOR,
                    "serialNumber": self.identity,
                    "firmwareVersion": self.firmware_version,
                    "modem": {"iccid": ICCID, "imsi": IMSI},
                },
            )
        )
        status, interval = result["status"], int(result["interval"])
        self.log.info("boot", status=status, interval=interval)
        if status == "Accepted":
            self.boot_count += 1
            self.boot_reason = "PowerUp"
            if interval > 0:
                self.heartbeat_interval = interval
                self.model.set_internal(*HEARTBEAT, str(interval))
                self._hb_wake.set()
            self._booted.set()
        return result

    async def heartbeat(self) -> dict[str, Any]:
        return await self._wire_call(call201.Heartbeat())

    async def authorize(self, id_token: str, id_token_type: str | None = None) -> dict[str, Any]:
        """Authorize; ``{"idTokenInfo": {...}}``."""
        return await self._wire_call(
            call201.Authorize(id_token=self.token(id_token, id_token_type))
        )

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None
    ) -> dict[str, Any]:
        return await self._wire_call(
            call201.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )

    async def firmware_status_notification(
        self, status: str, request_id: int | None = None
    ) -> dict[str, Any]:
        return await self._wire_call(
            call201.FirmwareStatusNotification(status=status, request_id=request_id)
        )

    async def log_status_notification(
        self, status: str, request_id: int | None = None
    ) -> dict[str, Any]:
        return await self._wire_call(
            call201.LogStatusNotification(status=status, request_id=request_id)
        )

    async def notify_report(
        self,
        request_id: int,
        seq_no: int,
        report_data: list[dict[str, Any]] | None,
        *,
        tbc: bool = False,
        generated_at: str | None = None,
    ) -> dict[str, Any]:
        return await self._wire_call(
            call201.NotifyReport(
                request_id=request_id,
                generated_at=generated_at or utc_now_iso(),
                seq_no=seq_no,
                report_data=report_data or None,
                tbc=tbc,
            )
        )

    async def meter_values(
        self,
        evse_id: int,
        energy_wh: float | None = None,
        power_w: float | None = None,
        *,
        context: str = "Sample.Periodic",
        timestamp: str | None = None,
    ) -> dict[str, Any]:
        """MeterValues (outside transactions; those go in TransactionEvent)."""
        sample = self.sample(evse_id, context, energy_wh, power_w, timestamp)
        return await self._wire_call(call201.MeterValues(evse_id=evse_id, meter_value=[sample]))

    def sample(
        self,
        evse_id: int,
        context: str,
        energy_wh: float | None = None,
        power_w: float | None = None,
        timestamp: str | None = None,
        *,
        full: bool = True,
    ) -> dict[str, Any]:
        """A meterValue; values default to the EVSE's simulated outlet.

        ``full`` adds power, the current on each phase the car uses and SoC to the register.
        """
        outlet = self.evse(evse_id).outlet
        ts = timestamp or utc_now_iso()
        if energy_wh is None and power_w is None:
            values = outlet.readings()
            if not full:
                values = values[:1]
            return meter_value_201(ts, context, values)
        if energy_wh is None:
            energy_wh = outlet.read()
        else:
            outlet.bump_to(energy_wh)
        current_a = None
        phases = outlet.phases_used
        if power_w is not None and full:
            current_a = power_w / (outlet.voltage * phases)
        soc = outlet.soc if full and outlet.charging else None
        return build_meter_value_201(
            ts, context, energy_wh, power_w if full else None, current_a, phases, soc
        )

    # --------------------------------------------------------------- statuses

    async def status_notification(
        self,
        evse_id: int,
        status: str,
        connector_id: int = CONNECTOR_ID,
        *,
        timestamp: str | None = None,
    ) -> dict[str, Any]:
        """Record ``status`` for the EVSE and report it to the server."""
        self._record_status(evse_id, status)
        return await self._wire_call(
            call201.StatusNotification(
                timestamp=timestamp or utc_now_iso(),
                connector_status=status,
                evse_id=evse_id,
                connector_id=connector_id,
            )
        )

    def _record_status(self, evse_id: int, status: str) -> None:
        self.evse(evse_id).status = status
        self.model.set_internal("EVSE", "AvailabilityState", status, evse_id)

    async def notify_status(self, evse_id: int, status: str | None = None) -> None:
        """Best effort: record the status, report it if we can (never queued)."""
        if status is not None:
            self._record_status(evse_id, status)
        if not self._booted.is_set() or not self.connected:
            return
        try:
            await self.status_notification(evse_id, self.evse(evse_id).status)
        except (*TRANSIENT_ERRORS, OCPPError) as exc:
            self.log.info("status_not_sent", evse=evse_id, error=repr(exc))

    async def send_all_statuses(self, evse_ids: Iterable[int] | None = None) -> None:
        for evse_id in list(self.evses) if evse_ids is None else list(evse_ids):
            await self.notify_status(evse_id)
