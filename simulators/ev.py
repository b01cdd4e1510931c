"""The car plugged into a simulated outlet: how much current it takes, on how many phases."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIN_CURRENT_A", "Car"]

# IEC 61851-1: a car does not charge below 6 A per phase (the PWM duty cycle floor).
MIN_CURRENT_A = 6.0


@dataclass(frozen=True)
class Car:
    """A car's own limits: A per phase and the phases its on-board charger uses (1 or 3)."""

    max_current: float = 32.0
    phases: int = 3
    battery_wh: float = 60000.0

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise ValueError(f"a car charges on 1 or 3 phases, not {self.phases}")
        if self.max_current < MIN_CURRENT_A:
            raise ValueError(f"a car's maximum current is at least {MIN_CURRENT_A} A")
