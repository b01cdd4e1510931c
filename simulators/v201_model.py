"""The small OCPP 2.0.1 device model of the simulated station (pure, no I/O).

Just enough components and variables for a CSMS to exercise GetBaseReport,
GetVariables and SetVariables: read-only identity values, two intervals that
change the station's behaviour, a write-only password and per-EVSE entries.
Requests arrive with snake_case keys (the ocpp library converts them); what
this module produces is camelCase, as it goes on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

ACTUAL = "Actual"


class Mutability(StrEnum):
    READ_ONLY = "ReadOnly"
    READ_WRITE = "ReadWrite"
    WRITE_ONLY = "WriteOnly"


@dataclass(frozen=True)
class ComponentKey:
    name: str
    evse_id: int | None = None
    connector_id: int | None = None

    @classmethod
    def parse(cls, component: dict[str, Any]) -> ComponentKey:
        evse = component.get("evse") or {}
        return cls(str(component["name"]), evse.get("id"), evse.get("connector_id"))

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.evse_id is not None:
            evse: dict[str, Any] = {"id": self.evse_id}
            if self.connector_id is not None:
                evse["connectorId"] = self.connector_id
            out["evse"] = evse
        return out


@dataclass
class Variable:
    component: ComponentKey
    name: str
    value: str
    mutability: Mutability
    data_type: str = "string"
    values_list: str | None = None
    max_length: int | None = None

    def accepts(self, value: str) -> bool:
        if self.data_type == "integer":
            try:
                return int(value) >= 0
            except ValueError:
                return False
        if self.data_type == "boolean":
            return value.lower() in ("true", "false")
        if self.max_length is not None:
            return 0 < len(value) <= self.max_length
        if self.values_list is not None:
            return value in self.values_list.split(",")
        return True

    def report(self) -> dict[str, Any]:
        """One ``reportData`` entry of NotifyReport."""
        attribute: dict[str, Any] = {
            "type": ACTUAL,
            "mutability": self.mutability.value,
            "persistent": True,
            "constant": self.mutability is Mutability.READ_ONLY,
        }
        if self.mutability is not Mutability.WRITE_ONLY:
            attribute["value"] = self.value
        characteristics: dict[str, Any] = {"dataType": self.data_type, "supportsMonitoring": False}
        if self.values_list is not None:
            characteristics["valuesList"] = self.values_list
        return {
            "component": self.component.wire(),
            "variable": {"name": self.name},
            "variableAttribute": [attribute],
            "variableCharacteristics": characteristics,
        }


class DeviceModel:
    def __init__(self, variables: list[Variable]) -> None:
        self._vars: dict[tuple[ComponentKey, str], Variable] = {
            (v.component, v.name): v for v in variables
        }

    def __iter__(self) -> Any:
        return iter(self._vars.values())

    def _lookup(
        self, component: dict[str, Any], variable: dict[str, Any]
    ) -> tuple[str, Variable | None]:
        key = ComponentKey.parse(component)
        found = self._vars.get((key, str(variable["name"])))
        if found is not None and not variable.get("instance"):
            return "Accepted", found
        if any(k == key for k, _ in self._vars):
            return "UnknownVariable", None
        return "UnknownComponent", None

    def value(self, component: str, name: str, evse_id: int | None = None) -> str:
        return self._vars[(ComponentKey(component, evse_id), name)].value

    def set_internal(
        self,
        component: str,
        name: str,
        value: str,
        evse_id: int | None = None,
        connector_id: int | None = None,
    ) -> None:
        """Set a value from the station itself (bypasses mutability)."""
        self._vars[(ComponentKey(component, evse_id, connector_id), name)].value = value

    def get(self, request: dict[str, Any]) -> dict[str, Any]:
        """One ``getVariableResult`` for one ``getVariableData`` (snake_case in)."""
        attribute_type = request.get("attribute_type") or ACTUAL
        status, var = self._lookup(request["component"], request["variable"])
        result: dict[str, Any] = {
            "attributeType": attribute_type,
            "component": request["component"],
            "variable": request["variable"],
        }
        if var is not None and attribute_type != ACTUAL:
            status = "NotSupportedAttributeType"
        elif var is not None and var.mutability is Mutability.WRITE_ONLY:
            status = "Rejected"
        result["attributeStatus"] = status
        if status == "Accepted" and var is not None:
            result["attributeValue"] = var.value
        return result

    def set(self, request: dict[str, Any]) -> tuple[dict[str, Any], Variable | None]:
        """One ``setVariableResult``, and the variable if it changed."""
        attribute_type = request.get("attribute_type") or ACTUAL
        status, var = self._lookup(request["component"], request["variable"])
        value = str(request["attribute_value"])
        changed = None
        if var is not None:
            if attribute_type != ACTUAL:
                status = "NotSupportedAttributeType"
            elif var.mutability is Mutability.READ_ONLY or not var.accepts(value):
                status = "Rejected"
            else:
                var.value = value.lower() if var.data_type == "boolean" else value
                changed = var
        result = {
            "attributeType": attribute_type,
            "attributeStatus": status,
            "component": request["component"],
            "variable": request["variable"],
        }
        return result, changed

    def report(self, report_base: str) -> list[dict[str, Any]]:
        """``reportData`` for a GetBaseReport.

        ConfigurationInventory lists what the CSMS may set; Full and Summary
        list everything (the model is small enough to be its own summary).
        """
        return [
            v.report()
            for v in self._vars.values()
            if report_base != "ConfigurationInventory" or v.mutability is not Mutability.READ_ONLY
        ]


def parts(entries: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Split a report into NotifyReport parts of at most ``size`` entries."""
    size = max(1, size)
    return [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]


HEARTBEAT = ("OCPPCommCtrlr", "HeartbeatInterval")
TX_UPDATED = ("SampledDataCtrlr", "TxUpdatedInterval")
PASSWORD = ("SecurityCtrlr", "BasicAuthPassword")
AUTHORIZE_REMOTE_START = ("AuthCtrlr", "AuthorizeRemoteStart")
LOCAL_AUTHORIZE_OFFLINE = ("AuthCtrlr", "LocalAuthorizeOffline")
TX_ATTEMPTS = ("OCPPCommCtrlr", "MessageAttemptsTransactionEvent")
TX_ATTEMPT_INTERVAL = ("OCPPCommCtrlr", "MessageAttemptIntervalTransactionEvent")


def default_model(
    evses: int, *, vendor: str, model: str, heartbeat: int, tx_updated: int
) -> DeviceModel:
    ro, rw, wo = Mutability.READ_ONLY, Mutability.READ_WRITE, Mutability.WRITE_ONLY
    station = ComponentKey("ChargingStation")

    def ctrl(name: tuple[str, str], value: str, mutability: Mutability, kind: str) -> Variable:
        return Variable(ComponentKey(name[0]), name[1], value, mutability, kind)

    variables = [
        Variable(station, "Available", "true", ro, "boolean"),
        Variable(station, "Model", model, ro),
        Variable(station, "VendorName", vendor, ro),
        ctrl(HEARTBEAT, str(heartbeat), rw, "integer"),
        ctrl(TX_ATTEMPTS, "3", rw, "integer"),
        ctrl(TX_ATTEMPT_INTERVAL, "5", rw, "integer"),
        ctrl(TX_UPDATED, str(tx_updated), rw, "integer"),
        # Security profile 1 asks for 16..40 characters; lenient on the
        # minimum so short test passwords work. (Part 2 calls the type
        # passwordString, but the NotifyReport schema only allows "string".)
        Variable(ComponentKey(PASSWORD[0]), PASSWORD[1], "", wo, max_length=40),
        ctrl(AUTHORIZE_REMOTE_START, "false", rw, "boolean"),
        ctrl(LOCAL_AUTHORIZE_OFFLINE, "true", rw, "boolean"),
    ]
    states = "Available,Occupied,Reserved,Unavailable,Faulted"
    for n in range(1, evses + 1):
        variables.append(
            Variable(
                ComponentKey("EVSE", n), "AvailabilityState", "Available", ro, "OptionList", states
            )
        )
        variables.append(Variable(ComponentKey("Connector", n, 1), "ConnectorType", "cType2", ro))
    return DeviceModel(variables)
