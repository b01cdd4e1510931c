"""OCPP 2.0.1 messages from charging stations → version-neutral service calls.

Payloads arrive already validated against the 2.0.1 schema. Every handler returns only after its
state change is committed; TransactionEvent is never refused (J02.FR.19), whatever it says.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from csms.domain.authorization import Authorization
from csms.domain.certificates import boot_serial_problem
from csms.domain.charger_events import NOTIFY_EVENT, SECURITY_EVENT
from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.metering import energy_register_wh
from csms.domain.models import (
    BootInfo,
    ConnectorState,
    DeviceVariable,
    MeterSample,
)
from csms.domain.transactions import TransactionEvent
from csms.log import get_logger
from csms.ocpp.connection import ChargerContext, Handler
from csms.ocpp.rpc import CloseAfterError, ErrorKind
from csms.services.authorization import AuthorizationService
from csms.services.certificates import CertificateService, SigningOutcome
from csms.services.charger_state import ChargerStateService
from csms.services.chargers import ChargerService
from csms.services.reports import ReportService
from csms.services.transactions import TransactionService

__all__ = [
    "ALLOWED_BEFORE_BOOT",
    "STORED_REPORTS",
    "V201Handlers",
    "id_token_info",
    "meter_samples",
]

log = get_logger(__name__)

# B01.FR.10 / B02.FR.09: before its boot is accepted a station may send BootNotification only
# (and what the CSMS itself asks for while Pending: the report parts of GetBaseReport/GetReport).
ALLOWED_BEFORE_BOOT = frozenset({"BootNotification", "NotifyReport", "NotifyMonitoringReport"})

# Reports kept whole (charger_reports), by action → kind (NotifyEvent: one per event, below).
STORED_REPORTS = {
    "NotifyChargingLimit": "charging_limit",
    "ClearedChargingLimit": "charging_limit_cleared",
    "ReportChargingProfiles": "charging_profiles",
    "NotifyEVChargingSchedule": "ev_charging_schedule",
    "NotifyMonitoringReport": "monitoring_report",
    "NotifyCustomerInformation": "customer_information",
    "NotifyDisplayMessages": "display_messages",
    "PublishFirmwareStatusNotification": "publish_firmware_status",
}


def id_token_info(authorization: Authorization) -> dict[str, Any]:
    info: dict[str, Any] = {"status": authorization.status.value}
    if authorization.expire_at is not None:
        info["cacheExpiryDateTime"] = format_timestamp(authorization.expire_at)
    if authorization.parent_id_tag is not None:
        info["groupIdToken"] = {"idToken": authorization.parent_id_tag, "type": "Central"}
    return info


def _unit(sampled: dict[str, Any]) -> tuple[str, float]:
    unit_of_measure = sampled.get("unitOfMeasure", {})
    return unit_of_measure.get("unit", "Wh"), 10.0 ** unit_of_measure.get("multiplier", 0)


def meter_samples(meter_values: list[dict[str, Any]]) -> list[MeterSample]:
    """2.0.1 MeterValue[] → samples, defaults filled in, the unit multiplier applied."""
    samples = []
    for meter_value in meter_values:
        timestamp = parse_timestamp(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            unit, scale = _unit(sampled)
            value = sampled["value"] * scale
            samples.append(
                MeterSample(
                    timestamp=timestamp,
                    value=repr(float(value)) if scale != 1.0 else str(sampled["value"]),
                    measurand=sampled.get("measurand", "Energy.Active.Import.Register"),
                    unit=unit,
                    context=sampled.get("context", "Sample.Periodic"),
                    location=sampled.get("location", "Outlet"),
                    phase=sampled.get("phase"),
                    format="SignedData" if "signedMeterValue" in sampled else "Raw",
                )
            )
    return samples


def _device_variables(report_data: list[dict[str, Any]]) -> list[DeviceVariable]:
    variables = []
    for item in report_data:
        component, variable = item["component"], item["variable"]
        evse = component.get("evse") or {}
        characteristics = item.get("variableCharacteristics") or {}
        for attribute in item["variableAttribute"]:
            variables.append(
                DeviceVariable(
                    component=component["name"],
                    component_instance=component.get("instance"),
                    evse_id=evse.get("id"),
                    connector_id=evse.get("connectorId"),
                    variable=variable["name"],
                    variable_instance=variable.get("instance"),
                    attribute_type=attribute.get("type", "Actual"),
                    value=attribute.get("value"),
                    mutability=attribute.get("mutability"),
                    persistent=attribute.get("persistent"),
                    constant=attribute.get("constant"),
                    data_type=characteristics.get("dataType"),
                    unit=characteristics.get("unit"),
                    min_limit=characteristics.get("minLimit"),
                    max_limit=characteristics.get("maxLimit"),
                    values_list=characteristics.get("valuesList"),
                )
            )
    return variables


class V201Handlers:
    def __init__(
        self,
        chargers: ChargerService,
        authorization: AuthorizationService,
        transactions: TransactionService,
        reports: ReportService,
        state: ChargerStateService,
        certificates: CertificateService,
        *,
        follow_up_timeout: float,
    ) -> None:
        self._state = state
        self._certificates = certificates
        self._chargers = chargers
        self._authorization = authorization
        self._transactions = transactions
        self._reports = reports
        self._follow_up_timeout = follow_up_timeout

    def table(self) -> dict[str, Handler]:
        """The whole of OCPP 2.0.1 as this central system receives it."""
        table: dict[str, Handler] = {
            "BootNotification": self.boot_notification,
            "Heartbeat": self.heartbeat,
            "StatusNotification": self.status_notification,
            "Authorize": self.authorize,
            "TransactionEvent": self.transaction_event,
            "MeterValues": self.meter_values,
            "NotifyReport": self.notify_report,
            "NotifyEvent": self.notify_event,
            "FirmwareStatusNotification": self.firmware_status_notification,
            "LogStatusNotification": self.log_status_notification,
            "SecurityEventNotification": self.security_event_notification,
            "DataTransfer": self.data_transfer,
            "NotifyEVChargingNeeds": self.notify_ev_charging_needs,
            "ReservationStatusUpdate": self.reservation_status_update,
            "SignCertificate": self.sign_certificate,
            # Get15118EVCertificate and GetCertificateStatus (ISO 15118 contract certificates and
            # their OCSP status) stay out: answered NotSupported, no V2G PKI is behind this CSMS.
        }
        for action, kind in STORED_REPORTS.items():
            table[action] = self._stored_report(kind)
        return table

    async def boot_notification(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        station = p["chargingStation"]
        # B01.FR.11/12: at profile 3 the serialNumber must be the one the client certificate
        # names, else the connection is closed; nothing of the boot is kept, since its report
        # cannot be trusted. Here, not per frame: BootNotification is the only message with it.
        problem = boot_serial_problem(ctx.certificate, station.get("serialNumber"))
        if problem is not None:
            await self._certificates.contradicted(ctx.charge_point_id, problem)
            raise CloseAfterError(
                ErrorKind.SECURITY_ERROR,
                problem,
                "serialNumber does not match the client certificate",
            )
        modem = station.get("modem") or {}
        boot_info = BootInfo(
            vendor=station["vendorName"],
            model=station["model"],
            serial_number=station.get("serialNumber"),
            firmware_version=station.get("firmwareVersion"),
            iccid=modem.get("iccid"),
            imsi=modem.get("imsi"),
        )
        decision = await self._chargers.boot(ctx.charge_point_id, ctx.ocpp_version, boot_info)
        ctx.boot_accepted = decision.status == "Accepted"
        return {
            "status": decision.status,
            "currentTime": format_timestamp(decision.current_time),
            "interval": decision.interval,
        }

    async def heartbeat(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": format_timestamp(self._chargers.now())}

    async def status_notification(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        await self._chargers.connector_status(
            ctx.charge_point_id,
            ConnectorState(
                evse_id=p["evseId"],
                connector_id=p["connectorId"],
                status=p["connectorStatus"],
                error_code=None,
                updated_at=parse_timestamp(p["timestamp"]),
            ),
        )
        return {}

    async def authorize(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        token = p["idToken"]
        authorization = await self._authorization.authorize(token["idToken"], token["type"])
        return {"idTokenInfo": id_token_info(authorization)}

    async def transaction_event(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        info = p["transactionInfo"]
        evse = p.get("evse") or {}
        token = p.get("idToken")
        samples = meter_samples(p.get("meterValue", []))
        outcome = await self._transactions.record_event(
            TransactionEvent(
                charge_point_id=ctx.charge_point_id,
                transaction_id=info["transactionId"],
                event_type=p["eventType"],
                seq_no=p["seqNo"],
                timestamp=parse_timestamp(p["timestamp"]),
                trigger_reason=p["triggerReason"],
                offline=p.get("offline", False),
                evse_id=evse.get("id"),
                connector_id=evse.get("connectorId"),
                id_tag=None if token is None else token["idToken"],
                charging_state=info.get("chargingState"),
                stopped_reason=info.get("stoppedReason"),
                remote_start_id=info.get("remoteStartId"),
                reservation_id=p.get("reservationId"),
                energy_register_wh=energy_register_wh(samples),
            ),
            samples,
        )
        if outcome.missing_seq_nos and not outcome.duplicate:
            # E14: before taking the gap for lost data, ask the station what it still holds.
            ctx.after_reply(self._ask_transaction_status(ctx, info["transactionId"]))
        if token is None:
            return {}
        # Verified on every event that carries a token (E01.FR.11); a refusal makes the station
        # deauthorise, which is its business, not a reason to refuse the event.
        authorization = await self._authorization.authorize(token["idToken"], token["type"])
        return {"idTokenInfo": id_token_info(authorization)}

    def _ask_transaction_status(
        self, ctx: ChargerContext, transaction_id: str
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        async def ask() -> None:
            status = await ctx.call(
                "GetTransactionStatus",
                {"transactionId": transaction_id},
                self._follow_up_timeout,
            )
            log.info(
                "transaction status after a seqNo gap",
                charge_point_id=ctx.charge_point_id,
                transaction_id=transaction_id,
                messages_in_queue=status.get("messagesInQueue"),
                ongoing=status.get("ongoingIndicator"),
            )

        return ask

    async def meter_values(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        await self._transactions.meter_values(
            ctx.charge_point_id, p["evseId"], 0, None, meter_samples(p["meterValue"])
        )
        return {}

    async def notify_report(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        await self._reports.device_model_part(
            ctx.charge_point_id,
            request_id=p["requestId"],
            seq_no=p["seqNo"],
            more_to_come=p.get("tbc", False),
            variables=_device_variables(p.get("reportData", [])),
        )
        return {}

    async def notify_event(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        # Each EventData on its own, at its own time, so that events page and filter by time
        # one by one; the message's generatedAt and seqNo go beside each one's fields.
        message = {"generatedAt": p["generatedAt"], "seqNo": p["seqNo"]}
        parts = [
            (parse_timestamp(event["timestamp"]), {**event, **message}) for event in p["eventData"]
        ]
        await self._reports.record_parts(ctx.charge_point_id, NOTIFY_EVENT, parts, p)
        return {}

    async def firmware_status_notification(
        self, ctx: ChargerContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._chargers.firmware_status(ctx.charge_point_id, p["status"])
        return {}

    async def log_status_notification(
        self, ctx: ChargerContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._chargers.diagnostics_status(ctx.charge_point_id, p["status"])
        return {}

    async def security_event_notification(
        self, ctx: ChargerContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._reports.record(
            ctx.charge_point_id, SECURITY_EVENT, p, parse_timestamp(p["timestamp"])
        )
        return {}

    async def data_transfer(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        # No vendor extension is implemented; Accepted would claim we handled it (P02).
        return {"status": "UnknownVendorId"}

    async def notify_ev_charging_needs(
        self, ctx: ChargerContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._reports.record(ctx.charge_point_id, "ev_charging_needs", p)
        # No ISO 15118 schedule will follow from us: "Rejected" is the honest answer (K15).
        return {"status": "Rejected"}

    async def reservation_status_update(
        self, ctx: ChargerContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._reports.record(ctx.charge_point_id, "reservation_status", p)
        # Expired | Removed: the station has ended the reservation (H01, H04).
        await self._state.reservation_ended(
            ctx.charge_point_id, p["reservationId"], p["reservationUpdateStatus"].lower()
        )
        return {}

    async def sign_certificate(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        certificate_type = p.get("certificateType", "ChargingStationCertificate")
        if certificate_type != "ChargingStationCertificate":
            # A V2GCertificate is ISO 15118's, signed by a V2G PKI this CSMS is not part of.
            return {
                "status": "Rejected",
                "statusInfo": {
                    "reasonCode": "NotSupported",
                    "additionalInfo": "this CSMS signs ChargingStationCertificate CSRs only",
                },
            }
        # Signed before the answer (A02), so Accepted is only said when the certificate exists;
        # it follows as a CertificateSigned call of its own once the answer is out.
        outcome = await self._certificates.sign(ctx.charge_point_id, p["csr"])
        if outcome.chain is None:
            return {
                "status": "Rejected",
                "statusInfo": {
                    "reasonCode": "InvalidCSR",
                    "additionalInfo": (outcome.reason or "")[:512],
                },
            }
        ctx.after_reply(self._certificate_signed(ctx, outcome))
        return {"status": "Accepted"}

    def _certificate_signed(
        self, ctx: ChargerContext, outcome: SigningOutcome
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        async def send() -> None:
            answer = await ctx.call(
                "CertificateSigned",
                {
                    "certificateChain": outcome.chain,
                    "certificateType": "ChargingStationCertificate",
                },
                self._follow_up_timeout,
            )
            self._certificates.delivered(ctx.charge_point_id, outcome.serial, answer.get("status"))

        return send

    def _stored_report(self, kind: str) -> Handler:
        async def store(ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
            await self._reports.record(ctx.charge_point_id, kind, p)
            if kind == "ev_charging_schedule":
                return {"status": "Accepted"}
            return {}

        return store
