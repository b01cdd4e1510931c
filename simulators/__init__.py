"""OCPP charger simulators used to exercise the CSMS (``python -m simulators``)."""

from simulators.errors import (
    ConnectionLostError,
    NotConnectedError,
    SimulatorError,
    UnresolvedTransactionError,
)
from simulators.v16 import ChargePoint16Simulator

__all__ = [
    "ChargePoint16Simulator",
    "ConnectionLostError",
    "NotConnectedError",
    "SimulatorError",
    "UnresolvedTransactionError",
]
