"""The energy register of one outlet and the sample formats of both OCPP versions.

The register is a float in Wh that only ever grows: it integrates the power it is
told over (monotonic) time, and survives across sessions like a real MID meter.
What the power is (car, limit, delay) is ``outlet.Outlet``'s business.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NOMINAL_VOLTAGE = 230.0
PHASE_NAMES = ("L1", "L2", "L3")


class EnergyMeter:
    def __init__(
        self, register_wh: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._register_wh = register_wh
        self.clock = clock
        self._last = clock()

    @property
    def register_wh(self) -> float:
        return self._register_wh

    def advance(self, until: float, power_w: float) -> None:
        """Add ``power_w`` drawn from the last reading up to monotonic time ``until``."""
        elapsed = max(0.0, until - self._last)
        self._register_wh += power_w * elapsed / 3600.0
        self._last = max(self._last, until)

    def bump_to(self, register_wh: float) -> None:
        """Move the register forward to an externally given reading (never back)."""
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
        # Only the phases the car uses; a single-phase car loads L1.
        for name in PHASE_NAMES[: max(1, min(3, phases))]:
            values.append(Reading("Current.Import", "A", current_a, phase=name, decimals=1))
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


def meter_value_16(timestamp: str, context: str, values: list[Reading]) -> dict[str, Any]:
    """One 1.6 ``meterValue`` entry of ``values`` (camelCase, as it goes on the wire)."""
    sampled = [
        sampled_value(
            r.value,
            r.measurand,
            r.unit,
            context,
            phase=r.phase,
            location=r.location,
            decimals=r.decimals,
        )
        for r in values
    ]
    return {"timestamp": timestamp, "sampledValue": sampled}


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
    return meter_value_16(timestamp, context, readings(energy_wh, power_w, current_a, phases, soc))


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


def meter_value_201(timestamp: str, context: str, values: list[Reading]) -> dict[str, Any]:
    """One 2.0.1 ``meterValue`` entry of ``values`` (camelCase, as it goes on the wire)."""
    return {"timestamp": timestamp, "sampledValue": [sampled_value_201(r, context) for r in values]}


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
    return meter_value_201(timestamp, context, readings(energy_wh, power_w, current_a, phases, soc))
