"""Secrets in OCPP calls and answers: recognised (in any letter case), masked wherever a call or
an answer is kept (audit trail, message log, logs), and the Basic Auth password a charger accepted.

Only the copies that are kept are masked: the call sent to the charger carries the real values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csms.domain.commands import REDACTED, OcppCall
from csms.domain.secrets import is_password_key, is_password_variable

__all__ = [
    "REDACTED",
    "REPORTING_ACTIONS",
    "carries_secret",
    "new_password",
    "redact",
    "redact_reported",
    "redact_reported_answer",
]

# 2.0.1 SetNetworkProfile: the fields of connectionData's apn and vpn that are credentials.
# The SIM PIN is one too, though not a password.
_NETWORK_SECRETS = {
    "apn": ("apnPassword", "simPin"),
    "vpn": ("password", "key"),
}


def _names(item: dict[str, Any]) -> tuple[str | None, str]:
    component = item.get("component")
    variable = item.get("variable")
    return (
        component.get("name") if isinstance(component, dict) else None,
        str(variable.get("name", "")) if isinstance(variable, dict) else "",
    )


def _is_password_item(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    component, variable = _names(item)
    return component is not None and is_password_variable(str(component), variable)


def _mask_items(items: Any, is_secret: Callable[[Any], bool], field: str) -> tuple[Any, bool]:
    """``items`` with ``field`` masked in those ``is_secret`` picks, and whether any was."""
    if not isinstance(items, list) or not any(is_secret(item) for item in items):
        return items, False
    masked = [
        {**item, field: REDACTED} if is_secret(item) and field in item else item for item in items
    ]
    return masked, True


def _is_password_configuration_key(item: Any) -> bool:
    return isinstance(item, dict) and is_password_key(str(item.get("key", "")))


def redact(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` of a call to a charger with its secrets masked (the same object when it has
    none): a new Basic Auth password, SetNetworkProfile's APN/VPN credentials."""
    if action == "ChangeConfiguration":
        if is_password_key(str(payload.get("key", ""))):
            return {**payload, "value": REDACTED}
    elif action == "SetVariables":
        items, masked = _mask_items(
            payload.get("setVariableData"), _is_password_item, "attributeValue"
        )
        if masked:
            return {**payload, "setVariableData": items}
    elif action == "SetNetworkProfile":
        return _redact_network_profile(payload)
    return payload


def _redact_network_profile(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload.get("connectionData")
    if not isinstance(data, dict):
        return payload
    masked_data = dict(data)
    for part, fields in _NETWORK_SECRETS.items():
        section = data.get(part)
        if isinstance(section, dict) and any(field in section for field in fields):
            masked_data[part] = {
                key: REDACTED if key in fields else value for key, value in section.items()
            }
    if masked_data == data:
        return payload
    return {**payload, "connectionData": masked_data}


# What a charger reports values in: the answers to our GetConfiguration / GetVariables, and its
# own NotifyReport calls.
REPORTING_ACTIONS = frozenset({"GetConfiguration", "GetVariables", "NotifyReport"})


def redact_reported(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What a charger reported through ``action`` with a password it should never report masked.

    AuthorizationKey and BasicAuthPassword are write-only (OCPP-J 1.6 §6.2.2; 2.0.1 mutability
    WriteOnly), yet some chargers echo them in GetConfiguration / GetVariables answers or a
    NotifyReport. The same object comes back when there is nothing to mask.
    """
    if action == "GetConfiguration":
        items, masked = _mask_items(
            payload.get("configurationKey"), _is_password_configuration_key, "value"
        )
        if masked:
            return {**payload, "configurationKey": items}
    elif action == "GetVariables":
        items, masked = _mask_items(
            payload.get("getVariableResult"), _is_password_item, "attributeValue"
        )
        if masked:
            return {**payload, "getVariableResult": items}
    elif action == "NotifyReport":
        report = payload.get("reportData")
        if isinstance(report, list) and any(_is_password_item(item) for item in report):
            return {**payload, "reportData": [_mask_report_item(item) for item in report]}
    return payload


def redact_reported_answer(payload: dict[str, Any]) -> dict[str, Any]:
    """``redact_reported`` for an answer whose call is not known (a late one): any shape."""
    return redact_reported("GetVariables", redact_reported("GetConfiguration", payload))


def _mask_report_item(item: Any) -> Any:
    if not _is_password_item(item):
        return item
    attributes, _ = _mask_items(item.get("variableAttribute"), lambda _: True, "value")
    return {**item, "variableAttribute": attributes}


def new_password(version: str, call: OcppCall, response: dict[str, Any]) -> bytes | None:
    """The Basic Auth password a charger has just accepted through ``call``, if any.

    1.6 AuthorizationKey travels hex-encoded and the Basic header carries the decoded bytes
    (OCPP-J 1.6 §6.2.2); 2.0.1 BasicAuthPassword is plain UTF-8 (A00.FR.205). Names match in any
    letter case, and the charger's answer may spell them differently from our call.
    """
    if version == "1.6" and call.action == "ChangeConfiguration":
        if not is_password_key(str(call.payload.get("key", ""))):
            return None
        if response.get("status") != "Accepted":
            return None
        value = str(call.payload.get("value", ""))
        try:
            return bytes.fromhex(value)
        except ValueError:
            return value.encode("utf-8")
    if version == "2.0.1" and call.action == "SetVariables":
        accepted = any(
            _is_password_item(result) and result.get("attributeStatus") == "Accepted"
            for result in response.get("setVariableResult", [])
        )
        if not accepted:
            return None
        for item in call.payload.get("setVariableData", []):
            if _is_password_item(item):
                return str(item["attributeValue"]).encode("utf-8")
    return None


def carries_secret(action: str, payload: dict[str, Any]) -> bool:
    return redact(action, payload) is not payload
