"""The load manager's charging profiles: what it sends, with which ids, and what chargers accepted.

Profiles go through the command layer (so they are in the audit trail, as ``loadmanagement``,
and in ``GET .../charging-profiles``) in the OCPP 1.6 shape it translates for 2.0.1:
- a **TxProfile** per session: id ``TX_PROFILE_ID_BASE + evseId``, stack level ``STACK_LEVEL``,
  bound to the transaction, kind Absolute from a ``startSchedule`` a minute in the past (a charger
  whose clock is a little behind still applies it at once), one period: the limit in A and the
  session's number of phases;
- a **TxDefaultProfile** on every attached charger (evseId 0): id ``TX_DEFAULT_PROFILE_ID``, same
  stack level, 0 A: a session that has just started draws nothing until its own TxProfile
  arrives (within a second), which every circuit can always honour.
Operators' own profiles keep their ids and stack levels; a charger's ChargePointMaxProfile still
caps what the load manager allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from csms.domain import commands as cmd
from csms.domain.clock import Clock
from csms.domain.errors import ChargerRejectedCall, DomainError
from csms.log import get_logger
from csms.services.commands import CommandService

__all__ = [
    "REQUESTED_BY",
    "STACK_LEVEL",
    "TX_DEFAULT_PROFILE_ID",
    "TX_PROFILE_ID_BASE",
    "ProfileSender",
    "SentProfile",
    "Target",
]

log = get_logger(__name__)

REQUESTED_BY = "loadmanagement"
STACK_LEVEL = 1
TX_PROFILE_ID_BASE = 9100
TX_DEFAULT_PROFILE_ID = 9000
_START_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Target:
    """A limit for one session: where it goes and what it is."""

    charge_point_id: str
    evse_id: int
    transaction_id: str
    limit: float
    phases: int


@dataclass(frozen=True, slots=True)
class SentProfile:
    profile_id: int
    limit: float
    phases: int
    sent_at: datetime
    status: str  # the charger's answer: Accepted, Rejected, ... or the failure's code
    accepted: bool
    refused: bool = False  # the charger said no (not offline, not busy booting): unmanaged


# A CALLERROR that means "this charger cannot do smart charging", not "try again later".
_CANNOT = frozenset({"NotImplemented", "NotSupported"})


def tx_profile(target: Target, now: datetime) -> cmd.SetChargingProfile:
    return cmd.SetChargingProfile(
        evse_id=target.evse_id,
        charging_profile=cmd.ChargingProfile(
            charging_profile_id=TX_PROFILE_ID_BASE + target.evse_id,
            stack_level=STACK_LEVEL,
            charging_profile_purpose="TxProfile",
            charging_profile_kind="Absolute",
            transaction_id=target.transaction_id,
            charging_schedule=cmd.ChargingSchedule(
                start_schedule=now - _START_MARGIN,
                charging_rate_unit="A",
                charging_schedule_period=[
                    cmd.ChargingSchedulePeriod(
                        start_period=0,
                        limit=Decimal(f"{target.limit:.1f}"),
                        number_phases=target.phases,
                    )
                ],
            ),
        ),
    )


def tx_default_profile(now: datetime) -> cmd.SetChargingProfile:
    return cmd.SetChargingProfile(
        evse_id=0,
        charging_profile=cmd.ChargingProfile(
            charging_profile_id=TX_DEFAULT_PROFILE_ID,
            stack_level=STACK_LEVEL,
            charging_profile_purpose="TxDefaultProfile",
            charging_profile_kind="Absolute",
            charging_schedule=cmd.ChargingSchedule(
                start_schedule=now - _START_MARGIN,
                charging_rate_unit="A",
                charging_schedule_period=[
                    cmd.ChargingSchedulePeriod(start_period=0, limit=Decimal("0.0"))
                ],
            ),
        ),
    )


class ProfileSender:
    def __init__(self, commands: CommandService, clock: Clock, *, timeout: float) -> None:
        self._commands = commands
        self._clock = clock
        self._timeout = timeout

    async def send_all(self, targets: Mapping[str, Target]) -> dict[str, SentProfile]:
        """Send these TxProfiles at once; the outcome of each (never raises)."""
        keys = list(targets)
        outcomes = await asyncio.gather(*(self._send(targets[key]) for key in keys))
        return dict(zip(keys, outcomes, strict=True))

    async def _send(self, target: Target) -> SentProfile:
        now = self._clock()
        status, accepted, refused = await self._execute(
            target.charge_point_id, tx_profile(target, now), target.evse_id
        )
        profile_id = TX_PROFILE_ID_BASE + target.evse_id
        return SentProfile(profile_id, target.limit, target.phases, now, status, accepted, refused)

    async def send_default(self, cp_id: str) -> tuple[bool, bool]:
        """The 0 A TxDefaultProfile: (accepted, refused)."""
        _, accepted, refused = await self._execute(cp_id, tx_default_profile(self._clock()), 0)
        return accepted, refused

    async def _execute(
        self, cp_id: str, command: cmd.SetChargingProfile, evse_id: int
    ) -> tuple[str, bool, bool]:
        """(status, accepted, refused): a charger that is offline, still booting or slow to
        answer has not refused; one that answers Rejected, or cannot do smart charging, has."""
        try:
            record = await self._commands.execute(
                cp_id,
                "set-charging-profile",
                command,
                requested_by=REQUESTED_BY,
                timeout=self._timeout,
            )
        except ChargerRejectedCall as exc:
            log.warning(
                "load management profile refused",
                charge_point_id=cp_id,
                evse_id=evse_id,
                error=str(exc),
            )
            return exc.code, False, exc.code in _CANNOT
        except (DomainError, cmd.CommandInvalid, cmd.CommandNotSupported) as exc:
            log.info(
                "load management profile not delivered",
                charge_point_id=cp_id,
                evse_id=evse_id,
                error=f"{type(exc).__name__}: {exc}",
            )
            return type(exc).__name__, False, isinstance(exc, cmd.CommandNotSupported)
        status = record.status or "Unknown"
        return status, status == "Accepted", status != "Accepted"
