"""The state that follows what a charger accepted: the profiles, reservations, local list
version and configuration it now holds, kept so that operators (and the load manager) can read
them without asking the charger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from csms.domain import commands as cmd
from csms.domain.clock import Clock
from csms.domain.commands import OCPP_INT_MAX, OcppCall
from csms.domain.models import DeviceVariable, Reservation, StoredChargingProfile
from csms.domain.updates import ChargePointChanges
from csms.log import get_logger
from csms.services.charger_state import ChargerStateService
from csms.services.chargers import ChargerService
from csms.services.reports import ReportService

__all__ = ["Answer", "CommandFollowUps"]

log = get_logger(__name__)


class Answer(NamedTuple):
    """What a charger answered to a command: what the follow-ups need to keep state."""

    cp_id: str
    command: Any
    call: OcppCall
    status: str | None
    response: dict[str, Any]


class CommandFollowUps:
    def __init__(
        self,
        state: ChargerStateService,
        reports: ReportService,
        clock: Clock,
        chargers: ChargerService,
    ) -> None:
        self._state = state
        self._reports = reports
        self._clock = clock
        self._chargers = chargers

    async def apply(self, answer: Answer) -> None:
        follow = _FOLLOW_UPS.get(type(answer.command))
        if follow is not None:
            await follow(self, answer)

    async def _set_profile(self, answer: Answer) -> None:
        cp_id, command, _call, status, _response = answer
        if status != "Accepted":
            return  # Rejected / CALLERROR / timeout: the limit is NOT applied
        profile = command.charging_profile
        await self._state.remember_profile(
            StoredChargingProfile(
                charge_point_id=cp_id,
                profile_id=profile.charging_profile_id,
                evse_id=command.evse_id,
                purpose=profile.charging_profile_purpose,
                stack_level=profile.stack_level,
                transaction_id=profile.transaction_id,
                profile=profile.model_dump(mode="json", by_alias=True, exclude_none=True),
                set_at=self._clock(),
            )
        )

    async def _clear_profile(self, answer: Answer) -> None:
        cp_id, command, _call, status, _response = answer
        if status == "Accepted":
            await self._state.forget_profiles(
                cp_id,
                profile_id=command.id,
                evse_id=command.evse_id,
                purpose=command.charging_profile_purpose,
                stack_level=command.stack_level,
            )

    async def _reserve(self, answer: Answer) -> None:
        cp_id, command, call, status, _response = answer
        if status != "Accepted":
            return
        evse = command.evse_id if command.evse_id is not None else command.connector_id
        await self._state.remember_reservation(
            Reservation(
                charge_point_id=cp_id,
                reservation_id=int(call.payload.get("reservationId") or call.payload["id"]),
                evse_id=evse or 0,
                connector_id=command.connector_id or evse or 0,
                id_tag=command.id_tag,
                expires_at=command.expiry_date,
                status="active",
                created_at=self._clock(),
            )
        )

    async def _cancel_reservation(self, answer: Answer) -> None:
        cp_id, command, _call, status, _response = answer
        if status == "Accepted":
            await self._state.reservation_ended(cp_id, command.reservation_id, "cancelled")

    async def _local_list(self, answer: Answer) -> None:
        cp_id, command, _call, status, _response = answer
        if status == "Accepted":
            await self._state.set_local_list_version(cp_id, command.list_version)

    async def _local_list_version(self, answer: Answer) -> None:
        cp_id, _command, _call, _status, response = answer
        version = response.get("listVersion", response.get("versionNumber"))
        if not isinstance(version, int):
            return
        if not -OCPP_INT_MAX - 1 <= version <= OCPP_INT_MAX:
            # The schema says integer, not how large: a number no OCPP integer can be is no
            # version we could send back or compare. The answer stays in the command record; the
            # version kept becomes unknown, since the one before is not what the charger holds.
            log.warning(
                "local list version out of range; kept as unknown",
                charge_point_id=cp_id,
                list_version=version,
            )
            await self._state.set_local_list_version(cp_id, None)
            return
        await self._state.set_local_list_version(cp_id, version)

    async def _get_configuration(self, answer: Answer) -> None:
        cp_id, _command, call, _status, response = answer
        if call.action == "GetConfiguration":
            await self._state.remember_configuration(
                cp_id,
                [
                    (k["key"], k.get("value"), k.get("readonly"))
                    for k in response.get("configurationKey", [])
                ],
            )
        elif call.action == "GetVariables":
            variables = [
                DeviceVariable(
                    component=r["component"]["name"],
                    component_instance=r["component"].get("instance"),
                    evse_id=(r["component"].get("evse") or {}).get("id"),
                    connector_id=(r["component"].get("evse") or {}).get("connectorId"),
                    variable=r["variable"]["name"],
                    variable_instance=r["variable"].get("instance"),
                    attribute_type=r.get("attributeType", "Actual"),
                    value=r.get("attributeValue"),
                )
                for r in response.get("getVariableResult", [])
                if r.get("attributeStatus") == "Accepted"
            ]
            await self._reports.remember_variables(cp_id, variables)

    async def _set_configuration(self, answer: Answer) -> None:
        cp_id, command, call, status, _response = answer
        if status not in ("Accepted", "RebootRequired") or command.sets_credential:
            return  # refused, or a credential: written to the charger, never kept in clear
        if call.action == "ChangeConfiguration":
            await self._state.remember_configuration(cp_id, [(command.name, command.value, None)])
        else:
            await self._reports.remember_variables(
                cp_id,
                [
                    DeviceVariable(
                        component=command.component_name,
                        variable=command.name,
                        variable_instance=command.instance,
                        evse_id=command.evse_id,
                        value=command.value,
                    )
                ],
            )

    async def _set_security_profile(self, answer: Answer) -> None:
        cp_id, command, _call, status, _response = answer
        # 1.6 ChangeConfiguration Accepted/RebootRequired; 2.0.1 the last of its calls (the
        # Reset) Accepted/Scheduled, reached only when the profile and priority were taken.
        # From then on the charger is only let in at this profile (A05.FR.07).
        if status in ("Accepted", "RebootRequired", "Scheduled"):
            await self._chargers.update(
                cp_id,
                ChargePointChanges(security_profile=command.security_profile),
                by_charger=True,
            )


_FollowUp = Callable[[CommandFollowUps, Answer], Awaitable[None]]

_FOLLOW_UPS: dict[type[cmd.Command], _FollowUp] = {
    cmd.SetChargingProfile: CommandFollowUps._set_profile,
    cmd.ClearChargingProfile: CommandFollowUps._clear_profile,
    cmd.Reserve: CommandFollowUps._reserve,
    cmd.CancelReservation: CommandFollowUps._cancel_reservation,
    cmd.SendLocalList: CommandFollowUps._local_list,
    cmd.GetLocalListVersion: CommandFollowUps._local_list_version,
    cmd.GetConfiguration: CommandFollowUps._get_configuration,
    cmd.SetConfiguration: CommandFollowUps._set_configuration,
    cmd.SetSecurityProfile: CommandFollowUps._set_security_profile,
}
