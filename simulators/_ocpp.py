"""Typed facade over the untyped ``ocpp`` library.

The library ships no ``py.typed`` marker, so everything imported from it is
``Any`` (pyproject lets mypy ignore the missing stubs). Keeping all imports
here gives the rest of the package precise types for the parts it uses.

The version-neutral simulator layers are mixins typed as the library's
``ChargePoint`` (``OcppPeer``); the concrete ``ocpp.v16``/``ocpp.v201`` class
comes after them in each version's MRO and supplies the call/result modules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import ocpp.v16
import ocpp.v201
from ocpp.charge_point import remove_nones as _remove_nones
from ocpp.charge_point import serialize_as_dict as _serialize_as_dict
from ocpp.charge_point import snake_to_camel_case as _snake_to_camel_case
from ocpp.exceptions import OCPPError as _OCPPError
from ocpp.routing import on as _on
from ocpp.v16 import call as _call
from ocpp.v16 import call_result as _call_result
from ocpp.v16 import enums as _enums
from ocpp.v201 import call as _call201
from ocpp.v201 import call_result as _call_result201

F = TypeVar("F", bound=Callable[..., Any])

OCPPError: type[Exception] = _OCPPError
# OCPP 1.6 (the names predate 2.0.1 support and stay for the 1.6 modules).
call: Any = _call
call_result: Any = _call_result
enums: Any = _enums
# OCPP 2.0.1.
call201: Any = _call201
call_result201: Any = _call_result201


def on(action: str) -> Callable[[F], F]:
    """Typed wrapper of ``ocpp.routing.on`` (keeps handler signatures)."""
    return cast("Callable[[F], F]", _on(action))


def to_wire(result: Any) -> dict[str, Any]:
    """A call result dataclass as the camelCase dict the server sent.

    The library hands results back as snake_case dataclasses; converting with
    its own helpers is the exact inverse of what it did on receipt.
    """
    if result is None:
        return {}
    return cast("dict[str, Any]", _snake_to_camel_case(_remove_nones(_serialize_as_dict(result))))


if TYPE_CHECKING:

    class OcppPeer:
        """The subset of ``ocpp.charge_point.ChargePoint`` this package relies on."""

        id: str
        _connection: Any
        _response_queue: asyncio.Queue[Any]

        def __init__(
            self,
            id: str,
            connection: Any,
            response_timeout: float = 30,
            logger: logging.Logger = ...,
        ) -> None: ...

        async def call(
            self,
            payload: Any,
            suppress: bool = True,
            unique_id: str | None = None,
            skip_schema_validation: bool = False,
        ) -> Any: ...

        async def route_message(self, raw_msg: str) -> None: ...

        async def _handle_call(self, msg: Any) -> Any: ...

    class ChargePoint16Base(OcppPeer):
        """``ocpp.v16.ChargePoint``."""

    class ChargePoint201Base(OcppPeer):
        """``ocpp.v201.ChargePoint``."""

else:
    # At run time the mixins derive from object so that the version class
    # listed after them supplies the real ChargePoint in the MRO.
    OcppPeer = object
    ChargePoint16Base = ocpp.v16.ChargePoint
    ChargePoint201Base = ocpp.v201.ChargePoint
