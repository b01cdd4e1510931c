"""Exceptions raised by the simulator API (CALLERRORs use the ocpp ones)."""


class SimulatorError(Exception):
    """Base class of the simulator's own errors."""


class NotConnectedError(SimulatorError):
    """A call was attempted while no WebSocket connection is open."""


class ConnectionLostError(SimulatorError):
    """The connection dropped before the server answered the call."""


class UnresolvedTransactionError(SimulatorError):
    """A queued message refers to a StartTransaction the server never accepted."""


# Failures that say "the server could not be reached", not "it said no".
TRANSIENT_ERRORS = (NotConnectedError, ConnectionLostError, TimeoutError)
