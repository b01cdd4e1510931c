"""The OCPP versions this central system speaks, and what each needs to serve a connection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from csms.ocpp.connection import Handler
from csms.ocpp.schemas import SchemaSet

__all__ = ["SUBPROTOCOLS", "ProtocolSupport"]

# Websocket subprotocol token → the version as the rest of the system names it.
SUBPROTOCOLS: Mapping[str, str] = {"ocpp2.0.1": "2.0.1", "ocpp1.6": "1.6"}


@dataclass(frozen=True, slots=True)
class ProtocolSupport:
    version: str
    schemas: SchemaSet
    handlers: Mapping[str, Handler]
    allowed_before_boot: frozenset[str]
