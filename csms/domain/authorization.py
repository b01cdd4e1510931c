"""Which answer an idTag gets and which type the CSMS sends for it: pure rules over id-tags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csms.domain.models import IdTag, IdTagStatus

__all__ = [
    "CENTRAL_TOKEN_TYPE",
    "Authorization",
    "AuthorizationStatus",
    "decide",
    "matches",
    "token_type_to_send",
]

CENTRAL_TOKEN_TYPE = "Central"
"""The 2.0.1 idToken type of a token the CSMS itself issues (OCPP 2.0.1 IdTokenEnumType)."""


class AuthorizationStatus(StrEnum):
    """Statuses common to 1.6 AuthorizationStatus and 2.0.1 AuthorizationStatusEnumType."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


@dataclass(frozen=True, slots=True)
class Authorization:
    status: AuthorizationStatus
    expire_at: datetime | None = None
    parent_id_tag: str | None = None
    token_type: str | None = None


def matches(tag: IdTag, presented_type: str | None) -> bool:
    """Whether ``tag`` is the record for a token of its value presented with ``presented_type``.

    ``presented_type`` is the 2.0.1 idToken type, None for a 1.6 idTag (which has none). A record
    without a type is how an operator registers a card by its UID; the reader will present it as
    ISO14443 or ISO15693, an app as Central, so the value alone decides. A record with a type
    was meant for that type only (an eMAID and a KeyCode may share a value).
    """
    return tag.type is None or presented_type is None or tag.type == presented_type


def decide(tag: IdTag | None, now: datetime, presented_type: str | None = None) -> Authorization:
    """The answer to a token: ``tag`` is the record of its value, if any (API.md: unknown →
    Invalid, disabled or blocked → Blocked, expired → Expired, else Accepted)."""
    if tag is None or not matches(tag, presented_type):
        return Authorization(AuthorizationStatus.INVALID)
    if tag.status is not IdTagStatus.ENABLED:
        status = AuthorizationStatus.BLOCKED
    elif tag.expire_at is not None and tag.expire_at <= now:
        status = AuthorizationStatus.EXPIRED
    else:
        status = AuthorizationStatus.ACCEPTED
    return Authorization(status, tag.expire_at, tag.parent_id_tag, tag.type)


def token_type_to_send(tag: IdTag | None) -> str:
    """The idToken type the CSMS sends a 2.0.1 charger for an idTag (RequestStartTransaction,
    ReserveNow, SendLocalList): the record's type, else Central (API.md, Commands)."""
    if tag is None or tag.type is None:
        return CENTRAL_TOKEN_TYPE
    return tag.type
