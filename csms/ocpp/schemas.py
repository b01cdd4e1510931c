"""Payload validation with the ``ocpp`` library's official JSON schemas, compiled once per action.

fastjsonschema turns each schema into plain Python code (~2 us per payload), which keeps
validating every frame in both directions affordable on the per-frame path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

from csms.ocpp.rpc import ErrorKind, OcppCallError

__all__ = ["V16_SCHEMAS", "SchemaSet", "validation_error_kind"]

Validator = Callable[[Any], Any]

# JSON-schema keyword → the OCPP-J error it means (OCPP-J 1.6 table 7; 2.0.1 part 4 table 8).
_RULE_KINDS = {
    "required": ErrorKind.OCCURRENCE_CONSTRAINT,
    "minItems": ErrorKind.OCCURRENCE_CONSTRAINT,
    "maxItems": ErrorKind.OCCURRENCE_CONSTRAINT,
    "type": ErrorKind.TYPE_CONSTRAINT,
    "additionalProperties": ErrorKind.FORMAT_VIOLATION,
}


def validation_error_kind(error: fastjsonschema.JsonSchemaValueException) -> ErrorKind:
    return _RULE_KINDS.get(error.rule or "", ErrorKind.PROPERTY_CONSTRAINT)


class SchemaSet:
    """The request and response schemas of one OCPP version."""

    def __init__(self, package: str, request_suffix: str) -> None:
        self._folder = resources.files(package) / "schemas"
        self._request_suffix = request_suffix
        self.actions: frozenset[str] = frozenset(
            entry.name.removesuffix(".json").removesuffix(request_suffix)
            for entry in self._folder.iterdir()
            if entry.name.endswith(".json") and not entry.name.endswith("Response.json")
        )

    @cache  # noqa: B019 - a SchemaSet lives as long as the process
    def _compiled(self, file_name: str) -> Validator:
        schema = json.loads((self._folder / file_name).read_text(encoding="utf-8"))
        validator: Validator = fastjsonschema.compile(schema)
        return validator

    def validate_request(self, action: str, payload: Any) -> None:
        self._validate(f"{action}{self._request_suffix}.json", payload)

    def validate_response(self, action: str, payload: Any) -> None:
        self._validate(f"{action}Response.json", payload)

    def _validate(self, file_name: str, payload: Any) -> None:
        try:
            self._compiled(file_name)(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise OcppCallError(validation_error_kind(exc), exc.message) from exc


V16_SCHEMAS = SchemaSet("ocpp.v16", "")
V201_SCHEMAS = SchemaSet("ocpp.v201", "Request")
