"""Typed facade over the untyped ``ocpp`` library.

The library ships no ``py.typed`` marker, so everything imported from it is
``Any`` (pyproject lets mypy ignore the missing stubs). Keeping all imports
here gives the rest of the package precise types for the parts it uses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import ocpp.v16
from ocpp.exceptions import OCPPError as _OCPPError
from ocpp.routing import on as _on
from ocpp.v16 import call as _call
from ocpp.v16 import call_result as _call_result
from ocpp.v16 import enums as _enums

F = TypeVar("F", bound=Callable[..., Any])

OCPPError: type[Exception] = _OCPPError
call: Any = _call
call_result: Any = _call_result
enums: Any = _enums


def on(action: str) -> Callable[[F], F]:
    """Typed wrapper of ``ocpp.routing.on`` (keeps handler signatures)."""
    return cast("Callable[[F], F]", _on(action))


if TYPE_CHECKING:

    class ChargePointBase:
        """The subset of ``ocpp.v16.ChargePoint`` this package relies on."""

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

else:
    ChargePointBase = ocpp.v16.ChargePoint
