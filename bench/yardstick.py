"""The yardstick: a minimal central system written the way the ``ocpp`` library documents it.

``ocpp.v16.ChargePoint`` / ``ocpp.v201.ChargePoint`` subclasses with ``@on`` handlers, served by
``websockets`` with the OCPP subprotocols, everything in memory and nothing persisted (the
library's README / docs "central system" example, extended to the messages the benchmark sends).
Two deliberate departures, both in its favour or neutral: the ``ocpp`` logger is at WARNING (the
docs' INFO would log every frame), and the keepalive ping interval is passed in so both servers
ping alike.

    python -m bench.yardstick --port 9000 [--ping-interval 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import resource
import signal
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v16.enums import AuthorizationStatus, RegistrationStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from ocpp.v201.enums import AuthorizationStatusEnumType, RegistrationStatusEnumType

__all__ = ["main"]

logging.basicConfig(level=logging.WARNING)

_transaction_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class CentralSystem16(ChargePoint16):  # type: ignore[misc]
    @on(Action16.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **kwargs: Any
    ) -> Any:
        return result16.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action16.heartbeat)  # type: ignore[untyped-decorator]
    def on_heartbeat(self) -> Any:
        return result16.Heartbeat(current_time=_now())

    @on(Action16.status_notification)  # type: ignore[untyped-decorator]
    def on_status_notification(self, **kwargs: Any) -> Any:
        return result16.StatusNotification()

    @on(Action16.meter_values)  # type: ignore[untyped-decorator]
    def on_meter_values(self, connector_id: int, meter_value: list[Any], **kwargs: Any) -> Any:
        return result16.MeterValues()

    @on(Action16.authorize)  # type: ignore[untyped-decorator]
    def on_authorize(self, id_tag: str) -> Any:
        return result16.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action16.start_transaction)  # type: ignore[untyped-decorator]
    def on_start_transaction(self, connector_id: int, id_tag: str, **kwargs: Any) -> Any:
        return result16.StartTransaction(
            transaction_id=next(_transaction_ids),
            id_tag_info={"status": AuthorizationStatus.accepted},
        )

    @on(Action16.stop_transaction)  # type: ignore[untyped-decorator]
    def on_stop_transaction(self, transaction_id: int, **kwargs: Any) -> Any:
        return result16.StopTransaction()


class CentralSystem201(ChargePoint201):  # type: ignore[misc]
    @on(Action201.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str) -> Any:
        return result201.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatusEnumType.accepted
        )

    @on(Action201.heartbeat)  # type: ignore[untyped-decorator]
    def on_heartbeat(self) -> Any:
        return result201.Heartbeat(current_time=_now())

    @on(Action201.status_notification)  # type: ignore[untyped-decorator]
    def on_status_notification(self, **kwargs: Any) -> Any:
        return result201.StatusNotification()

    @on(Action201.meter_values)  # type: ignore[untyped-decorator]
    def on_meter_values(self, evse_id: int, meter_value: list[Any], **kwargs: Any) -> Any:
        return result201.MeterValues()

    @on(Action201.authorize)  # type: ignore[untyped-decorator]
    def on_authorize(self, id_token: dict[str, Any], **kwargs: Any) -> Any:
        return result201.Authorize(id_token_info={"status": AuthorizationStatusEnumType.accepted})

    @on(Action201.transaction_event)  # type: ignore[untyped-decorator]
    def on_transaction_event(self, **kwargs: Any) -> Any:
        if "id_token" in kwargs:
            return result201.TransactionEvent(
                id_token_info={"status": AuthorizationStatusEnumType.accepted}
            )
        return result201.TransactionEvent()


async def on_connect(websocket: Any) -> None:
    """As in the docs: check the negotiated subprotocol, then run a ChargePoint on the socket."""
    try:
        requested = websocket.request.headers["Sec-WebSocket-Protocol"]
    except KeyError:
        await websocket.close()
        return
    if websocket.subprotocol is None:
        logging.warning("protocols mismatched: client wants %s", requested)
        await websocket.close()
        return
    charge_point_id = websocket.request.path.strip("/").rsplit("/", 1)[-1]
    cls = CentralSystem16 if websocket.subprotocol == "ocpp1.6" else CentralSystem201
    charge_point = cls(charge_point_id, websocket)
    with contextlib.suppress(websockets.exceptions.ConnectionClosed):
        await charge_point.start()


async def serve(host: str, port: int, ping_interval: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with websockets.serve(
        on_connect,
        host,
        port,
        subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
        ping_interval=ping_interval,
    ):
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="minimal ocpp-library central system")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--ping-interval", type=float, default=20.0, help="0 disables")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    asyncio.run(serve(args.host, args.port, args.ping_interval or None))


if __name__ == "__main__":
    main()
