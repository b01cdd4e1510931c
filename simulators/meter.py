"""Energy model of one connector and the sample formats of both OCPP versions.

The register is a float in Wh that only ever grows: it integrates the
effective power over (monotonic) time, and survives across sessions like a
real MID meter. Power is capped by the active charging-profile limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NOMINAL_VOLTAGE = 230.0


class EnergyMeter:
    def __init__(
        self,
        max_power_w: float = 11000.0,
        register_wh: float = 0.0,
        phases: int = 3,
        voltage: float = NOMINAL_VOLTAGE,
        battery_wh: float = 60000.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_power_w = max_power_w
        self.phases = phases
        self.voltage = voltage
        self.battery_wh = battery_wh
        self._register_wh = register_wh
        self._clock = clock
        self._last = clock()
        self._charging = False
        self._limit_w: float | None = None
        self._session_start_wh = register_wh
        self._start_soc = 20.0

    @property
    def charging(self) -> bool:
        return self._charging

    @property
    def limit_w(self) -> float | None:
        return self._limit_w

    @property
    def power_w(self) -> float:
        if not self._charging:
            return 0.0
        if self._limit_w is None:
            return self.max_power_w
        return max(0.0, min(self.max_power_w, self._limit_w))

    @property
    def current_a(self) -> float:
        """Per-phase current for the present power."""
        return self.power_w / (self.voltage * self.phases)

    @property
    def soc(self) -> float:
        """A plausible EV state of charge for the running session."""
        added = self._register_wh - self._session_start_wh
        return min(100.0, self._start_soc + 100.0 * added / self.battery_wh)

    def read(self) -> float:
        """Integrate up to now and return the register in Wh."""
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self._register_wh += self.power_w * elapsed / 3600.0
        self._last = now
        return self._register_wh

    def read_wh(self) -> int:
        return int(self.read())

    def start(self, start_soc: float = 20.0) -> None:
        self.read()
        self._charging = True
        self._session_start_wh = self._register_wh
        self._start_soc = start_soc

    def stop(self) -> None:
        self.read()
        self._charging = False

    def set_limit_w(self, limit_w: float | None) -> None:
        # Integrate first so energy before the change uses the old power.
        self.read()
        self._limit_w = limit_w

    def bump_to(self, register_wh: float) -> None:
        """Move the register forward to an externally given reading (never back)."""
        self.read()
        self._register_wh = max(self._register_wh, register_wh)


@dataclass(frozen=True)
class Reading:
    """One measured quantity, before it is put in a version's wire format."""

    measurand: str
    unit: str
    value: float
    phase: str | None = None
    location: str = "Outlet"
    decimals: int = 0


def readings(
    energy_wh: float,
    power_w: float | None = None,
    current_a: float | None = None,
    phases: int = 3,
    soc: float | None = None,
) -> list[Reading]:
    """What a sample reports: the register, then power, per-phase current, SoC."""
    values = [Reading("Energy.Active.Import.Register", "Wh", energy_wh)]
    if power_w is not None:
        values.append(Reading("Power.Active.Import", "W", power_w))
    if current_a is not None:
        for n in range(1, phases + 1):
            values.append(Reading("Current.Import", "A", current_a, phase=f"L{n}", decimals=1))
    if soc is not None:
        values.append(Reading("SoC", "Percent", soc, location="EV"))
    return values


def sampled_value(
    value: float,
    measurand: str,
    unit: str,
    context: str,
    *,
    phase: str | None = None,
    location: str = "Outlet",
    decimals: int = 0,
) -> dict[str, Any]:
    """A 1.6 ``sampledValue``: the value is a string, the unit a plain field."""
    item: dict[str, Any] = {
        "value": f"{value:.{decimals}f}",
        "context": context,
        "format": "Raw",
        "measurand": measurand,
        "location": location,
        "unit": unit,
    }
    if phase is not None:
        item["phase"] = phase
    return item


def build_meter_value(
    timestamp: str,
    context: str,
    energy_wh: float,
    power_w: float | None = None,
    current_a: float | None = None,
    phases: int = 3,
    soc: float | None = None,
) -> dict[str, Any]:
    """One 1.6 ``meterValue`` entry (camelCase, as it goes on the wire)."""
    values = [
        sampled_value(
            r.value,
            r.measurand,
            r.unit,
            context,
            phase=r.phase,
            location=r.location,
            decimals=r.decimals,
        )
        for r in readings(energy_wh, power_w, current_a, phases, soc)
    ]
    return {"timestamp": timestamp, "sampledValue": values}


def sampled_value_201(reading: Reading, context: str) -> dict[str, Any]:
    """A 2.0.1 ``sampledValue``: a number, the unit inside ``unitOfMeasure``."""
    item: dict[str, Any] = {
        "value": round(reading.value, reading.decimals),
        "context": context,
        "measurand": reading.measurand,
        "location": reading.location,
        "unitOfMeasure": {"unit": reading.unit},
    }
    if reading.phase is not None:
        item["phase"] = reading.phase
    return item


def build_meter_value_201(
    timestamp: str,
    context: str,
    energy_wh: float,
    power_w: float | None = None,
    current_a: float | None = None,
    phases: int = 3,
    soc: float | None = None,
) -> dict[str, Any]:
    """One 2.0.1 ``meterValue`` entry (camelCase, as it goes on the wire)."""
    values = [
        sampled_value_201(r, context) for r in readings(energy_wh, power_w, current_a, phases, soc)
    ]
    return {"timestamp": timestamp, "sampledValue": values}
