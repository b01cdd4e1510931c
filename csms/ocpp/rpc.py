"""OCPP-J framing: message types, CALLERROR codes per version, and frame (de)serialisation."""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Any

import orjson

__all__ = [
    "CloseAfterError",
    "ErrorKind",
    "MessageType",
    "OcppCallError",
    "call_error_frame",
    "call_frame",
    "call_result_frame",
    "error_code",
]


class MessageType(IntEnum):
    CALL = 2
    CALL_RESULT = 3
    CALL_ERROR = 4


class ErrorKind(Enum):
    """What went wrong, independent of how a version spells it."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMAT_VIOLATION = "FormatViolation"
    PROPERTY_CONSTRAINT = "PropertyConstraintViolation"
    OCCURRENCE_CONSTRAINT = "OccurrenceConstraintViolation"
    TYPE_CONSTRAINT = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"


# OCPP-J 1.6 table 7 keeps two misspellings on purpose (errata 5.1/5.2: "do not fix"), and has no
# RpcFrameworkError or MessageTypeNotSupported: those fall back to the nearest 1.6 code.
_V16_CODES = {
    ErrorKind.FORMAT_VIOLATION: "FormationViolation",
    ErrorKind.OCCURRENCE_CONSTRAINT: "OccurenceConstraintViolation",
    ErrorKind.RPC_FRAMEWORK_ERROR: "FormationViolation",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "FormationViolation",
}


def error_code(kind: ErrorKind, version: str) -> str:
    if version == "1.6":
        return _V16_CODES.get(kind, kind.value)
    return kind.value


class OcppCallError(Exception):
    """Answer the CALL being handled with this CALLERROR (or: the peer answered with one)."""

    def __init__(
        self, kind: ErrorKind | str, description: str = "", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description or (kind.value if isinstance(kind, ErrorKind) else kind))
        self.kind = kind
        self.description = description
        self.details = details or {}

    def code(self, version: str) -> str:
        return error_code(self.kind, version) if isinstance(self.kind, ErrorKind) else self.kind


class CloseAfterError(OcppCallError):
    """Answer the CALL with this CALLERROR, then close the connection (1008, policy violation):
    the charger may not stay connected (e.g. OCPP 2.0.1 B01.FR.12)."""

    def __init__(self, kind: ErrorKind, description: str, close_reason: str) -> None:
        super().__init__(kind, description)
        self.close_reason = close_reason  # at most 123 bytes (RFC 6455 §5.5)


def call_frame(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([MessageType.CALL, unique_id, action, payload]).decode()


def call_result_frame(unique_id: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([MessageType.CALL_RESULT, unique_id, payload]).decode()


def call_error_frame(
    unique_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    # errorDescription is limited to 255 characters in 2.0.1; errorDetails must be an object.
    return orjson.dumps(
        [MessageType.CALL_ERROR, unique_id, code, description[:255], details or {}]
    ).decode()
