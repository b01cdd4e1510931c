"""The command map is exhaustive: every API action is translated for every version, or refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csms.domain import commands as cmd
from csms.domain.commands import CommandContext
from csms.ocpp.dispatch import TRANSLATIONS, CommandDispatcher
from csms.ocpp.sessions import SessionRegistry

# Actions that are not an OCPP call in any version.
NOT_A_CALL = {cmd.Disconnect}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_every_command_has_a_translation(version: str) -> None:
    wanted = set(cmd.COMMANDS.values()) - NOT_A_CALL
    assert wanted <= set(TRANSLATIONS[version]), wanted - set(TRANSLATIONS[version])


def test_translations_are_valid_for_the_charger_schema() -> None:
    """Every translation passes the target version's own schema (translate validates)."""
    dispatcher = CommandDispatcher(SessionRegistry())
    ctx = CommandContext(request_id=7, now=datetime(2026, 1, 1, tzinfo=UTC))
    bodies: dict[type[cmd.Command], dict[str, object]] = {
        cmd.Start: {"idTag": "T", "evseId": 1},
        cmd.Stop: {"transactionId": "5"},
        cmd.Reset: {"type": "Hard"},
        cmd.ChangeAvailability: {"type": "Inoperative", "evseId": 1},
        cmd.UnlockConnector: {"evseId": 1, "connectorId": 1},
        cmd.SetChargingProfile: {
            "evseId": 0,
            "chargingProfile": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "ChargePointMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}],
                },
            },
        },
        cmd.ClearChargingProfile: {},
        cmd.GetCompositeSchedule: {"evseId": 1, "duration": 60},
        cmd.UpdateFirmware: {"url": "https://x/fw.bin"},
        cmd.GetDiagnostics: {"location": "ftp://x/"},
        cmd.TriggerMessage: {"type": "Heartbeat"},
        cmd.GetConfiguration: {},
        cmd.SetConfiguration: {
            "name": "HeartbeatInterval",
            "value": "60",
            "componentName": "OCPPCommCtrlr",
        },
        cmd.Reserve: {"idTag": "T", "expiryDate": "2030-01-01T00:00:00Z", "evseId": 1},
        cmd.CancelReservation: {"reservationId": 3},
        cmd.SendLocalList: {"listVersion": 1, "updateType": "Full", "idTags": [{"idTag": "T"}]},
        cmd.GetLocalListVersion: {},
        cmd.ClearCache: {},
        cmd.DataTransfer: {"vendorId": "v", "data": {"any": "json"}},
        cmd.InstallCertificate: {"certificateType": "CSMSRootCertificate", "certificate": "PEM"},
        cmd.GetInstalledCertificateIds: {"certificateType": "ManufacturerRootCertificate"},
        cmd.DeleteCertificate: {
            "certificateHashData": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "aa",
                "issuerKeyHash": "bb",
                "serialNumber": "1f",
            }
        },
        cmd.CertificateSigned: {"certificateChain": "PEM"},
        cmd.GetSecurityLog: {"location": "ftp://x/"},
        cmd.SetSecurityProfile: {"securityProfile": 2},
    }
    # 2.0.1 sets a security profile through a network connection profile, which 1.6 lacks.
    only_201: dict[type[cmd.Command], dict[str, object]] = {
        cmd.SetSecurityProfile: {
            "securityProfile": 3,
            "configurationSlot": 2,
            "csmsUrl": "wss://csms.example/ocpp",
        }
    }
    assert set(bodies) == set(cmd.COMMANDS.values()) - NOT_A_CALL
    for version in ("1.6", "2.0.1"):
        for command_type, body in bodies.items():
            if version == "2.0.1":
                body = only_201.get(command_type, body)
            call = dispatcher.translate(version, command_type.model_validate(body), ctx)
            assert call.action and isinstance(call.payload, dict)
