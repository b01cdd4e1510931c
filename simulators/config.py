"""OCPP 1.6 configuration keys of the simulated charger.

Values are kept as strings because that is how OCPP transports them; typed
getters convert. ``AuthorizationKey`` is write-only (Security whitepaper):
it is never returned by GetConfiguration.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(Enum):
    INT = "int"
    BOOL = "bool"
    STR = "str"
    HEX = "hex"


class ChangeResult(Enum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"


@dataclass
class Entry:
    value: str
    readonly: bool = False
    kind: Kind = Kind.STR
    readable: bool = True


AUTHORIZATION_KEY = "AuthorizationKey"


def default_entries(connectors: int, heartbeat: int, meter_interval: int) -> dict[str, Entry]:
    rotation = ", ".join(f"{n}.RST" for n in range(connectors + 1))
    measurands = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC"
    return {
        "AllowOfflineTxForUnknownId": Entry("false", kind=Kind.BOOL),
        "AuthorizationCacheEnabled": Entry("true", kind=Kind.BOOL),
        "AuthorizeRemoteTxRequests": Entry("false", kind=Kind.BOOL),
        "ClockAlignedDataInterval": Entry("0", kind=Kind.INT),
        "ConnectionTimeOut": Entry("60", kind=Kind.INT),
        "ConnectorPhaseRotation": Entry(rotation),
        "GetConfigurationMaxKeys": Entry("50", readonly=True, kind=Kind.INT),
        "HeartbeatInterval": Entry(str(heartbeat), kind=Kind.INT),
        "LocalAuthorizeOffline": Entry("true", kind=Kind.BOOL),
        "LocalPreAuthorize": Entry("false", kind=Kind.BOOL),
        "MeterValuesAlignedData": Entry("Energy.Active.Import.Register"),
        "MeterValuesSampledData": Entry(measurands),
        "MeterValueSampleInterval": Entry(str(meter_interval), kind=Kind.INT),
        "NumberOfConnectors": Entry(str(connectors), readonly=True, kind=Kind.INT),
        "ResetRetries": Entry("3", kind=Kind.INT),
        "StopTransactionOnEVSideDisconnect": Entry("true", kind=Kind.BOOL),
        "StopTransactionOnInvalidId": Entry("true", kind=Kind.BOOL),
        "StopTxnAlignedData": Entry(""),
        "StopTxnSampledData": Entry("Energy.Active.Import.Register"),
        "SupportedFeatureProfiles": Entry(
            "Core,FirmwareManagement,LocalAuthListManagement,Reservation,"
            "SmartCharging,RemoteTrigger",
            readonly=True,
        ),
        "TransactionMessageAttempts": Entry("3", kind=Kind.INT),
        "TransactionMessageRetryInterval": Entry("5", kind=Kind.INT),
        "UnlockConnectorOnEVSideDisconnect": Entry("true", kind=Kind.BOOL),
        "WebSocketPingInterval": Entry("20", kind=Kind.INT),
        "LocalAuthListEnabled": Entry("true", kind=Kind.BOOL),
        "LocalAuthListMaxLength": Entry("100", readonly=True, kind=Kind.INT),
        "SendLocalListMaxLength": Entry("100", readonly=True, kind=Kind.INT),
        "ReserveConnectorZeroSupported": Entry("false", readonly=True, kind=Kind.BOOL),
        "ChargeProfileMaxStackLevel": Entry("10", readonly=True, kind=Kind.INT),
        "ChargingScheduleAllowedChargingRateUnit": Entry("Current,Power", readonly=True),
        "ChargingScheduleMaxPeriods": Entry("24", readonly=True, kind=Kind.INT),
        "MaxChargingProfilesInstalled": Entry("10", readonly=True, kind=Kind.INT),
        AUTHORIZATION_KEY: Entry("", kind=Kind.HEX, readable=False),
    }


def _valid(kind: Kind, value: str) -> bool:
    if kind is Kind.INT:
        try:
            return int(value) >= 0
        except ValueError:
            return False
    if kind is Kind.BOOL:
        return value.lower() in ("true", "false")
    if kind is Kind.HEX:
        if not value:
            return False
        try:
            binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            return False
        return True
    return True


class ConfigStore:
    def __init__(self, entries: dict[str, Entry]) -> None:
        self._entries = entries

    def get(self, key: str) -> str:
        return self._entries[key].value

    def get_int(self, key: str) -> int:
        return int(self._entries[key].value)

    def get_bool(self, key: str) -> bool:
        return self._entries[key].value.lower() == "true"

    def set_internal(self, key: str, value: str) -> None:
        """Set a value from the charger itself (bypasses read-only)."""
        self._entries[key].value = value

    def read(self, keys: list[str] | None) -> tuple[list[dict[str, Any]], list[str]]:
        """Answer a GetConfiguration: (configurationKey, unknownKey)."""
        names = keys if keys else list(self._entries)
        known: list[dict[str, Any]] = []
        unknown: list[str] = []
        for name in names:
            entry = self._entries.get(name)
            if entry is None or not entry.readable:
                # Write-only keys are only reported as unknown when asked for
                # explicitly; a full dump silently skips them.
                if keys:
                    unknown.append(name)
                continue
            known.append({"key": name, "readonly": entry.readonly, "value": entry.value})
        return known, unknown

    def change(self, key: str, value: str) -> ChangeResult:
        entry = self._entries.get(key)
        if entry is None:
            return ChangeResult.NOT_SUPPORTED
        if entry.readonly or not _valid(entry.kind, value):
            return ChangeResult.REJECTED
        entry.value = value.lower() if entry.kind is Kind.BOOL else value
        return ChangeResult.ACCEPTED
