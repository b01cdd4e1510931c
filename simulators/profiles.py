"""Smart-charging profiles (1.6 SetChargingProfile, 2.0.1 via ``from_v201``) reduced to a limit.

The rules (OCPP 1.6 §3.13, 2.0.1 K01): within a purpose the profile with the highest stack level
that has a period in force wins; the transaction's TxProfile, else the outlet's TxDefaultProfile,
else the station-wide TxDefaultProfile (outlet 0) sets the limit, and ChargePointMaxProfile
(2.0.1: ChargingStationMaxProfile) caps it. ``EffectiveLimit`` keeps the winning periods with their
unit and numberPhases: a limit in W only becomes A per phase once the phases a car uses are known.

Simplifications, on purpose: ChargePointMaxProfile caps each outlet rather than the sum of all
outlets, and GetCompositeSchedule reports the limit in force now as a single period. Enough to
test a CSMS's smart charging paths. Profiles arrive with snake_case keys (the ocpp library converts
them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulators.meter import NOMINAL_VOLTAGE
from simulators.timeutil import parse_iso

TX_PROFILE = "TxProfile"
TX_DEFAULT = "TxDefaultProfile"
CP_MAX = "ChargePointMaxProfile"

_RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(weeks=1)}


@dataclass
class Installed:
    connector_id: int
    profile: dict[str, Any]

    @property
    def profile_id(self) -> int:
        return int(self.profile["charging_profile_id"])

    @property
    def purpose(self) -> str:
        return str(self.profile["charging_profile_purpose"])

    @property
    def stack_level(self) -> int:
        return int(self.profile["stack_level"])


def to_watts(limit: float, unit: str, phases: int) -> float:
    return limit if unit == "W" else limit * NOMINAL_VOLTAGE * phases


@dataclass(frozen=True)
class RateLimit:
    """The schedule period in force of one profile: its limit, unit ("A" or "W"), numberPhases."""

    limit: float
    unit: str
    number_phases: int | None = None

    def amps(self, phases: int, voltage: float = NOMINAL_VOLTAGE) -> float:
        """A per phase on ``phases`` phases (a W limit is shared by the phases in use)."""
        return self.limit if self.unit == "A" else self.limit / (voltage * phases)


@dataclass(frozen=True)
class EffectiveLimit:
    """What the profiles allow one outlet now: the transaction's limit and the station's cap."""

    tx: RateLimit | None = None  # TxProfile, else TxDefaultProfile
    cap: RateLimit | None = None  # ChargePointMaxProfile / ChargingStationMaxProfile

    def resolve(self, phases: int, voltage: float = NOMINAL_VOLTAGE) -> tuple[float | None, int]:
        """(A per phase, or None for no limit; phases usable) for a car that would use ``phases``.

        numberPhases of a period in force limits the phases; a W limit is divided over the
        phases actually used, so a single-phase car may take all of it on one phase.
        """
        periods = [r for r in (self.tx, self.cap) if r is not None]
        for r in periods:
            if r.number_phases is not None:
                phases = max(1, min(phases, r.number_phases))
        amps = [r.amps(phases, voltage) for r in periods]
        return (min(amps) if amps else None), phases


def _schedule_start(profile: dict[str, Any], now: datetime, tx_start: datetime | None) -> datetime:
    schedule = profile["charging_schedule"]
    kind = profile.get("charging_profile_kind", "Absolute")
    if kind == "Relative":
        return tx_start or now
    start_text = schedule.get("start_schedule") or profile.get("valid_from")
    start = parse_iso(start_text) if start_text else (tx_start or now)
    period = _RECURRENCE.get(profile.get("recurrency_kind", ""))
    if kind == "Recurring" and period is not None and now >= start:
        start += period * ((now - start) // period)
    return start


def profile_rate(
    profile: dict[str, Any], now: datetime, tx_start: datetime | None
) -> RateLimit | None:
    """The period of this profile in force at ``now``, or None if inactive."""
    if profile.get("valid_from") and now < parse_iso(profile["valid_from"]):
        return None
    if profile.get("valid_to") and now >= parse_iso(profile["valid_to"]):
        return None
    schedule = profile["charging_schedule"]
    elapsed = (now - _schedule_start(profile, now, tx_start)).total_seconds()
    duration = schedule.get("duration")
    if elapsed < 0 or (duration is not None and elapsed >= duration):
        return None
    active = None
    for period in sorted(schedule["charging_schedule_period"], key=lambda p: p["start_period"]):
        if period["start_period"] <= elapsed:
            active = period
    if active is None:
        return None
    n_phases = active.get("number_phases")
    return RateLimit(
        float(active["limit"]),
        str(schedule["charging_rate_unit"]),
        None if n_phases is None else int(n_phases),
    )


def profile_limit_w(
    profile: dict[str, Any], now: datetime, tx_start: datetime | None, phases: int = 3
) -> float | None:
    """The limit this profile imposes at ``now`` in W, or None if inactive."""
    rate = profile_rate(profile, now, tx_start)
    if rate is None:
        return None
    return to_watts(rate.limit, rate.unit, rate.number_phases or phases)


class ProfileStore:
    """A station's installed profiles. Without ``smart_charging`` (a charger that cannot do
    it) it keeps none: every profile is refused and the cars draw all they can."""

    def __init__(self, phases: int = 3, *, smart_charging: bool = True) -> None:
        self.phases = phases
        self.smart_charging = smart_charging
        self._installed: list[Installed] = []

    def install(self, connector_id: int, profile: dict[str, Any]) -> bool:
        """Keep the profile; False (refused, nothing kept) without smart charging."""
        if not self.smart_charging:
            return False
        new = Installed(connector_id, profile)
        # Same id, or same purpose+stack level on the connector, is replaced.
        self._installed = [
            p
            for p in self._installed
            if p.profile_id != new.profile_id
            and not (
                p.connector_id == connector_id
                and p.purpose == new.purpose
                and p.stack_level == new.stack_level
            )
        ]
        self._installed.append(new)
        return True

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        def matches(p: Installed) -> bool:
            if profile_id is not None:
                return p.profile_id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        kept = [p for p in self._installed if not matches(p)]
        removed = len(kept) != len(self._installed)
        self._installed = kept
        return removed

    def drop_tx_profiles(self, connector_id: int) -> None:
        """TxProfiles only live as long as their transaction."""
        self._installed = [
            p
            for p in self._installed
            if not (p.connector_id == connector_id and p.purpose == TX_PROFILE)
        ]

    def __len__(self) -> int:
        return len(self._installed)

    def _best(
        self, connector_id: int, purpose: str, now: datetime, tx_start: datetime | None
    ) -> RateLimit | None:
        # Highest stack level with an active period wins (OCPP 1.6 §3.13.2).
        candidates = sorted(
            (p for p in self._installed if p.connector_id == connector_id and p.purpose == purpose),
            key=lambda p: p.stack_level,
            reverse=True,
        )
        for p in candidates:
            rate = profile_rate(p.profile, now, tx_start)
            if rate is not None:
                return rate
        return None

    def effective(
        self, connector_id: int, now: datetime, tx_start: datetime | None, in_tx: bool
    ) -> EffectiveLimit:
        """The periods that limit outlet ``connector_id`` now (see the module docstring)."""
        tx_limit = self._best(connector_id, TX_PROFILE, now, tx_start) if in_tx else None
        if tx_limit is None and connector_id != 0:
            tx_limit = self._best(connector_id, TX_DEFAULT, now, tx_start)
        if tx_limit is None:
            tx_limit = self._best(0, TX_DEFAULT, now, tx_start)
        return EffectiveLimit(tx_limit, self._best(0, CP_MAX, now, tx_start))

    def limit_w(
        self, connector_id: int, now: datetime, tx_start: datetime | None, in_tx: bool
    ) -> float | None:
        """The effective limit in W on the station's phases (GetCompositeSchedule)."""
        amps, phases = self.effective(connector_id, now, tx_start, in_tx).resolve(self.phases)
        return None if amps is None else amps * NOMINAL_VOLTAGE * phases

    def composite(self, limit_w: float, duration: int, unit: str | None) -> dict[str, Any]:
        """A one-period chargingSchedule (camelCase, wire format)."""
        rate_unit = unit or "W"
        limit = limit_w if rate_unit == "W" else limit_w / (NOMINAL_VOLTAGE * self.phases)
        return {
            "duration": duration,
            "chargingRateUnit": rate_unit,
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": round(limit, 1), "numberPhases": self.phases}
            ],
        }


# OCPP 2.0.1 renamed the station-wide purpose; the rest of a profile keeps its
# 1.6 meaning once the 2.0.1 shape is mapped onto the 1.6 one.
CS_MAX_201 = "ChargingStationMaxProfile"


def from_v201(profile: dict[str, Any]) -> dict[str, Any]:
    """A 2.0.1 ``chargingProfile`` (snake_case) in the shape ``ProfileStore`` uses.

    2.0.1 calls the id ``id`` and allows up to three schedules (for different
    rate units); the first one is the one the simulator follows.
    """
    purpose = str(profile["charging_profile_purpose"])
    schedules = profile.get("charging_schedule") or []
    mapped: dict[str, Any] = {
        "charging_profile_id": profile["id"],
        "stack_level": profile["stack_level"],
        "charging_profile_purpose": CP_MAX if purpose == CS_MAX_201 else purpose,
        "charging_profile_kind": profile.get("charging_profile_kind", "Absolute"),
        "charging_schedule": schedules[0] if schedules else {"charging_schedule_period": []},
    }
    for key in ("recurrency_kind", "valid_from", "valid_to"):
        if profile.get(key) is not None:
            mapped[key] = profile[key]
    return mapped
