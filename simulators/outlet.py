"""One outlet with a car plugged in: the limit it obeys, the current it draws, its meter.

Written once for both OCPP versions (a 1.6 connector, a 2.0.1 EVSE). Pure apart from an
injected monotonic clock: no sockets, no OCPP. The rules:

- the limit in force comes from the charging profiles (``profiles.EffectiveLimit``): A per
  phase, on at most the phases numberPhases allows; a W limit is divided over the phases used;
- the car draws min(its own maximum, the outlet's rating, the limit) per phase, on
  min(its phases, the outlet's phases, numberPhases) phases, and nothing when that is below
  6 A (IEC 61851-1: a car stops rather than charge below 6 A);
- while charging, a new limit is followed ``delay`` seconds after it was set (a car takes a
  few seconds to follow the pilot signal); a session starts at the limit already in force;
- the register integrates the power actually drawn, piece by piece across limit changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from simulators.ev import MIN_CURRENT_A, Car
from simulators.meter import NOMINAL_VOLTAGE, EnergyMeter, Reading, readings
from simulators.profiles import EffectiveLimit

__all__ = ["DEFAULT_LIMIT_DELAY", "Draw", "Outlet"]

# Seconds a car takes to follow a new limit (a real one: 1-5 s after the PWM changes).
DEFAULT_LIMIT_DELAY = 2.0
NO_LIMIT = EffectiveLimit()


@dataclass(frozen=True)
class Draw:
    """What the car takes right now: A on each of ``phases`` phases."""

    current_a: float
    phases: int
    voltage: float = NOMINAL_VOLTAGE

    @property
    def power_w(self) -> float:
        return self.current_a * self.phases * self.voltage


class Outlet:
    def __init__(
        self,
        *,
        max_current: float = 32.0,
        phases: int = 3,
        car: Car | None = None,
        delay: float = DEFAULT_LIMIT_DELAY,
        voltage: float = NOMINAL_VOLTAGE,
        register_wh: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_current = max_current  # the outlet's rating, A per phase
        self.phases = phases  # how the outlet is wired
        self.car = car or Car()
        self.delay = delay
        self.voltage = voltage
        self.clock = clock
        self.meter = EnergyMeter(register_wh, clock)
        self._charging = False
        self._applied = NO_LIMIT
        # Limits set but not followed yet: (monotonic time they take effect, limit).
        self._pending: list[tuple[float, EffectiveLimit]] = []
        self._session_start_wh = register_wh
        self._start_soc = 20.0

    # ----------------------------------------------------------------- limit

    @property
    def limit(self) -> EffectiveLimit:
        """The limit the car follows now (a newer one may still be pending)."""
        self._advance()
        return self._applied

    @property
    def target(self) -> EffectiveLimit:
        """The newest limit set, followed or not."""
        return self._pending[-1][1] if self._pending else self._applied

    def set_limit(self, limit: EffectiveLimit | None) -> None:
        """A new limit from the profiles; followed after ``delay`` while charging."""
        limit = limit or NO_LIMIT
        self._advance()
        if limit == self.target:
            return  # re-evaluating unchanged profiles does not restart the delay
        if not self._charging or self.delay <= 0:
            self._pending.clear()
            self._applied = limit
            return
        self._pending.append((self.clock() + self.delay, limit))

    # ------------------------------------------------------------------ draw

    def _draw(self, limit: EffectiveLimit) -> Draw:
        wanted = min(self.car.phases, self.phases)
        amps, phases = limit.resolve(wanted, self.voltage)
        current = min(self.car.max_current, self.max_current)
        if amps is not None:
            current = min(current, amps)
        if not self._charging or current < MIN_CURRENT_A:
            current = 0.0
        return Draw(current, phases, self.voltage)

    @property
    def draw(self) -> Draw:
        self._advance()
        return self._draw(self._applied)

    def followed(self) -> tuple[EffectiveLimit, Draw]:
        """The limit the car follows now and what it draws under it, read at one instant."""
        self._advance()
        return self._applied, self._draw(self._applied)

    @property
    def current_a(self) -> float:
        """A per phase the car draws now."""
        return self.draw.current_a

    @property
    def phases_used(self) -> int:
        return self.draw.phases

    @property
    def power_w(self) -> float:
        return self.draw.power_w

    @property
    def suspended(self) -> bool:
        """Charging, but the limit is below what the car can charge with."""
        return self._charging and self.current_a == 0

    # ---------------------------------------------------------------- energy

    def _advance(self) -> None:
        """Integrate up to now, switching to each pending limit at its own time."""
        now = self.clock()
        while self._pending and self._pending[0][0] <= now:
            at, limit = self._pending.pop(0)
            self.meter.advance(at, self._draw(self._applied).power_w)
            self._applied = limit
        self.meter.advance(now, self._draw(self._applied).power_w)

    def read(self) -> float:
        """The register in Wh, integrated up to now."""
        self._advance()
        return self.meter.register_wh

    def read_wh(self) -> int:
        return int(self.read())

    def bump_to(self, register_wh: float) -> None:
        """Move the register forward to an externally given reading (never back)."""
        self._advance()
        self.meter.bump_to(register_wh)

    # --------------------------------------------------------------- session

    @property
    def charging(self) -> bool:
        return self._charging

    def start(self, start_soc: float = 20.0) -> None:
        """The car starts charging, at the limit already in force."""
        self._advance()
        if self._pending:
            self._applied = self._pending[-1][1]
            self._pending.clear()
        self._charging = True
        self._session_start_wh = self.meter.register_wh
        self._start_soc = start_soc

    def stop(self) -> None:
        self._advance()
        self._charging = False

    @property
    def soc(self) -> float:
        """A plausible state of charge for the running session."""
        added = self.read() - self._session_start_wh
        return min(100.0, self._start_soc + 100.0 * added / self.car.battery_wh)

    def readings(self) -> list[Reading]:
        """Register, power, current on each phase used and (while charging) SoC."""
        energy = self.read()
        draw = self._draw(self._applied)
        soc = self.soc if self._charging else None
        return readings(energy, draw.power_w, draw.current_a, draw.phases, soc)
