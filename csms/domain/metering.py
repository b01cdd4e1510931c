"""Reading energy registers out of meter samples; the window a meter-value query may span."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from csms.domain.errors import Invalid
from csms.domain.models import MeterSample

__all__ = ["ENERGY_REGISTER", "MAX_SAMPLE_WINDOW", "check_sample_window", "energy_register_wh"]

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


MAX_SAMPLE_WINDOW = timedelta(days=31)
"""The longest ``[start, end)`` a meter-value query may span. A page costs the samples it skips
as well as those it returns (a filter on evseId or measurand is checked row by row within the
window), so a bounded window bounds the cost of the most selective filter."""


def check_sample_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Invalid("end", "end must be after start")
    if end - start > MAX_SAMPLE_WINDOW:
        raise Invalid("end", f"the window may span at most {MAX_SAMPLE_WINDOW.days} days")
