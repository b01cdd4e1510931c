"""Every integer an operator command carries fits OCPP's 32-bit integer, so that a value a
charger cannot hold and a store column cannot keep is a 422 naming the field, never an internal
error after the call (PostgreSQL's integer overflows at 2^31)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from csms.domain import commands as cmd


def _integers(schema: dict[str, Any], defs: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    """(path, schema) of every integer in a JSON schema, through $refs, arrays and unions."""
    if "$ref" in schema:
        return _integers(defs[schema["$ref"].rsplit("/", 1)[1]], defs, path)
    found: list[tuple[str, Any]] = []
    if schema.get("type") == "integer":
        found.append((path, schema))
    for option in schema.get("anyOf", []):
        found += _integers(option, defs, path)
    if "items" in schema:
        found += _integers(schema["items"], defs, path + "[]")
    for name, prop in schema.get("properties", {}).items():
        found += _integers(prop, defs, f"{path}.{name}")
    return found


@pytest.mark.parametrize("action", sorted(cmd.COMMANDS))
def test_every_integer_of_an_action_is_bounded_by_ocpps_integer(action: str) -> None:
    schema = cmd.COMMANDS[action].model_json_schema(by_alias=True)
    for path, integer in _integers(schema, schema.get("$defs", {}), action):
        assert integer.get("maximum", 2**63) <= cmd.OCPP_INT_MAX, path


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("reserve", {"idTag": "T", "expiryDate": "2030-01-01T00:00:00Z",
                     "reservationId": 2**31}, "reservationId"),
        ("cancel-reservation", {"reservationId": 2**31}, "reservationId"),
        ("unlock-connector", {"connectorId": 2**31}, "connectorId"),
        ("get-composite-schedule", {"evseId": 1, "duration": 2**63}, "duration"),
    ],
)  # fmt: skip
def test_a_value_beyond_ocpps_integer_is_invalid_naming_the_field(
    action: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        cmd.COMMANDS[action].model_validate(body)
    assert field in str(raised.value)
