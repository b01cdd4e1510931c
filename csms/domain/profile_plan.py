"""From one allocation to the next, pure: which limits to send, in which order, and which to hold.

The controller sends what this returns (API.md "Circuits and dynamic load management"):
- limits go out in whole amperes, rounded down (``whole_amps``): the allocation's shares move by
  fractions of an ampere whenever a session comes or goes, and a charger need not hear of it; an
  increase smaller than ``MIN_CHANGE_A`` is not sent either (the charger keeps the lower limit it
  has). A decrease is always sent: the others' shares count on it;
- decreases go first, and increases only once every decrease has been accepted, so that at no
  instant do the limits chargers apply exceed a circuit;
- a raise that comes from lending (a session's measured use, not a session starting or stopping
  nor a circuit changing) is damped: at most one per session per ``RAISE_INTERVAL_S``, so that a
  car that follows slowly does not oscillate. A held raise keeps the session at its current limit,
  which only leaves more room: the invariant still holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["MIN_CHANGE_A", "RAISE_INTERVAL_S", "ProfilePlan", "plan_profiles", "whole_amps"]

MIN_CHANGE_A = 1.0
RAISE_INTERVAL_S = 60.0


def whole_amps(limit: float, minimum: float) -> float:
    """The limit rounded down to a whole ampere, unless that would take it below the minimum (a
    minimum that is not a whole number): rounding down only ever leaves room unused."""
    rounded = float(math.floor(limit + 1e-9))
    return rounded if rounded >= minimum or limit == 0 else limit


@dataclass(frozen=True, slots=True)
class ProfilePlan:
    decreases: dict[str, float] = field(default_factory=dict)  # session -> new limit, send first
    increases: dict[str, float] = field(default_factory=dict)  # then these
    held: dict[str, float] = field(default_factory=dict)  # session -> the limit it keeps

    def in_force(self, previous: Mapping[str, float]) -> dict[str, float]:
        """The limits chargers apply once the plan is through (a new session starts at 0)."""
        limits = {key: previous.get(key, 0.0) for key in previous}
        limits.update(self.held)
        limits.update(self.decreases)
        limits.update(self.increases)
        return limits


def plan_profiles(
    current: Mapping[str, float],
    target: Mapping[str, float],
    *,
    lending: bool,
    last_raise: Mapping[str, float],
    now: float,
) -> ProfilePlan:
    """``current``: the limit each session's charger has accepted (absent: none yet, it draws
    what its TxDefaultProfile allows, 0 A); ``target``: the new allocation; ``lending``: this
    allocation was triggered by measured use only; ``last_raise``: when each session was last
    raised (monotonic seconds), ``now`` likewise."""
    decreases: dict[str, float] = {}
    increases: dict[str, float] = {}
    held: dict[str, float] = {}
    for key in sorted(target):
        wanted = target[key]
        have = current.get(key)
        if have is None:
            if wanted > 0:
                increases[key] = wanted  # a new session's first profile
            continue
        if wanted == have:
            continue
        if wanted < have:
            decreases[key] = wanted
        elif wanted - have < MIN_CHANGE_A or (
            lending and now - last_raise.get(key, -math.inf) < RAISE_INTERVAL_S
        ):
            held[key] = have  # a small raise, or a lending raise too soon after the last
        else:
            increases[key] = wanted
    return ProfilePlan(decreases, increases, held)
