"""Version-neutral operator commands → OCPP 2.0.1 calls."""

from __future__ import annotations

from typing import Any

from csms.domain import commands as cmd
from csms.domain.commands import CommandInvalid
from csms.ocpp.calls import CommandContext, OcppCall, Translation, compact, number, stamp

__all__ = ["PURPOSES", "TRANSLATIONS", "charging_profile", "status_of"]

# 1.6 purpose names (the API's) → 2.0.1 ChargingProfilePurposeEnumType.
PURPOSES = {
    "ChargePointMaxProfile": "ChargingStationMaxProfile",
    "TxDefaultProfile": "TxDefaultProfile",
    "TxProfile": "TxProfile",
}

_RESET_TYPES = {"Soft": "OnIdle", "Hard": "Immediate"}

_TRIGGERABLE = {
    "BootNotification": "BootNotification",
    "LogStatusNotification": "LogStatusNotification",
    "DiagnosticsStatusNotification": "LogStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "StatusNotification": "StatusNotification",
    "TransactionEvent": "TransactionEvent",
    "SignChargingStationCertificate": "SignChargingStationCertificate",
    "SignV2GCertificate": "SignV2GCertificate",
    "SignCombinedCertificate": "SignCombinedCertificate",
    "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
}


def _id_token(id_tag: str, ctx: CommandContext) -> dict[str, str]:
    return {"idToken": id_tag, "type": ctx.token_type(id_tag)}


def _evse(evse_id: int | None, connector_id: int | None = None) -> dict[str, int] | None:
    if evse_id is None:
        return None
    return compact(id=evse_id, connectorId=connector_id)


def charging_profile(profile: cmd.ChargingProfile) -> dict[str, Any]:
    """The 1.6-shaped profile of the API as a 2.0.1 ChargingProfileType."""
    schedule = profile.charging_schedule
    return compact(
        id=profile.charging_profile_id,
        stackLevel=profile.stack_level,
        chargingProfilePurpose=PURPOSES[profile.charging_profile_purpose],
        chargingProfileKind=profile.charging_profile_kind,
        recurrencyKind=profile.recurrency_kind,
        validFrom=None if profile.valid_from is None else stamp(profile.valid_from),
        validTo=None if profile.valid_to is None else stamp(profile.valid_to),
        transactionId=profile.transaction_id,
        chargingSchedule=[
            compact(
                # One schedule per profile here; its id only has to be unique within the profile.
                id=profile.charging_profile_id,
                startSchedule=None
                if schedule.start_schedule is None
                else stamp(schedule.start_schedule),
                duration=schedule.duration,
                chargingRateUnit=schedule.charging_rate_unit,
                minChargingRate=None
                if schedule.min_charging_rate is None
                else number(schedule.min_charging_rate),
                chargingSchedulePeriod=[
                    compact(
                        startPeriod=p.start_period,
                        limit=number(p.limit),
                        numberPhases=p.number_phases,
                    )
                    for p in schedule.charging_schedule_period
                ],
            )
        ],
    )


def _start(c: cmd.Start, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "RequestStartTransaction",
        compact(
            # Unique per request, so the TransactionEvent that follows can be matched (F02.FR.01).
            remoteStartId=ctx.request_id,
            idToken=_id_token(c.id_tag, ctx),
            evseId=c.evse_id if c.evse_id is not None else c.connector_id,
            chargingProfile=None
            if c.charging_profile is None
            else charging_profile(c.charging_profile),
        ),
    )


def _stop(c: cmd.Stop, ctx: CommandContext) -> OcppCall:
    return OcppCall("RequestStopTransaction", {"transactionId": c.transaction_id})


def _reset(c: cmd.Reset, ctx: CommandContext) -> OcppCall:
    return OcppCall("Reset", {"type": _RESET_TYPES[c.type]})


def _change_availability(c: cmd.ChangeAvailability, ctx: CommandContext) -> OcppCall:
    evse_id = c.evse_id
    if evse_id is None and c.connector_id is not None:
        raise CommandInvalid("OCPP 2.0.1 names a connector within an EVSE: give evseId too")
    return OcppCall(
        "ChangeAvailability",
        compact(
            operationalStatus=c.type,
            evse=None if not evse_id else _evse(evse_id, c.connector_id),
        ),
    )


def _unlock(c: cmd.UnlockConnector, ctx: CommandContext) -> OcppCall:
    if c.evse_id is None:
        raise CommandInvalid("OCPP 2.0.1 UnlockConnector needs evseId")
    return OcppCall("UnlockConnector", {"evseId": c.evse_id, "connectorId": c.connector_id})


def _set_profile(c: cmd.SetChargingProfile, ctx: CommandContext) -> OcppCall:
    profile = c.charging_profile
    if profile.charging_profile_purpose == "ChargePointMaxProfile" and (
        profile.charging_profile_kind == "Relative"
    ):
        raise CommandInvalid("a ChargingStationMaxProfile cannot be Relative (K01.FR.38)")
    return OcppCall(
        "SetChargingProfile",
        {
            "evseId": c.evse_id,
            "chargingProfile": charging_profile(profile),
        },
    )


def _clear_profile(c: cmd.ClearChargingProfile, ctx: CommandContext) -> OcppCall:
    criteria = compact(
        evseId=c.evse_id,
        chargingProfilePurpose=None
        if c.charging_profile_purpose is None
        else PURPOSES[c.charging_profile_purpose],
        stackLevel=c.stack_level,
    )
    return OcppCall(
        "ClearChargingProfile",
        compact(
            chargingProfileId=c.id,
            chargingProfileCriteria=criteria or None,
        ),
    )


def _composite(c: cmd.GetCompositeSchedule, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "GetCompositeSchedule",
        compact(
            duration=c.duration,
            chargingRateUnit=c.charging_rate_unit,
            evseId=c.evse_id,
        ),
    )


def _update_firmware(c: cmd.UpdateFirmware, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "UpdateFirmware",
        compact(
            requestId=ctx.request_id,
            retries=c.retries,
            retryInterval=c.interval,
            firmware=compact(
                location=c.url,
                retrieveDateTime=stamp(c.retrieve_after or ctx.now),
                signingCertificate=c.signing_certificate,
                signature=c.signature,
            ),
        ),
    )


def _diagnostics(c: cmd.GetDiagnostics, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "GetLog",
        compact(
            logType="DiagnosticsLog",
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


def _trigger(c: cmd.TriggerMessage, ctx: CommandContext) -> OcppCall:
    requested = _TRIGGERABLE.get(c.type)
    if requested is None:
        raise cmd.CommandNotSupported(
            f"OCPP 2.0.1 cannot trigger {c.type}; it can trigger "
            + ", ".join(sorted(set(_TRIGGERABLE.values())))
        )
    if requested == "StatusNotification" and (c.evse_id is None or c.connector_id is None):
        # F06.FR.08/13: the station reports one connector, so it must be told which.
        raise CommandInvalid("triggering a 2.0.1 StatusNotification needs evseId and connectorId")
    return OcppCall(
        "TriggerMessage",
        compact(
            requestedMessage=requested,
            evse=_evse(c.evse_id, c.connector_id),
        ),
    )


def _get_configuration(c: cmd.GetConfiguration, ctx: CommandContext) -> OcppCall:
    if c.keys:
        raise CommandInvalid(
            "OCPP 2.0.1 reads variables: give variables [{component, "
            "variable, instance?, evseId?}] instead of keys"
        )
    if not c.variables:
        # Everything: the station reports its whole device model in NotifyReport parts.
        return OcppCall(
            "GetBaseReport",
            {"requestId": ctx.request_id, "reportBase": "FullInventory"},
            collects_report=ctx.request_id,
        )
    return OcppCall(
        "GetVariables",
        {
            "getVariableData": [
                {
                    "component": compact(name=v.component, evse=_evse(v.evse_id)),
                    "variable": compact(name=v.variable, instance=v.instance),
                }
                for v in c.variables
            ]
        },
    )


def _set_configuration(c: cmd.SetConfiguration, ctx: CommandContext) -> OcppCall:
    if c.component_name is None:
        raise CommandInvalid("OCPP 2.0.1 variables belong to a component: give componentName")
    return OcppCall(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": c.value,
                    "component": compact(name=c.component_name, evse=_evse(c.evse_id)),
                    "variable": compact(name=c.name, instance=c.instance),
                }
            ]
        },
    )


def _reserve(c: cmd.Reserve, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "ReserveNow",
        compact(
            id=c.reservation_id or ctx.request_id,
            expiryDateTime=stamp(c.expiry_date),
            idToken=_id_token(c.id_tag, ctx),
            evseId=c.evse_id if c.evse_id is not None else c.connector_id,
        ),
    )


def _cancel_reservation(c: cmd.CancelReservation, ctx: CommandContext) -> OcppCall:
    return OcppCall("CancelReservation", {"reservationId": c.reservation_id})


def _local_list(c: cmd.SendLocalList, ctx: CommandContext) -> OcppCall:
    entries = []
    for entry in c.id_tags:
        info = entry.id_tag_info
        entries.append(
            compact(
                idToken=_id_token(entry.id_tag, ctx),
                idTokenInfo=None
                if info is None
                else compact(
                    status=info.status,
                    cacheExpiryDateTime=None
                    if info.expiry_date is None
                    else stamp(info.expiry_date),
                    groupIdToken=None
                    if info.parent_id_tag is None
                    else _id_token(info.parent_id_tag, ctx),
                ),
            )
        )
    return OcppCall(
        "SendLocalList",
        compact(
            versionNumber=c.list_version,
            updateType=c.update_type,
            localAuthorizationList=entries or None,
        ),
    )


def _local_list_version(c: cmd.GetLocalListVersion, ctx: CommandContext) -> OcppCall:
    return OcppCall("GetLocalListVersion", {})


def _clear_cache(c: cmd.ClearCache, ctx: CommandContext) -> OcppCall:
    return OcppCall("ClearCache", {})


def _data_transfer(c: cmd.DataTransfer, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "DataTransfer", compact(vendorId=c.vendor_id, messageId=c.message_id, data=c.data)
    )


def _install_certificate(c: cmd.InstallCertificate, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "InstallCertificate",
        {"certificateType": c.certificate_type, "certificate": c.certificate},
    )


def _installed_certificate_ids(c: cmd.GetInstalledCertificateIds, ctx: CommandContext) -> OcppCall:
    # 2.0.1 takes a list; none: every kind the station holds.
    types = None if c.certificate_type is None else [c.certificate_type]
    return OcppCall("GetInstalledCertificateIds", compact(certificateType=types))


def _delete_certificate(c: cmd.DeleteCertificate, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "DeleteCertificate",
        {"certificateHashData": c.certificate_hash_data.model_dump(by_alias=True)},
    )


def _certificate_signed(c: cmd.CertificateSigned, ctx: CommandContext) -> OcppCall:
    return OcppCall(
        "CertificateSigned",
        compact(certificateChain=c.certificate_chain, certificateType=c.certificate_type),
    )


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
    """A05 (upgrade the security profile): the new connection profile into a slot, that slot
    made the only one in NetworkConfigurationPriority, then a reset to connect with it."""
    if c.csms_url is None or c.configuration_slot is None:
        raise CommandInvalid(
            "OCPP 2.0.1 sets a security profile through a network connection profile: "
            "give configurationSlot and csmsUrl (the wss:// URL the station connects to)"
        )
    # Only the new slot: a fallback to a lower profile would be refused anyway (A05.FR.07).
    priority = {
        "setVariableData": [
            {
                "attributeValue": str(c.configuration_slot),
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "NetworkConfigurationPriority"},
            }
        ]
    }
    return OcppCall(
        "SetNetworkProfile",
        {
            "configurationSlot": c.configuration_slot,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": c.csms_url,
                "messageTimeout": c.message_timeout,
                "securityProfile": c.security_profile,
                "ocppInterface": c.ocpp_interface,
            },
        },
        then=(
            OcppCall("SetVariables", priority),
            OcppCall("Reset", {"type": "OnIdle"}),
        ),
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
    if action == "SetVariables":
        # One variable is set per command: its result is the command's status.
        results = response.get("setVariableResult") or [{}]
        status = results[0].get("attributeStatus")
    else:
        status = response.get("status")
    return status if isinstance(status, str) else None
