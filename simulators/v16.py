"""The OCPP 1.6J charger simulator: answers to the server's CALLs.

Handlers only decide the answer and update state; anything that needs to
send a CALL is deferred with ``_after_reply`` so it runs in its own task
after the CALLRESULT went out (awaiting a call in a handler deadlocks).
"""

from __future__ import annotations

import asyncio
import binascii
from collections.abc import Callable, Coroutine
from typing import Any

from simulators._ocpp import call_result, on
from simulators.config import AUTHORIZATION_KEY, ChangeResult
from simulators.connector import Reservation
from simulators.firmware import firmware_version_of
from simulators.profiles import CP_MAX, TX_PROFILE
from simulators.timeutil import iso, parse_iso, utc_now, utc_now_iso
from simulators.v16_sessions import ChargePoint16Sessions

# Pauses between the steps of simulated diagnostics/firmware jobs.
JOB_STEP_SECONDS = 1.0
TRIGGERABLE = ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues")


class ChargePoint16Simulator(ChargePoint16Sessions):
    """A simulated OCPP 1.6J charge point; see the package README/docstrings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local_list_version = 0
        self.local_list: dict[str, dict[str, Any]] = {}
        self.job_step_seconds = JOB_STEP_SECONDS

    def _valid_connector(self, connector_id: int, allow_zero: bool = True) -> bool:
        return connector_id in self.connectors or (allow_zero and connector_id == 0)

    # ------------------------------------------------------------------ Core

    @on("Reset")
    def on_reset(self, **payload: Any) -> Any:
        reason = "HardReset" if payload["type"] == "Hard" else "SoftReset"
        self._after_reply("reset", lambda: self.reboot(reason))
        return call_result.Reset(status="Accepted")

    @on("ChangeAvailability")
    def on_change_availability(self, connector_id: int, **payload: Any) -> Any:
        if not self._valid_connector(connector_id):
            return call_result.ChangeAvailability(status="Rejected")
        operative = payload["type"] == "Operative"
        targets = list(self.connectors) if connector_id == 0 else [connector_id]
        if connector_id == 0:
            self.cp_operative = operative
        scheduled = False
        changed = [0] if connector_id == 0 else []
        for cid in targets:
            conn = self.connectors[cid]
            if conn.tx is not None or self.session_running(cid):
                # Never cut a running transaction: apply when it ends.
                conn.pending_inoperative = not operative
                scheduled = scheduled or not operative
                continue
            conn.pending_inoperative = False
            conn.operative = operative
            conn.status = conn.idle_status()
            changed.append(cid)
        self._after_reply("availability", lambda: self.send_all_statuses(changed))
        return call_result.ChangeAvailability(status="Scheduled" if scheduled else "Accepted")

    @on("RemoteStartTransaction")
    def on_remote_start(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        if connector_id is None:
            connector_id = next((c for c in self.connectors if self.is_free(c, id_tag)), None)
        rejected = call_result.RemoteStartTransaction(status="Rejected")
        if connector_id is None or connector_id not in self.connectors:
            return rejected
        if not self.is_free(connector_id, id_tag):
            return rejected
        if (
            charging_profile is not None
            and charging_profile.get("charging_profile_purpose") != TX_PROFILE
        ):
            return rejected
        conn = self.connectors[connector_id]
        conn.runner.claimed = True
        conn.runner.pending_tx_profile = charging_profile
        authorize = self.config.get_bool("AuthorizeRemoteTxRequests")
        cid = connector_id
        self._after_reply("remote-start", lambda: self._remote_session(cid, id_tag, authorize))
        return call_result.RemoteStartTransaction(status="Accepted")

    async def _remote_session(self, connector_id: int, id_tag: str, authorize: bool) -> None:
        task = self.start_session(connector_id, id_tag, authorize=authorize)
        await asyncio.wait({task})

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id: int, **_: Any) -> Any:
        tx = self.find_transaction(transaction_id)
        if tx is None:
            return call_result.RemoteStopTransaction(status="Rejected")
        cid = tx.connector_id
        self._after_reply("remote-stop", lambda: self._request_stop_async(cid, "Remote"))
        return call_result.RemoteStopTransaction(status="Accepted")

    async def _request_stop_async(self, connector_id: int, reason: str) -> None:
        self.request_stop(connector_id, reason)

    @on("UnlockConnector")
    def on_unlock_connector(self, connector_id: int, **_: Any) -> Any:
        if connector_id not in self.connectors:
            return call_result.UnlockConnector(status="NotSupported")
        conn = self.connectors[connector_id]
        if conn.tx is not None or self.session_running(connector_id):
            self._after_reply(
                "unlock", lambda: self._request_stop_async(connector_id, "UnlockCommand")
            )
        return call_result.UnlockConnector(status="Unlocked")

    @on("GetConfiguration")
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        known, unknown = self.config.read(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on("ChangeConfiguration")
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        result = self.config.change(key, value)
        if result is ChangeResult.ACCEPTED:
            self._apply_config(key, value)
        return call_result.ChangeConfiguration(status=result.value)

    def _apply_config(self, key: str, value: str) -> None:
        if key == "HeartbeatInterval":
            self.heartbeat_interval = int(value)
            self._hb_wake.set()
        elif key == "MeterValueSampleInterval":
            self.meter_interval = float(value)
        elif key == AUTHORIZATION_KEY:
            # Used for HTTP Basic auth from the next connection on.
            self._password = binascii.unhexlify(value)

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status="Accepted")

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return call_result.DataTransfer(status="UnknownVendorId")

    # ---------------------------------------------------------- RemoteTrigger

    @on("TriggerMessage")
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        if requested_message not in TRIGGERABLE:
            return call_result.TriggerMessage(status="NotImplemented")
        if connector_id is not None and not self._valid_connector(connector_id):
            return call_result.TriggerMessage(status="Rejected")
        self._after_reply(
            f"trigger-{requested_message}",
            lambda: self._send_triggered(requested_message, connector_id),
        )
        return call_result.TriggerMessage(status="Accepted")

    async def _send_triggered(self, message: str, connector_id: int | None) -> None:
        if message == "BootNotification":
            await self.boot_notification()
        elif message == "Heartbeat":
            await self.heartbeat()
        elif message == "StatusNotification":
            await self.send_all_statuses(None if connector_id is None else [connector_id])
        else:
            ids = list(self.connectors) if not connector_id else [connector_id]
            for cid in ids:
                await self.send_meter_values(cid, self.transaction_id(cid), context="Trigger")

    # ------------------------------------------------------ FirmwareManagement

    @on("GetDiagnostics")
    def on_get_diagnostics(self, location: str, **_: Any) -> Any:
        stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
        file_name = f"diagnostics-{self.identity}-{stamp}.log"
        self._after_reply("diagnostics", self._upload_diagnostics)
        return call_result.GetDiagnostics(file_name=file_name)

    async def _upload_diagnostics(self) -> None:
        await self.diagnostics_status_notification("Uploading")
        await asyncio.sleep(self.job_step_seconds)
        await self.diagnostics_status_notification("Uploaded")

    @on("UpdateFirmware")
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> Any:
        delay = (parse_iso(retrieve_date) - utc_now()).total_seconds()
        # Honour a near retrieveDate, but never stall a test for long.
        wait = min(max(delay, 0.0), 10.0)
        self._after_reply("firmware", lambda: self._install_firmware(wait, location))
        return call_result.UpdateFirmware()

    async def _install_firmware(self, delay: float, location: str) -> None:
        await asyncio.sleep(delay)
        for status in ("Downloading", "Downloaded", "Installing"):
            await self.firmware_status_notification(status)
            await asyncio.sleep(self.job_step_seconds)
        # OCPP 1.6 §5.19: the new firmware runs after a reboot, which the central system sees as
        # a BootNotification with the new version; Installed follows that boot.
        self.firmware_version = firmware_version_of(location)
        await self.reboot("HardReset")
        await self.wait_booted(timeout=30)
        await self.firmware_status_notification("Installed")

    # ---------------------------------------------------------- SmartCharging

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        purpose = cs_charging_profiles.get("charging_profile_purpose")
        rejected = call_result.SetChargingProfile(status="Rejected")
        if not self._valid_connector(connector_id):
            return rejected
        if purpose == CP_MAX and connector_id != 0:
            return rejected
        if purpose == TX_PROFILE:
            conn = self.connectors.get(connector_id)
            if conn is None or conn.tx is None:
                return rejected
        if not self.profiles.install(connector_id, cs_charging_profiles):
            return rejected  # a charger without smart charging
        self.refresh_limits()
        return call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **payload: Any) -> Any:
        removed = self.profiles.clear(
            profile_id=payload.get("id"),
            connector_id=payload.get("connector_id"),
            purpose=payload.get("charging_profile_purpose"),
            stack_level=payload.get("stack_level"),
        )
        self.refresh_limits()
        return call_result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        if not self._valid_connector(connector_id):
            return call_result.GetCompositeSchedule(status="Rejected")
        conn = self.connectors.get(connector_id)
        start = conn.tx.start_dt if conn is not None and conn.tx is not None else None
        in_tx = conn is not None and conn.tx is not None
        limit = self.profiles.limit_w(connector_id, utc_now(), start, in_tx)
        if limit is None:
            limit = self.power_w
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=utc_now_iso(),
            charging_schedule=self.profiles.composite(limit, duration, charging_rate_unit),
        )

    # ------------------------------------------------------------ Reservation

    @on("ReserveNow")
    def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        **_: Any,
    ) -> Any:
        if connector_id not in self.connectors:
            # ReserveConnectorZeroSupported is false.
            return call_result.ReserveNow(status="Rejected")
        conn = self.connectors[connector_id]
        if conn.reservation is not None and conn.reservation.reservation_id == reservation_id:
            conn.reservation = None  # the same id replaces the reservation
        if not conn.operative or not self.cp_operative:
            return call_result.ReserveNow(status="Unavailable")
        if conn.status == "Faulted":
            return call_result.ReserveNow(status="Faulted")
        if not self.is_free(connector_id, id_tag) or conn.reservation is not None:
            return call_result.ReserveNow(status="Occupied")
        expiry = parse_iso(expiry_date)
        conn.reservation = Reservation(reservation_id, id_tag, expiry, parent_id_tag)
        conn.status = "Reserved"
        delay = max(0.0, (expiry - utc_now()).total_seconds())
        self._after_reply("reserved", lambda: self.notify_status(connector_id))
        self._after_reply(
            "reservation-expiry", lambda: self._expire(connector_id, reservation_id, delay)
        )
        self.log.info("reserved", connector=connector_id, until=iso(expiry))
        return call_result.ReserveNow(status="Accepted")

    def _status_reporter(self, connector_id: int) -> Callable[[], Coroutine[Any, Any, None]]:
        return lambda: self.notify_status(connector_id)

    async def _expire(self, connector_id: int, reservation_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        conn = self.connectors[connector_id]
        if conn.reservation is not None and conn.reservation.reservation_id == reservation_id:
            conn.reservation = None
            if conn.status == "Reserved":
                await self.notify_status(connector_id, conn.idle_status())

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        for conn in self.connectors.values():
            if conn.reservation is not None and conn.reservation.reservation_id == reservation_id:
                conn.reservation = None
                if conn.status == "Reserved":
                    conn.status = conn.idle_status()
                    self._after_reply("unreserved", self._status_reporter(conn.connector_id))
                return call_result.CancelReservation(status="Accepted")
        return call_result.CancelReservation(status="Rejected")

    # ----------------------------------------------- LocalAuthListManagement

    @on("SendLocalList")
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = {e["id_tag"]: e for e in local_authorization_list or []}
        if update_type == "Full":
            self.local_list = entries
        else:
            for tag, entry in entries.items():
                if entry.get("id_tag_info") is None:
                    self.local_list.pop(tag, None)
                else:
                    self.local_list[tag] = entry
        self.local_list_version = list_version
        return call_result.SendLocalList(status="Accepted")

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        return call_result.GetLocalListVersion(list_version=self.local_list_version)
