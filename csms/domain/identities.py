"""Charge point identities: OCPP's identifierString (2.0.1 Part 2 §2.1; we hold 1.6 chargers to
the same), 1 to 48 characters of ``A-Za-z0-9*-_=:+|@.``.

Checked wherever an identity enters (the charger's URL, the API, the command line), so that
nothing else (a ``/`` from ``%2F``, a NUL, a newline) ever reaches the store or a log line.
"""

from __future__ import annotations

import re

from csms.domain.errors import Invalid

__all__ = ["IDENTITY_PATTERN", "MAX_IDENTITY", "check_identity", "is_identity"]

MAX_IDENTITY = 48
IDENTITY_PATTERN = r"^[A-Za-z0-9*\-_=:+|@.]{1,48}$"
"""For schemas (pydantic, OpenAPI): the same rule as ``is_identity``."""

_IDENTITY = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{1,48}")


def is_identity(text: str) -> bool:
    return _IDENTITY.fullmatch(text) is not None


def check_identity(text: str, field: str = "id") -> str:
    if not is_identity(text):
        raise Invalid(
            field,
            f"must be 1 to {MAX_IDENTITY} characters of A-Z a-z 0-9 * - _ = : + | @ . "
            "(OCPP identifierString)",
        )
    return text
