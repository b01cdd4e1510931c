"""Commands for a charger held by another node (ADR 013).

The command service runs where the API call arrived: it records the command, translates it for
the charger's version and follows up on the answer, exactly as for a local charger. Only the
call itself crosses: ``RoutedLink.send`` asks the holding node over NATS request/reply
(``<prefix>.nodes.<id>.call``), and that node's ``CallServer`` sends it over its live connection
and answers with the charger's answer or what went wrong. So the API node's audit record, status
codes and events are those of a local command.

No node answers (it died): 409 ``charger_offline``. No answer in time: 504 ``charger_timeout``.
NATS away: 503 ``cluster_unavailable``, at once.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import orjson
from nats.aio.msg import Msg

from csms.cluster.link import ClusterLink, ClusterUnreachable, NoResponders, RequestTimedOut
from csms.domain import commands as cmd
from csms.domain.commands import CommandContext, OcppCall
from csms.domain.errors import (
    ChargerRejectedCall,
    ChargerTimeout,
    ChargerUnavailable,
    ClusterUnavailable,
)
from csms.log import get_logger
from csms.ocpp.dispatch import CommandDispatcher
from csms.ocpp.sessions import SessionRegistry
from csms.services.commands import LinkedCharger
from csms.store.cluster_repositories import ClusterStore, Holding

__all__ = ["CallServer", "RoutedLink"]

log = get_logger(__name__)

# Beyond the charger's own timeout, for the two hops over NATS.
_MARGIN_S = 1.0
# How long the node a command looked up is trusted for its call (then read again).
_RECENT_S = 5.0


class RoutedLink:
    """The command service's link to chargers in a cluster: this node's connections directly,
    the others through the node that holds them."""

    def __init__(
        self,
        local: CommandDispatcher,
        link: ClusterLink,
        holders: ClusterStore,
    ) -> None:
        self._local = local
        self._link = link
        self._holders = holders
        # Which node held a charger when a command looked it up, for that command's call.
        self._recent: dict[str, tuple[str, float]] = {}

    async def connection(self, cp_id: str) -> LinkedCharger:
        try:
            return await self._local.connection(cp_id)
        except ChargerUnavailable:
            pass
        holding = await self._holding(cp_id)
        if holding.ocpp_version is None:
            raise ChargerUnavailable(f"{cp_id} is not connected")
        # The command's call follows at once: it goes to this node without reading again.
        self._recent[cp_id.lower()] = (holding.node_id, time.monotonic())
        return LinkedCharger(holding.charge_point_id, holding.ocpp_version, holding.boot_accepted)

    async def send(self, cp_id: str, call: OcppCall, timeout: float) -> dict[str, Any]:
        if self._local.session(cp_id) is not None:
            return await self._local.send(cp_id, call, timeout)
        node_id, fresh = await self._node(cp_id)
        body = {"chargePointId": cp_id, "action": call.action, "payload": call.payload}
        answer = await self._ask(node_id, "call", body, timeout)
        if _offline(answer) and not fresh:
            # It moved since it was looked up: once more, to where it is now.
            node_id, _ = await self._node(cp_id, fresh=True)
            answer = await self._ask(node_id, "call", body, timeout)
        response = answer.get("response")
        if not isinstance(response, dict):
            raise _failure(cp_id, answer)
        return response

    async def disconnect(self, cp_id: str, reason: str) -> None:
        await self._close(cp_id, 1000, reason)

    async def end_session(self, cp_id: str, reason: str) -> None:
        """ChargerService.end_session across nodes: the rules the charger was admitted under
        changed (1008), wherever it is connected; nothing when it is not."""
        with contextlib.suppress(ChargerUnavailable):
            await self._close(cp_id, 1008, reason)

    async def _close(self, cp_id: str, code: int, reason: str) -> None:
        session = self._local.session(cp_id)
        if session is not None:
            await session.close(code, reason)
            return
        node_id = await self._holder(cp_id)
        body = {"chargePointId": cp_id, "code": code, "reason": reason}
        answer = await self._ask(node_id, "disconnect", body, 5.0)
        if answer.get("error") is not None:
            raise _failure(cp_id, answer)

    # The rest is the charger's version's business, the same on every node.

    def translate(self, version: str, command: cmd.Command, ctx: CommandContext) -> OcppCall:
        return self._local.translate(version, command, ctx)

    def allowed_before_acceptance(self, version: str, call: OcppCall) -> bool:
        return self._local.allowed_before_acceptance(version, call)

    def status_of(self, version: str, action: str, response: dict[str, Any]) -> str | None:
        return self._local.status_of(version, action, response)

    def new_password(self, version: str, call: OcppCall, response: dict[str, Any]) -> bytes | None:
        return self._local.new_password(version, call, response)

    def redact(self, call: OcppCall) -> dict[str, Any]:
        return self._local.redact(call)

    async def _holding(self, cp_id: str) -> Holding:
        holding = (await self._holders.holdings([cp_id])).get(cp_id.lower())
        if holding is None or holding.node_id == self._link.node_id:
            raise ChargerUnavailable(f"{cp_id} is not connected")
        return holding

    async def _holder(self, cp_id: str) -> str:
        return (await self._holding(cp_id)).node_id

    async def _node(self, cp_id: str, *, fresh: bool = False) -> tuple[str, bool]:
        """The node holding the charger: the one ``connection`` just read, else read now; and
        whether it was read now."""
        recent = self._recent.pop(cp_id.lower(), None)
        if not fresh and recent is not None and time.monotonic() - recent[1] < _RECENT_S:
            return recent[0], False
        return await self._holder(cp_id), True

    async def _ask(
        self, node_id: str, verb: str, body: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        subject = self._link.subject("nodes", node_id, verb)
        try:
            reply = await self._link.request(
                subject, orjson.dumps({**body, "timeout": timeout}), timeout + _MARGIN_S
            )
        except ClusterUnreachable as exc:
            raise ClusterUnavailable(
                f"the node holding {body['chargePointId']} cannot be reached: NATS is unreachable"
            ) from exc
        except NoResponders as exc:
            raise ChargerUnavailable(
                f"{body['chargePointId']} is not connected (its node {node_id} is gone)"
            ) from exc
        except RequestTimedOut as exc:
            raise ChargerTimeout(
                f"{body['chargePointId']} did not answer within {timeout} s (via {node_id})"
            ) from exc
        answer: dict[str, Any] = orjson.loads(reply)
        return answer


def _offline(answer: dict[str, Any]) -> bool:
    error = answer.get("error")
    return isinstance(error, dict) and error.get("kind") == "charger_offline"


def _failure(cp_id: str, answer: dict[str, Any]) -> Exception:
    error = answer.get("error") or {}
    kind, message = error.get("kind"), str(error.get("message") or "")
    if kind == "charger_error":
        return ChargerRejectedCall(
            str(error.get("code")), str(error.get("description")), error.get("details") or {}
        )
    if kind == "charger_timeout":
        return ChargerTimeout(message)
    if kind == "charger_offline":
        return ChargerUnavailable(message)
    return RuntimeError(f"the node holding {cp_id} failed: {message}")


class CallServer:
    """Answers the other nodes' calls for the chargers this node holds."""

    def __init__(self, link: ClusterLink, sessions: SessionRegistry) -> None:
        self._link = link
        self._sessions = sessions

    async def serve(self) -> None:
        node = self._link.node_id
        await self._link.subscribe(self._link.subject("nodes", node, "call"), self._call)
        await self._link.subscribe(
            self._link.subject("nodes", node, "disconnect"), self._disconnect
        )

    async def _call(self, msg: Msg) -> None:
        try:
            body = orjson.loads(msg.data)
            cp_id, action = str(body["chargePointId"]), str(body["action"])
            payload, timeout = dict(body["payload"]), float(body["timeout"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            await _reply(msg, {"error": {"kind": "invalid", "message": "unreadable request"}})
            return
        try:
            response = await self._sessions.call(cp_id, action, payload, timeout)
        except ChargerRejectedCall as exc:
            error = {
                "kind": "charger_error",
                "code": exc.code,
                "description": exc.description,
                "details": exc.details,
            }
            await _reply(msg, {"error": error})
        except ChargerTimeout as exc:
            await _reply(msg, {"error": {"kind": "charger_timeout", "message": str(exc)}})
        except ChargerUnavailable as exc:
            await _reply(msg, {"error": {"kind": "charger_offline", "message": str(exc)}})
        except Exception as exc:
            log.exception("call for another node failed", charge_point_id=cp_id, action=action)
            await _reply(msg, {"error": {"kind": "internal", "message": type(exc).__name__}})
        else:
            await _reply(msg, {"response": response})

    async def _disconnect(self, msg: Msg) -> None:
        try:
            body = orjson.loads(msg.data)
            cp_id, reason = str(body["chargePointId"]), str(body["reason"])
            code = int(body.get("code", 1000))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            await _reply(msg, {"error": {"kind": "invalid", "message": "unreadable request"}})
            return
        session = self._sessions.get(cp_id)
        if session is None or session.closed:
            message = f"{cp_id} is not connected"
            await _reply(msg, {"error": {"kind": "charger_offline", "message": message}})
            return
        await session.close(code, reason)
        await _reply(msg, {})


async def _reply(msg: Msg, body: dict[str, Any]) -> None:
    try:
        await msg.respond(orjson.dumps(body))
    except Exception as exc:  # the asking node gets its timeout
        log.info("answer to another node not sent", error=repr(exc))
