"""OCPP 1.6J messages from charge points → version-neutral service calls.

Payloads arrive already validated against the 1.6 schema, so handlers read required fields
directly. Every handler returns only after its state change is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from csms.domain.authorization import Authorization
from csms.domain.charger_events import SECURITY_EVENT, STATUS_ERROR, is_connector_error
from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.models import BootInfo, ConnectorState, MeterSample
from csms.domain.transactions import TransactionStart, TransactionStop
from csms.ocpp.connection import ChargerContext, Handler
from csms.services.authorization import AuthorizationService
from csms.services.certificates import CertificateService, SigningOutcome
from csms.services.chargers import ChargerService
from csms.services.reports import ReportService
from csms.services.transactions import TransactionService

__all__ = ["ALLOWED_BEFORE_BOOT", "V16Handlers", "id_tag_info", "meter_samples"]

# OCPP 1.6 §4.2 / OCPP-J errata 3.8: before its boot is accepted a charge point sends nothing else.
ALLOWED_BEFORE_BOOT = frozenset({"BootNotification"})


def id_tag_info(authorization: Authorization) -> dict[str, Any]:
    info: dict[str, Any] = {"status": authorization.status.value}
    if authorization.expire_at is not None:
        info["expiryDate"] = format_timestamp(authorization.expire_at)
    if authorization.parent_id_tag is not None:
        info["parentIdTag"] = authorization.parent_id_tag
    return info


def meter_samples(meter_values: list[dict[str, Any]]) -> list[MeterSample]:
    """1.6 MeterValue[] → samples, with the spec's defaults (§7.45 SampledValue) filled in."""
    samples = []
    for meter_value in meter_values:
        timestamp = parse_timestamp(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            samples.append(
                MeterSample(
                    timestamp=timestamp,
                    value=sampled["value"],
                    measurand=sampled.get("measurand", "Energy.Active.Import.Register"),
                    unit=sampled.get("unit", "Wh"),
                    context=sampled.get("context", "Sample.Periodic"),
                    location=sampled.get("location", "Outlet"),
                    phase=sampled.get("phase"),
                    format=sampled.get("format", "Raw"),
                )
            )
    return samples


def _optional_str(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) else None


class V16Handlers:
    def __init__(
        self,
        chargers: ChargerService,
        authorization: AuthorizationService,
        transactions: TransactionService,
        reports: ReportService,
        certificates: CertificateService,
        *,
        follow_up_timeout: float,
    ) -> None:
        self._chargers = chargers
        self._authorization = authorization
        self._transactions = transactions
        self._reports = reports
        self._certificates = certificates
        self._follow_up_timeout = follow_up_timeout

    def table(self) -> dict[str, Handler]:
        """The whole of OCPP 1.6 as this central system receives it."""
        return {
            "BootNotification": self.boot_notification,
            "Heartbeat": self.heartbeat,
            "StatusNotification": self.status_notification,
            "Authorize": self.authorize,
            "StartTransaction": self.start_transaction,
            "StopTransaction": self.stop_transaction,
            "MeterValues": self.meter_values,
            "DataTransfer": self.data_transfer,
            "FirmwareStatusNotification": self.firmware_status_notification,
            "DiagnosticsStatusNotification": self.diagnostics_status_notification,
            # Security extension (1.6 security white paper) notifications.
            "SecurityEventNotification": self.security_event_notification,
            "SignedFirmwareStatusNotification": self.firmware_status_notification,
            "LogStatusNotification": self.diagnostics_status_notification,
            "SignCertificate": self.sign_certificate,
        }

    async def boot_notification(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        boot_info = BootInfo(
            vendor=p["chargePointVendor"],
            model=p["chargePointModel"],
            serial_number=_optional_str(p, "chargePointSerialNumber")
            or _optional_str(p, "chargeBoxSerialNumber"),
            firmware_version=_optional_str(p, "firmwareVersion"),
            iccid=_optional_str(p, "iccid"),
            imsi=_optional_str(p, "imsi"),
            meter_type=_optional_str(p, "meterType"),
            meter_serial_number=_optional_str(p, "meterSerialNumber"),
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
        connector_id = p["connectorId"]
        timestamp = p.get("timestamp")
        state = ConnectorState(
            evse_id=connector_id,
            connector_id=connector_id,
            status=p["status"],
            error_code=p["errorCode"],
            updated_at=parse_timestamp(timestamp) if timestamp else self._chargers.now(),
            info=_optional_str(p, "info"),
            vendor_error_code=_optional_str(p, "vendorErrorCode"),
        )
        await self._chargers.connector_status(ctx.charge_point_id, state)
        # An error is also an event (GET .../events): one more write, only when there is one,
        # after the status (a retry after a failure here records the status again, harmlessly).
        if is_connector_error(state.error_code, state.vendor_error_code):
            await self._reports.record(ctx.charge_point_id, STATUS_ERROR, p, state.updated_at)
        return {}

    async def authorize(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        authorization = await self._authorization.authorize(p["idTag"])
        return {"idTagInfo": id_tag_info(authorization)}

    async def start_transaction(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        # Re-verified even when the charger authorised locally; answered with an id whatever the
        # verdict (OCPP 1.6 §4.8), so the charger can report the stop of a refused session.
        authorization = await self._authorization.authorize(p["idTag"])
        connector_id = p["connectorId"]
        transaction = await self._transactions.start(
            TransactionStart(
                charge_point_id=ctx.charge_point_id,
                evse_id=connector_id,
                connector_id=connector_id,
                id_tag=p["idTag"],
                started_at=parse_timestamp(p["timestamp"]),
                meter_start_wh=float(p["meterStart"]),
                reservation_id=p.get("reservationId"),
            )
        )
        return {
            "transactionId": int(transaction.transaction_id),
            "idTagInfo": id_tag_info(authorization),
        }

    async def stop_transaction(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        id_tag = _optional_str(p, "idTag")
        await self._transactions.stop(
            TransactionStop(
                charge_point_id=ctx.charge_point_id,
                transaction_id=str(p["transactionId"]),
                stopped_at=parse_timestamp(p["timestamp"]),
                meter_stop_wh=float(p["meterStop"]),
                reason=p.get("reason", "Local"),
                id_tag=id_tag,
            ),
            meter_samples(p.get("transactionData", [])),
        )
        if id_tag is None:
            return {}
        return {"idTagInfo": id_tag_info(await self._authorization.authorize(id_tag))}

    async def meter_values(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        connector_id = p["connectorId"]
        transaction_id = p.get("transactionId")
        await self._transactions.meter_values(
            ctx.charge_point_id,
            connector_id,
            connector_id,
            None if transaction_id is None else str(transaction_id),
            meter_samples(p["meterValue"]),
        )
        return {}

    async def data_transfer(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        # No vendor extension is implemented; Accepted would claim we handled it (OCPP 1.6 §4.3).
        return {"status": "UnknownVendorId"}

    async def firmware_status_notification(
        self, ctx: ChargerContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._chargers.firmware_status(ctx.charge_point_id, p["status"])
        return {}

    async def diagnostics_status_notification(
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

    async def sign_certificate(self, ctx: ChargerContext, p: dict[str, Any]) -> dict[str, Any]:
        # Security extension: signed before the answer, so Accepted is only said when the
        # certificate exists; it follows as a CertificateSigned call of its own.
        outcome = await self._certificates.sign(ctx.charge_point_id, p["csr"])
        if outcome.chain is None:
            return {"status": "Rejected"}
        ctx.after_reply(self._certificate_signed(ctx, outcome))
        return {"status": "Accepted"}

    def _certificate_signed(
        self, ctx: ChargerContext, outcome: SigningOutcome
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        async def send() -> None:
            answer = await ctx.call(
                "CertificateSigned",
                {"certificateChain": outcome.chain},
                self._follow_up_timeout,
            )
            self._certificates.delivered(ctx.charge_point_id, outcome.serial, answer.get("status"))

        return send
