"""Domain errors, shared by the services, the store and the API."""

from __future__ import annotations

__all__ = [
    "ChargerRejectedCall",
    "ChargerTimeout",
    "ChargerUnavailable",
    "Conflict",
    "DomainError",
    "NotFound",
]


class DomainError(Exception):
    """Base of the errors the operator API turns into 4xx answers."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


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
