"""Which answer an idTag gets: a pure rule over the id-tags table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csms.domain.models import IdTag, IdTagStatus

__all__ = ["Authorization", "AuthorizationStatus", "decide"]


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


def decide(tag: IdTag | None, now: datetime) -> Authorization:
    if tag is None:
        return Authorization(AuthorizationStatus.INVALID)
    if tag.status is not IdTagStatus.ENABLED:
        status = AuthorizationStatus.BLOCKED
    elif tag.expire_at is not None and tag.expire_at <= now:
        status = AuthorizationStatus.EXPIRED
    else:
        status = AuthorizationStatus.ACCEPTED
    return Authorization(status, tag.expire_at, tag.parent_id_tag, tag.type)
