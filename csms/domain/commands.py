"""Version-neutral operator commands: what an operator asks a charger to do, validated.

Field names are the API's (camelCase on the wire, snake_case here). The per-version translators in
csms/ocpp/v16/commands.py and csms/ocpp/v201/commands.py turn these into OCPP calls; nothing here
knows which version a charger speaks. Rules that hold for both versions are checked here, so a bad
command is refused before anything reaches a charger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from csms.domain.authorization import CENTRAL_TOKEN_TYPE
from csms.domain.secrets import is_password_key, is_password_variable

__all__ = [
    "COMMANDS",
    "OCPP_INT_MAX",
    "REDACTED",
    "CancelReservation",
    "CertificateHashData",
    "CertificateSigned",
    "ChangeAvailability",
    "ChargingProfile",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "ClearCache",
    "ClearChargingProfile",
    "Command",
    "CommandContext",
    "CommandInvalid",
    "CommandNotSupported",
    "ConfigurationVariable",
    "DataTransfer",
    "DeleteCertificate",
    "Disconnect",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetSecurityLog",
    "InstallCertificate",
    "LocalListEntry",
    "OcppCall",
    "RawCall",
    "Reserve",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SetConfiguration",
    "SetSecurityProfile",
    "Start",
    "Stop",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
]


OCPP_INT_MAX = 2**31 - 1
"""OCPP's integer is 32 bits, signed (2.0.1 part 2 §2.1.3; 1.6 names no width): what a charger
may hold, and what both stores keep (PostgreSQL's integer is 32 bits too)."""

REDACTED = "********"
"""What a credential is replaced with wherever a command is kept or logged."""


class CommandNotSupported(Exception):
    """The charger's OCPP version has no way to do this (the API's 400 not_supported)."""


class CommandInvalid(ValueError):
    """The command is well-formed but cannot be sent to this charger (the API's 422)."""


class Command(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


EvseId = Annotated[int, Field(ge=0, le=OCPP_INT_MAX)]
ConnectorId = Annotated[int, Field(ge=0, le=OCPP_INT_MAX)]
IdTagValue = Annotated[str, Field(min_length=1, max_length=36)]


class ChargingSchedulePeriod(Command):
    start_period: int = Field(ge=0, le=OCPP_INT_MAX)
    limit: Decimal = Field(ge=0, decimal_places=1)
    number_phases: int | None = Field(default=None, ge=1, le=3)


class ChargingSchedule(Command):
    duration: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)
    start_schedule: datetime | None = None
    charging_rate_unit: Literal["A", "W"]
    min_charging_rate: Decimal | None = Field(default=None, ge=0, decimal_places=1)
    charging_schedule_period: list[ChargingSchedulePeriod] = Field(min_length=1)

    @field_validator("charging_schedule_period")
    @classmethod
    def _periods_start_at_zero_in_order(
        cls, periods: list[ChargingSchedulePeriod]
    ) -> list[ChargingSchedulePeriod]:
        # OCPP 1.6 errata 3.45, 2.0.1 K01.FR.31/35: the first period starts at 0, then ascending.
        if periods[0].start_period != 0:
            raise ValueError("the first chargingSchedulePeriod must have startPeriod 0")
        starts = [p.start_period for p in periods]
        if starts != sorted(set(starts)):
            raise ValueError("chargingSchedulePeriod startPeriods must be strictly increasing")
        return periods


ProfilePurpose = Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]


class ChargingProfile(Command):
    """The OCPP 1.6 shape, for both versions (the 2.0.1 translator converts it)."""

    charging_profile_id: int = Field(ge=1, le=OCPP_INT_MAX)
    stack_level: int = Field(ge=0, le=OCPP_INT_MAX)
    charging_profile_purpose: ProfilePurpose
    charging_profile_kind: Literal["Absolute", "Recurring", "Relative"]
    recurrency_kind: Literal["Daily", "Weekly"] | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    charging_schedule: ChargingSchedule

    @field_validator("transaction_id", mode="before")
    @classmethod
    def _transaction_id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _consistent(self) -> ChargingProfile:
        if self.charging_profile_kind == "Recurring" and self.recurrency_kind is None:
            raise ValueError("a Recurring profile needs recurrencyKind")
        if self.charging_profile_kind == "Relative" and self.charging_schedule.start_schedule:
            raise ValueError("a Relative profile has no startSchedule (OCPP 1.6 errata 3.43)")
        if self.transaction_id is not None and self.charging_profile_purpose != "TxProfile":
            raise ValueError("only a TxProfile can name a transactionId")
        return self


class Start(Command):
    id_tag: IdTagValue
    evse_id: int | None = Field(default=None, ge=1, le=OCPP_INT_MAX)
    connector_id: int | None = Field(default=None, ge=1, le=OCPP_INT_MAX)
    charging_profile: ChargingProfile | None = None

    @model_validator(mode="after")
    def _profile_for_the_new_transaction(self) -> Start:
        # OCPP 1.6 errata 3.41, 2.0.1 F01.FR.09/11: a TxProfile without a transactionId.
        profile = self.charging_profile
        if profile is not None and (
            profile.charging_profile_purpose != "TxProfile" or profile.transaction_id is not None
        ):
            raise ValueError(
                "the chargingProfile of a start must be a TxProfile without transactionId"
            )
        return self


class Stop(Command):
    transaction_id: str = Field(min_length=1, max_length=36)

    @field_validator("transaction_id", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class Reset(Command):
    type: Literal["Soft", "Hard"]


class ChangeAvailability(Command):
    type: Literal["Operative", "Inoperative"]
    evse_id: EvseId | None = None
    connector_id: ConnectorId | None = None


class UnlockConnector(Command):
    evse_id: int | None = Field(default=None, ge=1, le=OCPP_INT_MAX)
    connector_id: int = Field(ge=1, le=OCPP_INT_MAX)


class SetChargingProfile(Command):
    evse_id: EvseId
    charging_profile: ChargingProfile

    @model_validator(mode="after")
    def _purpose_fits_the_evse(self) -> SetChargingProfile:
        purpose = self.charging_profile.charging_profile_purpose
        if purpose == "ChargePointMaxProfile" and self.evse_id != 0:
            raise ValueError("a ChargePointMaxProfile applies to evseId 0 only")
        if purpose == "TxProfile":
            if self.evse_id == 0:
                raise ValueError("a TxProfile applies to one EVSE (evseId > 0)")
            if self.charging_profile.transaction_id is None:
                # K01.FR.03; a TxProfile without a running transaction is rejected anyway.
                raise ValueError("a TxProfile needs the transactionId it applies to")
        return self


class ClearChargingProfile(Command):
    id: int | None = Field(default=None, ge=1, le=OCPP_INT_MAX)
    evse_id: EvseId | None = None
    charging_profile_purpose: ProfilePurpose | None = None
    stack_level: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)


class GetCompositeSchedule(Command):
    evse_id: EvseId
    duration: int = Field(ge=1, le=OCPP_INT_MAX)
    charging_rate_unit: Literal["A", "W"] | None = None


class UpdateFirmware(Command):
    url: str = Field(min_length=1, max_length=512)
    retrieve_after: datetime | None = None
    retries: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)
    interval: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)
    signed: bool = False
    signing_certificate: str | None = Field(default=None, max_length=5500)
    signature: str | None = Field(default=None, max_length=800)

    @model_validator(mode="after")
    def _signed_needs_certificate(self) -> UpdateFirmware:
        if self.signed and (self.signing_certificate is None or self.signature is None):
            raise ValueError("signed firmware needs signingCertificate and signature")
        return self


class GetDiagnostics(Command):
    location: str = Field(min_length=1, max_length=512)
    start: datetime | None = None
    stop: datetime | None = None
    retries: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)
    interval: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)


class TriggerMessage(Command):
    type: str = Field(min_length=1, max_length=50)
    evse_id: EvseId | None = None
    connector_id: ConnectorId | None = None


class ConfigurationVariable(Command):
    component: str = Field(min_length=1, max_length=50)
    variable: str = Field(min_length=1, max_length=50)
    instance: str | None = Field(default=None, max_length=50)
    evse_id: EvseId | None = None


class GetConfiguration(Command):
    keys: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = None
    variables: list[ConfigurationVariable] | None = None


class SetConfiguration(Command):
    name: str = Field(min_length=1, max_length=50)
    value: str = Field(max_length=1000)
    component_name: str | None = Field(default=None, min_length=1, max_length=50)
    instance: str | None = Field(default=None, max_length=50)
    evse_id: EvseId | None = None

    @property
    def sets_credential(self) -> bool:
        """A new Basic Auth password: 1.6 AuthorizationKey, 2.0.1 SecurityCtrlr.BasicAuthPassword,
        in any letter case.

        Such values are written to the charger and never kept in clear anywhere else.
        """
        return is_password_key(self.name) or is_password_variable(self.component_name, self.name)


class Reserve(Command):
    id_tag: IdTagValue
    expiry_date: datetime
    evse_id: EvseId | None = None
    connector_id: ConnectorId | None = None
    reservation_id: int | None = Field(default=None, ge=1, le=OCPP_INT_MAX)


class CancelReservation(Command):
    reservation_id: int = Field(ge=1, le=OCPP_INT_MAX)


class IdTagInfo(Command):
    status: Literal["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]
    expiry_date: datetime | None = None
    parent_id_tag: str | None = Field(default=None, max_length=36)


class LocalListEntry(Command):
    id_tag: IdTagValue
    id_tag_info: IdTagInfo | None = None


class SendLocalList(Command):
    # 0 and -1 are reserved (errata 3.52, D01.FR.18).
    list_version: int = Field(ge=1, le=OCPP_INT_MAX)
    update_type: Literal["Full", "Differential"]
    id_tags: list[LocalListEntry] = Field(default_factory=list)

    @field_validator("id_tags")
    @classmethod
    def _unique(cls, entries: list[LocalListEntry]) -> list[LocalListEntry]:
        seen = [e.id_tag.lower() for e in entries]
        if len(seen) != len(set(seen)):
            raise ValueError("idTags must be unique in a local list")
        return entries


class GetLocalListVersion(Command):
    pass


class ClearCache(Command):
    pass


class DataTransfer(Command):
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: Any = None


class Disconnect(Command):
    reason: str = Field(default="closed by the operator", max_length=120)


# Certificate kinds by their OCPP 2.0.1 names; 1.6's name of the CSMS root is taken as well.
def _certificate_use(value: Any) -> Any:
    return "CSMSRootCertificate" if value == "CentralSystemRootCertificate" else value


InstallCertificateUse = Annotated[
    Literal[
        "CSMSRootCertificate",
        "ManufacturerRootCertificate",
        "V2GRootCertificate",
        "MORootCertificate",
    ],
    BeforeValidator(_certificate_use),
]
CertificateIdUse = Annotated[
    Literal[
        "CSMSRootCertificate",
        "ManufacturerRootCertificate",
        "V2GRootCertificate",
        "MORootCertificate",
        "V2GCertificateChain",
    ],
    BeforeValidator(_certificate_use),
]


class InstallCertificate(Command):
    certificate_type: InstallCertificateUse
    certificate: str = Field(min_length=1, max_length=5500)  # PEM


class GetInstalledCertificateIds(Command):
    certificate_type: CertificateIdUse | None = None


class CertificateHashData(Command):
    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: str = Field(min_length=1, max_length=128)
    issuer_key_hash: str = Field(min_length=1, max_length=128)
    serial_number: str = Field(min_length=1, max_length=40)


class DeleteCertificate(Command):
    certificate_hash_data: CertificateHashData


class CertificateSigned(Command):
    certificate_chain: str = Field(min_length=1, max_length=10000)  # PEM, leaf first
    certificate_type: Literal["ChargingStationCertificate", "V2GCertificate"] | None = None


class GetSecurityLog(Command):
    location: str = Field(min_length=1, max_length=512)
    start: datetime | None = None
    stop: datetime | None = None
    retries: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)
    interval: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)


class SetSecurityProfile(Command):
    """Raise the charger's security profile; never lowered (checked against the stored one).

    1.6 needs only ``securityProfile``; 2.0.1 sets it through a network connection profile,
    which names the slot it is written to and the URL the station connects to with it.
    """

    security_profile: int = Field(ge=1, le=3)
    configuration_slot: int | None = Field(default=None, ge=0, le=OCPP_INT_MAX)
    csms_url: str | None = Field(default=None, min_length=1, max_length=512)
    ocpp_interface: Literal[
        "Wired0", "Wired1", "Wired2", "Wired3", "Wireless0", "Wireless1", "Wireless2", "Wireless3"
    ] = "Wired0"
    message_timeout: int = Field(default=30, ge=1, le=OCPP_INT_MAX)

    @model_validator(mode="after")
    def _tls_for_profiles_2_and_3(self) -> SetSecurityProfile:
        url = self.csms_url
        if url is not None and self.security_profile >= 2 and not url.startswith("wss://"):
            raise ValueError("security profiles 2 and 3 connect to a wss:// csmsUrl")
        return self


class RawCall(Command):
    """The escape hatch: an OCPP action of the charger's version with its payload as-is."""

    action: str
    payload: dict[str, Any]


# The API's action names → the command each one takes.
COMMANDS: dict[str, type[Command]] = {
    "start": Start,
    "stop": Stop,
    "reset": Reset,
    "change-availability": ChangeAvailability,
    "unlock-connector": UnlockConnector,
    "set-charging-profile": SetChargingProfile,
    "clear-charging-profile": ClearChargingProfile,
    "get-composite-schedule": GetCompositeSchedule,
    "update-firmware": UpdateFirmware,
    "get-diagnostics": GetDiagnostics,
    "trigger-message": TriggerMessage,
    "get-configuration": GetConfiguration,
    "set-configuration": SetConfiguration,
    "reserve": Reserve,
    "cancel-reservation": CancelReservation,
    "send-local-list": SendLocalList,
    "get-local-list-version": GetLocalListVersion,
    "clear-cache": ClearCache,
    "data-transfer": DataTransfer,
    "disconnect": Disconnect,
    "install-certificate": InstallCertificate,
    "get-installed-certificate-ids": GetInstalledCertificateIds,
    "delete-certificate": DeleteCertificate,
    "certificate-signed": CertificateSigned,
    "get-security-log": GetSecurityLog,
    "set-security-profile": SetSecurityProfile,
}


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What translating a command may need besides the command itself."""

    # Unique per command (its audit-trail id): becomes requestId / remoteStartId / reservation id.
    request_id: int
    now: datetime
    # idTag (lower-cased) → the 2.0.1 idToken type to send for it, for the tags the command names
    # (csms.domain.authorization.token_type_to_send).
    token_types: Mapping[str, str] = field(default_factory=dict)

    def token_type(self, id_tag: str) -> str:
        return self.token_types.get(id_tag.lower(), CENTRAL_TOKEN_TYPE)


@dataclass(frozen=True, slots=True)
class OcppCall:
    """The OCPP call a command became, as sent (the audit trail keeps it)."""

    action: str
    payload: dict[str, Any]
    # 2.0.1 GetBaseReport: the answer is complete when the NotifyReport parts of this requestId
    # are all in (tbc=false), not when the charger answers the call.
    collects_report: int | None = None
    # A command that takes several calls (2.0.1 set-security-profile): sent after this one, in
    # order, each once the one before was accepted.
    then: tuple[OcppCall, ...] = ()
