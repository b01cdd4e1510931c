"""OCPP charger simulators used to exercise the CSMS (``python -m simulators``)."""

from simulators.errors import (
    ConnectionLostError,
    NotConnectedError,
    SimulatorError,
    UnresolvedTransactionError,
)
from simulators.v16 import ChargePoint16Simulator
from simulators.v201 import ChargePoint201Simulator

__all__ = [
    "ChargePoint16Simulator",
    "ChargePoint201Simulator",
    "ConnectionLostError",
    "NotConnectedError",
    "SimulatorError",
    "UnresolvedTransactionError",
]
