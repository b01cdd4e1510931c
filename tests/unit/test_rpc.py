from __future__ import annotations

import json

import pytest

from csms.ocpp.rpc import ErrorKind, OcppCallError, call_error_frame, error_code
from csms.ocpp.schemas import V16_SCHEMAS


def test_1_6_keeps_the_specs_misspellings() -> None:
    assert error_code(ErrorKind.FORMAT_VIOLATION, "1.6") == "FormationViolation"
    assert error_code(ErrorKind.OCCURRENCE_CONSTRAINT, "1.6") == "OccurenceConstraintViolation"
    assert error_code(ErrorKind.FORMAT_VIOLATION, "2.0.1") == "FormatViolation"
    assert error_code(ErrorKind.OCCURRENCE_CONSTRAINT, "2.0.1") == "OccurrenceConstraintViolation"
    v16_codes = {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    }
    assert {error_code(kind, "1.6") for kind in ErrorKind} <= v16_codes


def test_call_error_frame_has_object_details_and_bounded_description() -> None:
    frame = json.loads(call_error_frame("id-1", "GenericError", "x" * 300))
    assert frame[0] == 4 and frame[1] == "id-1" and frame[4] == {}
    assert len(frame[3]) == 255


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({}, ErrorKind.OCCURRENCE_CONSTRAINT),
        ({"idTag": 5}, ErrorKind.TYPE_CONSTRAINT),
        ({"idTag": "x" * 21}, ErrorKind.PROPERTY_CONSTRAINT),
        ({"idTag": "x", "extra": 1}, ErrorKind.FORMAT_VIOLATION),
    ],
)
def test_schema_violations_map_to_ocpp_errors(payload: dict[str, object], kind: ErrorKind) -> None:
    with pytest.raises(OcppCallError) as raised:
        V16_SCHEMAS.validate_request("Authorize", payload)
    assert raised.value.kind is kind


def test_charging_limits_with_one_decimal_validate() -> None:
    """multipleOf 0.1 must not fail on floats like 21.4 (a classic float-division trap)."""
    V16_SCHEMAS.validate_request(
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}],
                },
            },
        },
    )
