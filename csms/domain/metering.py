"""Reading energy registers out of meter samples."""

from __future__ import annotations

from collections.abc import Iterable

from csms.domain.models import MeterSample

__all__ = ["ENERGY_REGISTER", "energy_register_wh"]

ENERGY_REGISTER = "Energy.Active.Import.Register"

_TO_WH = {"Wh": 1.0, "kWh": 1000.0}


def energy_register_wh(samples: Iterable[MeterSample]) -> float | None:
    """The total (all-phase) imported-energy register in Wh, or None when no sample has it.

    Per-phase readings are skipped: the register that bills is the total one.
    """
    for sample in samples:
        if sample.measurand != ENERGY_REGISTER or sample.phase is not None:
            continue
        factor = _TO_WH.get(sample.unit)
        if factor is None:
            continue
        try:
            return float(sample.value) * factor
        except ValueError:
            continue
    return None
