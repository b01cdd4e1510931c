"""The OCPP 2.0.1 charging-station simulator: answers to the server's CALLs.

Handlers only decide the answer and update state; anything that needs to
send a CALL is deferred with ``_after_reply`` so it runs in its own task
after the CALLRESULT went out (awaiting a call in a handler deadlocks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from simulators._ocpp import call_result201 as result
from simulators._ocpp import on
from simulators.connector import Reservation
from simulators.firmware import firmware_version_of
from simulators.profiles import CP_MAX, CS_MAX_201, TX_PROFILE, from_v201
from simulators.timeutil import iso, parse_iso, utc_now, utc_now_iso
from simulators.v201_model import (
    AUTHORIZE_REMOTE_START,
    HEARTBEAT,
    PASSWORD,
    TX_UPDATED,
    Variable,
    parts,
)
from simulators.v201_sessions import ChargePoint201Sessions
from simulators.v201_state import CONNECTOR_ID, FAULTED, RESERVED

# Pauses between the steps of simulated log-upload/firmware jobs.
JOB_STEP_SECONDS = 1.0
# Small on purpose: even the tiny device model then needs several
# NotifyReport parts, which exercises the CSMS's tbc handling.
REPORT_PART_SIZE = 4
TRIGGERABLE = (
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "TransactionEvent",
)


class ChargePoint201Simulator(ChargePoint201Sessions):
    """A simulated OCPP 2.0.1 charging station; see the package README/docstrings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local_list_version = 0
        self.local_list: dict[str, dict[str, Any]] = {}
        self.job_step_seconds = JOB_STEP_SECONDS
        self.report_part_size = REPORT_PART_SIZE

    def _evse_of(self, evse: dict[str, Any] | None) -> int | None:
        """The EVSE id in a request's optional ``evse`` object (0 = station)."""
        return None if not evse else int(evse.get("id", 0))

    # ---------------------------------------------------- provisioning / B

    @on("GetBaseReport")
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        # Snapshot now: the report describes the model when it was asked for.
        entries = self.model.report(report_base)
        self._after_reply("report", lambda: self._send_report(request_id, entries))
        return result.GetBaseReport(status="Accepted")

    async def _send_report(self, request_id: int, entries: list[dict[str, Any]]) -> None:
        chunks = parts(entries, self.report_part_size)
        generated_at = utc_now_iso()
        for seq_no, chunk in enumerate(chunks):
            await self.notify_report(
                request_id,
                seq_no,
                chunk,
                tbc=seq_no < len(chunks) - 1,
                generated_at=generated_at,
            )

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        return result.GetVariables(
            get_variable_result=[self.model.get(item) for item in get_variable_data]
        )

    @on("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = []
        for item in set_variable_data:
            answer, changed = self.model.set(item)
            if changed is not None:
                self._apply_variable(changed)
            results.append(answer)
        return result.SetVariables(set_variable_result=results)

    def _apply_variable(self, var: Variable) -> None:
        key = (var.component.name, var.name)
        if key == HEARTBEAT:
            self.heartbeat_interval = int(var.value)
            self._hb_wake.set()
        elif key == TX_UPDATED:
            self.meter_interval = float(var.value)
        elif key == PASSWORD:
            # Used for HTTP Basic auth from the next connection on.
            self._password = var.value.encode()

    @on("Reset")
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        if evse_id is not None:
            # Resetting a single EVSE is not simulated.
            return result.Reset(status="Rejected")
        if type == "OnIdle" and not self.idle():
            self._after_reply("reset-when-idle", self._reset_when_idle)
            return result.Reset(status="Scheduled")
        self._after_reply("reset", lambda: self.reboot("ImmediateReset", "ResetCommand"))
        return result.Reset(status="Accepted")

    async def _reset_when_idle(self) -> None:
        await self.wait_idle()
        await self.reboot()

    # --------------------------------------------------------- transactions / E, F

    @on("RequestStartTransaction")
    def on_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        token, kind = str(id_token["id_token"]), str(id_token["type"])
        if evse_id is None:
            evse_id = next((n for n in self.evses if self.is_free(n, token)), None)
        rejected = result.RequestStartTransaction(status="Rejected")
        if evse_id is None or evse_id not in self.evses or not self.is_free(evse_id, token):
            return rejected
        profile = None if charging_profile is None else from_v201(charging_profile)
        if profile is not None and profile["charging_profile_purpose"] != TX_PROFILE:
            return rejected
        evse = self.evses[evse_id]
        evse.runner.claimed = True
        evse.runner.pending_tx_profile = profile
        authorize = self.model.value(*AUTHORIZE_REMOTE_START) == "true"
        n = evse_id
        self._after_reply(
            "remote-start",
            lambda: self._remote_session(n, token, kind, authorize, remote_start_id),
        )
        return result.RequestStartTransaction(status="Accepted")

    async def _remote_session(
        self, evse_id: int, token: str, kind: str, authorize: bool, remote_start_id: int
    ) -> None:
        task = self.start_session(
            evse_id,
            token,
            id_token_type=kind,
            authorize=authorize,
            remote_start_id=remote_start_id,
        )
        await asyncio.wait({task})

    @on("RequestStopTransaction")
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        tx = self.find_transaction(transaction_id)
        if tx is None:
            return result.RequestStopTransaction(status="Rejected")
        n = tx.evse_id
        self._after_reply(
            "remote-stop", lambda: self._request_stop_async(n, "Remote", "RemoteStop")
        )
        return result.RequestStopTransaction(status="Accepted")

    async def _request_stop_async(self, evse_id: int, reason: str, trigger: str) -> None:
        self.request_stop(evse_id, reason, trigger)

    @on("GetTransactionStatus")
    def on_get_transaction_status(self, transaction_id: str | None = None, **_: Any) -> Any:
        ongoing = None if transaction_id is None else self.transaction_ongoing(transaction_id)
        return result.GetTransactionStatus(
            messages_in_queue=self.queued_for(transaction_id), ongoing_indicator=ongoing
        )

    # ------------------------------------------------------ availability / G

    @on("ChangeAvailability")
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        operative = operational_status == "Operative"
        evse_id = self._evse_of(evse)
        if evse_id:
            if evse_id not in self.evses:
                return result.ChangeAvailability(status="Rejected")
            targets = [evse_id]
        else:
            targets = list(self.evses)
            self.station_operative = operative
        scheduled = False
        changed = []
        for n in targets:
            state = self.evses[n]
            if self.busy(n):
                # Never cut a running transaction: apply when it ends.
                state.pending_inoperative = not operative
                scheduled = scheduled or not operative
                continue
            state.pending_inoperative = False
            state.operative = operative
            self._record_status(n, state.idle_status(self.station_operative))
            changed.append(n)
        self._after_reply("availability", lambda: self.send_all_statuses(changed))
        return result.ChangeAvailability(status="Scheduled" if scheduled else "Accepted")

    @on("UnlockConnector")
    def on_unlock_connector(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        if evse_id not in self.evses or connector_id != CONNECTOR_ID:
            return result.UnlockConnector(status="UnknownConnector")
        if self.evses[evse_id].tx is not None:
            # 2.0.1 F05: the CSMS has to stop the transaction first.
            return result.UnlockConnector(status="OngoingAuthorizedTransaction")
        return result.UnlockConnector(status="Unlocked")

    # ------------------------------------------------------------ trigger / F

    @on("TriggerMessage")
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        if requested_message not in TRIGGERABLE:
            return result.TriggerMessage(status="NotImplemented")
        evse_id = self._evse_of(evse)
        if evse_id and evse_id not in self.evses:
            return result.TriggerMessage(status="Rejected")
        if requested_message == "BootNotification" and self.booted:
            # F06.FR.17: no BootNotification on request once accepted.
            return result.TriggerMessage(status="Rejected")
        self._after_reply(
            f"trigger-{requested_message}",
            lambda: self._send_triggered(requested_message, evse_id or None),
        )
        return result.TriggerMessage(status="Accepted")

    async def _send_triggered(self, message: str, evse_id: int | None) -> None:
        ids = list(self.evses) if evse_id is None else [evse_id]
        if message == "BootNotification":
            # Pending: make the boot loop send its next BootNotification now.
            self.boot_reason = "Triggered"
            self._boot_wake.set()
        elif message == "Heartbeat":
            await self.heartbeat()
        elif message == "StatusNotification":
            await self.send_all_statuses(ids)
        elif message == "MeterValues":
            for n in ids:
                await self.meter_values(n, context="Trigger")
        else:
            for n in ids:
                tx_id = self.transaction_id(n)
                if tx_id is not None:
                    await self.update_transaction(
                        tx_id, trigger_reason="Trigger", context="Trigger"
                    )

    # ------------------------------------------------------- smart charging / K

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        profile = from_v201(charging_profile)
        purpose = profile["charging_profile_purpose"]
        rejected = result.SetChargingProfile(status="Rejected")
        if evse_id != 0 and evse_id not in self.evses:
            return rejected
        if purpose == CP_MAX and evse_id != 0:
            return rejected
        if purpose == TX_PROFILE:
            state = self.evses.get(evse_id)
            tx_id = charging_profile.get("transaction_id")
            if state is None or state.tx is None:
                return rejected
            if tx_id is not None and tx_id != state.tx.transaction_id:
                return rejected
        if purpose == "ChargingStationExternalConstraints":
            return rejected  # only the station itself sets those
        if not self.profiles.install(evse_id, profile):
            return rejected  # a charger without smart charging
        self.refresh_limits()
        return result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        removed = self.profiles.clear(
            profile_id=charging_profile_id,
            connector_id=criteria.get("evse_id"),
            purpose=CP_MAX if purpose == CS_MAX_201 else purpose,
            stack_level=criteria.get("stack_level"),
        )
        self.refresh_limits()
        return result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        if evse_id != 0 and evse_id not in self.evses:
            return result.GetCompositeSchedule(status="Rejected")
        state = self.evses.get(evse_id)
        tx = state.tx if state is not None else None
        now = utc_now()
        limit = self.profiles.limit_w(evse_id, now, tx.start_dt if tx else None, tx is not None)
        if limit is None:
            limit = self.power_w
        composite = self.profiles.composite(limit, duration, charging_rate_unit)
        schedule = {
            "evseId": evse_id,
            "duration": duration,
            "scheduleStart": iso(now),
            "chargingRateUnit": composite["chargingRateUnit"],
            "chargingSchedulePeriod": composite["chargingSchedulePeriod"],
        }
        return result.GetCompositeSchedule(status="Accepted", schedule=schedule)

    # -------------------------------------------------- firmware and logs / L, N

    @on("UpdateFirmware")
    def on_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        delay = (parse_iso(firmware["retrieve_date_time"]) - utc_now()).total_seconds()
        # Honour a near retrieveDateTime, but never stall a test for long.
        wait = min(max(delay, 0.0), 10.0)
        location = str(firmware["location"])
        self._after_reply("firmware", lambda: self._install_firmware(request_id, wait, location))
        return result.UpdateFirmware(status="Accepted")

    async def _install_firmware(self, request_id: int, delay: float, location: str) -> None:
        await asyncio.sleep(delay)
        for status in ("Downloading", "Downloaded", "Installing", "InstallRebooting"):
            await self.firmware_status_notification(status, request_id)
            await asyncio.sleep(self.job_step_seconds)
        # L01: the station reboots into the new firmware, boots again, then reports Installed.
        self.firmware_version = firmware_version_of(location)
        await self.reboot("ImmediateReset", "ResetCommand")
        await self.wait_booted(timeout=30)
        await self.firmware_status_notification("Installed", request_id)

    @on("GetLog")
    def on_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> Any:
        stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
        filename = f"{log_type.lower()}-{self.identity}-{stamp}.log"
        self._after_reply("log-upload", lambda: self._upload_log(request_id))
        return result.GetLog(status="Accepted", filename=filename)

    async def _upload_log(self, request_id: int) -> None:
        await self.log_status_notification("Uploading", request_id)
        await asyncio.sleep(self.job_step_seconds)
        await self.log_status_notification("Uploaded", request_id)

    # -------------------------------------------------------- reservation / H

    @on("ReserveNow")
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        group_id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        token = str(id_token["id_token"])
        for state in self.evses.values():
            if state.reservation is not None and state.reservation.reservation_id == id:
                state.reservation = None  # the same id replaces the reservation
        if evse_id is None:
            evse_id = next((n for n in self.evses if self.is_free(n, token)), None)
            if evse_id is None:
                return result.ReserveNow(status="Occupied")
        if evse_id not in self.evses:
            return result.ReserveNow(status="Rejected")
        state = self.evses[evse_id]
        if not state.operative or not self.station_operative:
            return result.ReserveNow(status="Unavailable")
        if state.status == FAULTED:
            return result.ReserveNow(status="Faulted")
        if state.reservation is not None or not self.is_free(evse_id, token):
            return result.ReserveNow(status="Occupied")
        expiry = parse_iso(expiry_date_time)
        group = None if group_id_token is None else str(group_id_token["id_token"])
        state.reservation = Reservation(id, token, expiry, group)
        self._record_status(evse_id, RESERVED)
        delay = max(0.0, (expiry - utc_now()).total_seconds())
        n = evse_id
        self._after_reply("reserved", lambda: self.notify_status(n))
        self._after_reply("reservation-expiry", lambda: self._expire(n, id, delay))
        self.log.info("reserved", evse=evse_id, until=iso(expiry))
        return result.ReserveNow(status="Accepted")

    def _status_reporter(self, evse_id: int) -> Callable[[], Coroutine[Any, Any, None]]:
        return lambda: self.notify_status(evse_id)

    async def _expire(self, evse_id: int, reservation_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        state = self.evses[evse_id]
        if state.reservation is not None and state.reservation.reservation_id == reservation_id:
            state.reservation = None
            if state.status == RESERVED:
                await self.notify_status(evse_id, state.idle_status(self.station_operative))

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        for state in self.evses.values():
            if state.reservation is not None and state.reservation.reservation_id == reservation_id:
                state.reservation = None
                if state.status == RESERVED:
                    self._record_status(state.evse_id, state.idle_status(self.station_operative))
                    self._after_reply("unreserved", self._status_reporter(state.evse_id))
                return result.CancelReservation(status="Accepted")
        return result.CancelReservation(status="Rejected")

    # ------------------------------------------------- local list and cache / C, D

    @on("SendLocalList")
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = {str(e["id_token"]["id_token"]): e for e in local_authorization_list or []}
        if update_type == "Full":
            self.local_list = entries
        else:
            for token, entry in entries.items():
                if entry.get("id_token_info") is None:
                    self.local_list.pop(token, None)
                else:
                    self.local_list[token] = entry
        self.local_list_version = version_number
        return result.SendLocalList(status="Accepted")

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        return result.GetLocalListVersion(version_number=self.local_list_version)

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        return result.ClearCache(status="Accepted")

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return result.DataTransfer(status="UnknownVendorId")
