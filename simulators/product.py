"""What the simulated chargers say they are: their BootNotification vendor and model.

One place for both OCPP versions, so that ``make demo`` can put matching entries in the central
system's model catalogue (a charger whose vendor and model match a live catalogue entry is linked
to it at boot). 1.6 charge points and 2.0.1 stations are different models of the same vendor.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["MODELS", "MODEL_16", "MODEL_201", "VENDOR"]

VENDOR = "CSMS-Sim"
MODEL_16 = "Sim-16"  # chargePointModel of the OCPP 1.6 charge points
MODEL_201 = "Sim-201"  # chargingStation.model of the OCPP 2.0.1 stations
# The model each OCPP version reports, by version ("1.6", "2.0.1").
MODELS: Mapping[str, str] = MappingProxyType({"1.6": MODEL_16, "2.0.1": MODEL_201})
