"""Basic Auth passwords sent to chargers: recognised in calls, masked wherever calls are kept."""

from __future__ import annotations

from typing import Any

from csms.domain.commands import REDACTED, OcppCall

__all__ = ["REDACTED", "carries_secret", "new_password", "redact"]

# Variables whose values are credentials: written, never stored or logged in clear.
_SECRET_KEYS = frozenset({"AuthorizationKey"})
_SECRET_VARIABLES = frozenset({("SecurityCtrlr", "BasicAuthPassword")})


def redact(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with any new Basic Auth password masked (for the audit trail and frame log)."""
    if action == "ChangeConfiguration" and payload.get("key") in _SECRET_KEYS:
        return {**payload, "value": REDACTED}
    if action == "SetVariables":
        items = []
        for item in payload.get("setVariableData", []):
            name = (item.get("component", {}).get("name"), item.get("variable", {}).get("name"))
            items.append(
                {**item, "attributeValue": REDACTED} if name in _SECRET_VARIABLES else item
            )
        return {**payload, "setVariableData": items}
    return payload


def new_password(version: str, call: OcppCall, response: dict[str, Any]) -> bytes | None:
    """The Basic Auth password a charger has just accepted through ``call``, if any.

    1.6 AuthorizationKey travels hex-encoded and the Basic header carries the decoded bytes
    (OCPP-J 1.6 §6.2.2); 2.0.1 BasicAuthPassword is plain UTF-8 (A00.FR.205).
    """
    if version == "1.6" and call.action == "ChangeConfiguration":
        if call.payload.get("key") not in _SECRET_KEYS or response.get("status") != "Accepted":
            return None
        value = str(call.payload.get("value", ""))
        try:
            return bytes.fromhex(value)
        except ValueError:
            return value.encode("utf-8")
    if version == "2.0.1" and call.action == "SetVariables":
        accepted = {
            (r.get("component", {}).get("name"), r.get("variable", {}).get("name"))
            for r in response.get("setVariableResult", [])
            if r.get("attributeStatus") == "Accepted"
        }
        for item in call.payload.get("setVariableData", []):
            name = (item.get("component", {}).get("name"), item.get("variable", {}).get("name"))
            if name in _SECRET_VARIABLES and name in accepted:
                return str(item["attributeValue"]).encode("utf-8")
    return None


def carries_secret(action: str, payload: dict[str, Any]) -> bool:
    return redact(action, payload) != payload
