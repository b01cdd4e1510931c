"""Version-neutral operator commands → OCPP 1.6 calls."""

from __future__ import annotations

from typing import Any

import orjson

from csms.domain import commands as cmd
from csms.domain.commands import CommandInvalid
from csms.ocpp.calls import CommandContext, OcppCall, Translation, compact, number, stamp

__all__ = ["TRANSLATIONS", "charging_profile", "status_of"]

# TriggerMessage.requestedMessage values of 1.6 (the 2.0.1 name of the log message maps over).
_TRIGGERABLE = {
    "BootNotification": "BootNotification",
    "DiagnosticsStatusNotification": "DiagnosticsStatusNotification",
    "LogStatusNotification": "DiagnosticsStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "StatusNotification": "StatusNotification",
}


def _connector(evse_id: int | None, connector_id: int | None) -> int | None:
    # For 1.6, evseId and connectorId mean the same thing (API.md).
    return evse_id if evse_id is not None else connector_id


def charging_profile(profile: cmd.ChargingProfile) -> dict[str, Any]:
    schedule = profile.charging_schedule
    return compact(
        chargingProfileId=profile.charging_profile_id,
        transactionId=None
        if profile.transaction_id is None
        else _transaction_id(profile.transaction_id),
        stackLevel=profile.stack_level,
        chargingProfilePurpose=profile.charging_profile_purpose,
        chargingProfileKind=profile.charging_profile_kind,
        recurrencyKind=profile.recurrency_kind,
        validFrom=None if profile.valid_from is None else stamp(profile.valid_from),
        validTo=None if profile.valid_to is None else stamp(profile.valid_to),
        chargingSchedule=compact(
            duration=schedule.duration,
            startSchedule=None
            if schedule.start_schedule is None
            else stamp(schedule.start_schedule),
            chargingRateUnit=schedule.charging_rate_unit,
            chargingSchedulePeriod=[
                compact(
                    startPeriod=p.start_period, limit=number(p.limit), numberPhases=p.number_phases
                )
                for p in schedule.charging_schedule_period
            ],
            minChargingRate=None
            if schedule.min_charging_rate is None
            else number(schedule.min_charging_rate),
        ),
    )


def _transaction_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise CommandInvalid(f"OCPP 1.6 transaction ids are integers, not {value!r}") from None


def _start(c: cmd.Start, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "RemoteStartTransaction",
        compact(
            connectorId=_connector(c.evse_id, c.connector_id),
            idTag=c.id_tag,
            chargingProfile=None
            if c.charging_profile is None
            else charging_profile(c.charging_profile),
        ),
    )


def _stop(c: cmd.Stop, ctx: CommandContext) -> OcppCall:
    return OcppCall("RemoteStopTransaction", {"transactionId": _transaction_id(c.transaction_id)})


def _reset(c: cmd.Reset, ctx: CommandContext) -> OcppCall:
    return OcppCall("Reset", {"type": c.type})


def _change_availability(c: cmd.ChangeAvailability, ctx: CommandContext) -> OcppCall:
    connector = _connector(c.evse_id, c.connector_id)
    return OcppCall("ChangeAvailability", {"connectorId": connector or 0, "type": c.type})


def _unlock(c: cmd.UnlockConnector, ctx: CommandContext) -> OcppCall:
    return OcppCall("UnlockConnector", {"connectorId": c.connector_id})


def _set_profile(c: cmd.SetChargingProfile, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "SetChargingProfile",
        {
            "connectorId": c.evse_id,
            "csChargingProfiles": charging_profile(c.charging_profile),
        },
    )


def _clear_profile(c: cmd.ClearChargingProfile, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "ClearChargingProfile",
        compact(
            id=c.id,
            connectorId=c.evse_id,
            chargingProfilePurpose=c.charging_profile_purpose,
            stackLevel=c.stack_level,
        ),
    )


def _composite(c: cmd.GetCompositeSchedule, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "GetCompositeSchedule",
        compact(
            connectorId=c.evse_id,
            duration=c.duration,
            chargingRateUnit=c.charging_rate_unit,
        ),
    )


def _update_firmware(c: cmd.UpdateFirmware, ctx: CommandContext) -> OcppCall:
    retrieve = stamp(c.retrieve_after or ctx.now)
    if c.signed:
        # The security extension's signed variant; progress comes as
        # SignedFirmwareStatusNotification with this requestId.
        return OcppCall(
            "SignedUpdateFirmware",
            compact(
                requestId=ctx.request_id,
                retries=c.retries,
                retryInterval=c.interval,
                firmware=compact(
                    location=c.url,
                    retrieveDateTime=retrieve,
                    signingCertificate=c.signing_certificate,
                    signature=c.signature,
                ),
            ),
        )
    return OcppCall(
        "UpdateFirmware",
        compact(
            location=c.url,
            retrieveDate=retrieve,
            retries=c.retries,
            retryInterval=c.interval,
        ),
    )


def _diagnostics(c: cmd.GetDiagnostics, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "GetDiagnostics",
        compact(
            location=c.location,
            retries=c.retries,
            retryInterval=c.interval,
            startTime=None if c.start is None else stamp(c.start),
            stopTime=None if c.stop is None else stamp(c.stop),
        ),
    )


def _trigger(c: cmd.TriggerMessage, ctx: CommandContext) -> OcppCall:
    requested = _TRIGGERABLE.get(c.type)
    if requested is None:
        raise cmd.CommandNotSupported(
            f"OCPP 1.6 cannot trigger {c.type}; it can trigger "
            + ", ".join(sorted(set(_TRIGGERABLE.values())))
        )
    return OcppCall(
        "TriggerMessage",
        compact(
            requestedMessage=requested,
            connectorId=_connector(c.evse_id, c.connector_id),
        ),
    )


def _get_configuration(c: cmd.GetConfiguration, ctx: CommandContext) -> OcppCall:
    keys = list(c.keys or []) + [v.variable for v in c.variables or []]
    return OcppCall("GetConfiguration", compact(key=keys or None))


def _set_configuration(c: cmd.SetConfiguration, ctx: CommandContext) -> OcppCall:
    return OcppCall("ChangeConfiguration", {"key": c.name, "value": c.value})


def _reserve(c: cmd.Reserve, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "ReserveNow",
        {
            "connectorId": _connector(c.evse_id, c.connector_id) or 0,
            "expiryDate": stamp(c.expiry_date),
            "idTag": c.id_tag,
            "reservationId": c.reservation_id or ctx.request_id,
        },
    )


def _cancel_reservation(c: cmd.CancelReservation, ctx: CommandContext) -> OcppCall:
    return OcppCall("CancelReservation", {"reservationId": c.reservation_id})


def _local_list(c: cmd.SendLocalList, ctx: CommandContext) -> OcppCall:
    entries = []
    for entry in c.id_tags:
        info = entry.id_tag_info
        entries.append(
            compact(
                idTag=entry.id_tag,
                idTagInfo=None
                if info is None
                else compact(
                    status=info.status,
                    parentIdTag=info.parent_id_tag,
                    expiryDate=None if info.expiry_date is None else stamp(info.expiry_date),
                ),
            )
        )
    return OcppCall(
        "SendLocalList",
        {
            "listVersion": c.list_version,
            "updateType": c.update_type,
            "localAuthorizationList": entries,
        },
    )


def _local_list_version(c: cmd.GetLocalListVersion, ctx: CommandContext) -> OcppCall:
    return OcppCall("GetLocalListVersion", {})


def _clear_cache(c: cmd.ClearCache, ctx: CommandContext) -> OcppCall:
    return OcppCall("ClearCache", {})


def _data_transfer(c: cmd.DataTransfer, ctx: CommandContext) -> OcppCall:
    # 1.6 data is a string: anything else travels as its JSON text.
    data = c.data if c.data is None or isinstance(c.data, str) else orjson.dumps(c.data).decode()
    return OcppCall(
        "DataTransfer", compact(vendorId=c.vendor_id, messageId=c.message_id, data=data)
    )


# The security extension's CertificateUse: the API's (2.0.1) names → 1.6's; the V2G and MO roots
# have no 1.6 name.
_CERTIFICATE_USES = {
    "CSMSRootCertificate": "CentralSystemRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}


def _certificate_use(use: str | None) -> str:
    if use is None:
        raise CommandInvalid("OCPP 1.6 GetInstalledCertificateIds needs certificateType")
    named = _CERTIFICATE_USES.get(use)
    if named is None:
        raise CommandInvalid(
            f"OCPP 1.6 has no certificate type {use}; it knows "
            + ", ".join(sorted(_CERTIFICATE_USES))
        )
    return named


def _install_certificate(c: cmd.InstallCertificate, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "InstallCertificate",
        {"certificateType": _certificate_use(c.certificate_type), "certificate": c.certificate},
    )


def _installed_certificate_ids(c: cmd.GetInstalledCertificateIds, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "GetInstalledCertificateIds", {"certificateType": _certificate_use(c.certificate_type)}
    )


def _delete_certificate(c: cmd.DeleteCertificate, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "DeleteCertificate",
        {"certificateHashData": c.certificate_hash_data.model_dump(by_alias=True)},
    )


def _certificate_signed(c: cmd.CertificateSigned, ctx: CommandContext) -> OcppCall:
    if c.certificate_type not in (None, "ChargingStationCertificate"):
        raise CommandInvalid("OCPP 1.6 CertificateSigned carries charge point certificates only")
    return OcppCall("CertificateSigned", {"certificateChain": c.certificate_chain})


def _security_log(c: cmd.GetSecurityLog, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "GetLog",
        compact(
            logType="SecurityLog",
            requestId=ctx.request_id,
            retries=c.retries,
            retryInterval=c.interval,
            log=compact(
                remoteLocation=c.location,
                oldestTimestamp=None if c.start is None else stamp(c.start),
                latestTimestamp=None if c.stop is None else stamp(c.stop),
            ),
        ),
    )


def _security_profile(c: cmd.SetSecurityProfile, ctx: CommandContext) -> OcppCall:
    if c.csms_url is not None or c.configuration_slot is not None:
        # 1.6 has one connection, configured by hand: only its SecurityProfile key is set.
        raise CommandInvalid("OCPP 1.6 sets the SecurityProfile key only: no csmsUrl or slot")
    return OcppCall(
        "ChangeConfiguration", {"key": "SecurityProfile", "value": str(c.security_profile)}
    )


TRANSLATIONS: dict[type[cmd.Command], Translation] = {
    cmd.Start: _start,
    cmd.Stop: _stop,
    cmd.Reset: _reset,
    cmd.ChangeAvailability: _change_availability,
    cmd.UnlockConnector: _unlock,
    cmd.SetChargingProfile: _set_profile,
    cmd.ClearChargingProfile: _clear_profile,
    cmd.GetCompositeSchedule: _composite,
    cmd.UpdateFirmware: _update_firmware,
    cmd.GetDiagnostics: _diagnostics,
    cmd.TriggerMessage: _trigger,
    cmd.GetConfiguration: _get_configuration,
    cmd.SetConfiguration: _set_configuration,
    cmd.Reserve: _reserve,
    cmd.CancelReservation: _cancel_reservation,
    cmd.SendLocalList: _local_list,
    cmd.GetLocalListVersion: _local_list_version,
    cmd.ClearCache: _clear_cache,
    cmd.DataTransfer: _data_transfer,
    cmd.InstallCertificate: _install_certificate,
    cmd.GetInstalledCertificateIds: _installed_certificate_ids,
    cmd.DeleteCertificate: _delete_certificate,
    cmd.CertificateSigned: _certificate_signed,
    cmd.GetSecurityLog: _security_log,
    cmd.SetSecurityProfile: _security_profile,
}


def status_of(action: str, response: dict[str, Any]) -> str | None:
    status = response.get("status")
    return status if isinstance(status, str) else None
