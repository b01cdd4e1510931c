"""The one map from version-neutral operator commands to each version's OCPP call, and the link
the command service uses to reach a connected charger.

Every command type is either in a version's table or refused with CommandNotSupported; a unit test
keeps the tables exhaustive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from csms.domain import commands as cmd
from csms.domain.commands import CommandContext, CommandInvalid, CommandNotSupported, OcppCall
from csms.domain.errors import ChargerUnavailable
from csms.ocpp.calls import Translation
from csms.ocpp.connection import OcppConnection
from csms.ocpp.credentials import new_password, redact
from csms.ocpp.rpc import OcppCallError
from csms.ocpp.schemas import V16_SCHEMAS, V201_SCHEMAS, SchemaSet
from csms.ocpp.sessions import SessionRegistry
from csms.ocpp.v16 import commands as v16_commands
from csms.ocpp.v201 import commands as v201_commands
from csms.services.commands import LinkedCharger

__all__ = ["ALLOWED_BEFORE_ACCEPTANCE", "TRANSLATIONS", "CommandDispatcher"]

TRANSLATIONS: Mapping[str, Mapping[type[cmd.Command], Translation]] = {
    "1.6": v16_commands.TRANSLATIONS,
    "2.0.1": v201_commands.TRANSLATIONS,
}

_SCHEMAS: Mapping[str, SchemaSet] = {"1.6": V16_SCHEMAS, "2.0.1": V201_SCHEMAS}

# What a central system may send a charger whose boot is not (yet) accepted: 1.6 §4.2 lets it
# read and change configuration while Pending; 2.0.1 B02.FR.01/B03.FR.08 add reports and the
# trigger of a new BootNotification.
ALLOWED_BEFORE_ACCEPTANCE: Mapping[str, frozenset[str]] = {
    "1.6": frozenset({"GetConfiguration", "ChangeConfiguration", "TriggerMessage"}),
    "2.0.1": frozenset(
        {"GetVariables", "SetVariables", "GetBaseReport", "GetReport", "TriggerMessage"}
    ),
}


class CommandDispatcher:
    """Commands → calls for the charger's version, sent over its live connection."""

    def __init__(self, sessions: SessionRegistry) -> None:
        self._sessions = sessions

    def session(self, cp_id: str) -> OcppConnection | None:
        """The charger's live connection on this node, if it has one here."""
        session = self._sessions.get(cp_id)
        return None if session is None or session.closed else session

    async def connection(self, cp_id: str) -> LinkedCharger:
        session = self._sessions.get(cp_id)
        if session is None or session.closed:
            raise ChargerUnavailable(f"{cp_id} is not connected")
        return LinkedCharger(session.charge_point_id, session.ocpp_version, session.boot_accepted)

    def translate(self, version: str, command: cmd.Command, ctx: CommandContext) -> OcppCall:
        if isinstance(command, cmd.RawCall):
            return self._raw(version, command)
        translation = TRANSLATIONS[version].get(type(command))
        if translation is None:
            raise CommandNotSupported(f"OCPP {version} has no {type(command).__name__} command")
        call = translation(command, ctx)
        # Our own translation must produce what the charger's schema demands; a failure here is a
        # translation bug or a value only this version forbids.
        for step in (call, *call.then):
            self._validate(version, step.action, step.payload)
        return call

    def _raw(self, version: str, command: cmd.RawCall) -> OcppCall:
        if command.action not in _SCHEMAS[version].actions:
            raise CommandNotSupported(f"{command.action} is not an OCPP {version} action")
        self._validate(version, command.action, command.payload)
        return OcppCall(command.action, command.payload)

    @staticmethod
    def _validate(version: str, action: str, payload: dict[str, Any]) -> None:
        try:
            _SCHEMAS[version].validate_request(action, payload)
        except OcppCallError as exc:
            raise CommandInvalid(f"{action} for OCPP {version}: {exc.description}") from exc

    def allowed_before_acceptance(self, version: str, call: OcppCall) -> bool:
        if call.action != "TriggerMessage":
            return call.action in ALLOWED_BEFORE_ACCEPTANCE[version]
        # Before acceptance, the only message worth triggering is a new BootNotification.
        return call.payload.get("requestedMessage") == "BootNotification"

    async def send(self, cp_id: str, call: OcppCall, timeout: float) -> dict[str, Any]:
        return await self._sessions.call(cp_id, call.action, call.payload, timeout)

    @staticmethod
    def status_of(version: str, action: str, response: dict[str, Any]) -> str | None:
        if version == "1.6":
            return v16_commands.status_of(action, response)
        return v201_commands.status_of(action, response)

    @staticmethod
    def new_password(version: str, call: OcppCall, response: dict[str, Any]) -> bytes | None:
        return new_password(version, call, response)

    @staticmethod
    def redact(call: OcppCall) -> dict[str, Any]:
        return redact(call.action, call.payload)

    async def disconnect(self, cp_id: str, reason: str) -> None:
        session = self._sessions.get(cp_id)
        if session is None or session.closed:
            raise ChargerUnavailable(f"{cp_id} is not connected")
        await session.close(1000, reason)
