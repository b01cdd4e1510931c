"""The id-tags that answer chargers' authorisations."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.api.schemas.base import (
    ID_TAG_MAX,
    ApiModel,
    RequestModel,
    Timestamp,
    UtcDatetime,
    optional_field,
)
from csms.domain.models import IdTag, IdTagStatus

__all__ = [
    "IdTagCreate",
    "IdTagOut",
    "IdTagUid",
    "IdTagUpdate",
    "IdTokenType",
    "Label",
]


IdTagUid = Annotated[
    str,
    Field(
        min_length=1,
        max_length=ID_TAG_MAX,
        description=f"The token value, 1 to {ID_TAG_MAX} characters (the 2.0.1 idToken limit; "
        "OCPP 1.6 chargers can only present idTags of up to 20).",
    ),
]
IdTokenType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20,
        description="The 2.0.1 idToken type: ISO14443, ISO15693, Central, eMAID, KeyCode, "
        "MacAddress, Local, NoAuthorization.",
    ),
]
Label = Annotated[str, Field(max_length=255)]


class IdTagOut(ApiModel):
    id_tag_uid: str
    type: str
    status: IdTagStatus
    expire_at: Timestamp | None
    parent_id_tag: str | None
    label: str | None

    @classmethod
    def from_domain(cls, tag: IdTag) -> IdTagOut:
        return cls(
            id_tag_uid=tag.uid,
            type=tag.type,
            status=tag.status,
            expire_at=tag.expire_at,
            parent_id_tag=tag.parent_id_tag,
            label=tag.label,
        )


class IdTagCreate(RequestModel):
    id_tag_uid: IdTagUid
    type: IdTokenType = "Central"
    status: IdTagStatus = IdTagStatus.ENABLED
    expire_at: UtcDatetime | None = None
    parent_id_tag: IdTagUid | None = None
    label: Label | None = None

    def to_domain(self) -> IdTag:
        return IdTag(
            uid=self.id_tag_uid,
            status=self.status,
            type=self.type,
            expire_at=self.expire_at,
            parent_id_tag=self.parent_id_tag,
            label=self.label,
        )


class IdTagUpdate(RequestModel):
    """Only the fields present change; ``expireAt``/``parentIdTag``/``label`` null clears them."""

    type: IdTokenType = optional_field()
    status: IdTagStatus = optional_field()
    expire_at: UtcDatetime | None = None
    parent_id_tag: IdTagUid | None = None
    label: Label | None = None
