"""Domain errors, shared by the services, the store and the API."""

from __future__ import annotations

__all__ = [
    "Ambiguous",
    "ChargerRejectedCall",
    "ChargerTimeout",
    "ChargerUnavailable",
    "Conflict",
    "DatabaseUnavailable",
    "DomainError",
    "Invalid",
    "NotFound",
]


class DomainError(Exception):
    """Base of the errors the operator API turns into 4xx answers."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """Something already exists or is still in use; ``field`` names the request field at
    fault when there is one (the API puts it in the error's details)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Invalid(DomainError):
    """A request that is well-formed but names something that cannot be (an unknown parent, a
    cycle, a duplicate): the API answers 422 ``validation_error`` naming ``field``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Ambiguous(Conflict):
    """A reference that names more than one thing (a transactionId two chargers share)."""

    def __init__(self, message: str, *, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


class ChargerUnavailable(DomainError):
    """The charger is not connected, or its connection closed before it answered."""


class ChargerTimeout(DomainError):
    """The charger did not answer within the command timeout."""


class ChargerRejectedCall(DomainError):
    """The charger answered a call with a CALLERROR (or an answer that breaks the schema)."""

    def __init__(self, code: str, description: str, details: dict[str, object] | None = None):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details or {}


class ClusterUnavailable(DomainError):
    """The node that holds the charger cannot be reached: NATS is away (a cluster, ADR 013)."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached (or stopped answering): nothing was written.

    Not a DomainError: it is no fault of the request. A charger's CALL gets an InternalError
    CALLERROR (never a false acknowledgement), the API a 503 ``database_unavailable``.
    """
