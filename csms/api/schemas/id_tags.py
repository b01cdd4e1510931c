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
from csms.domain.models import IdTag, IdTagStatus, NewIdTag

__all__ = [
    "EXTERNAL_ID_MAX",
    "USER_ID_MAX",
    "ExternalId",
    "IdTagCreate",
    "IdTagOut",
    "IdTagUid",
    "IdTagUpdate",
    "IdTokenType",
    "Label",
    "UserId",
]

# userId may well be an e-mail address (up to 254 characters); externalId is a key in another
# system (a CRM or billing record), kept as short as such keys are.
USER_ID_MAX = 255
EXTERNAL_ID_MAX = 64

IdTagUid = Annotated[
    str,
    Field(
        min_length=1,
        max_length=ID_TAG_MAX,
        description=f"The token value, 1 to {ID_TAG_MAX} characters (the 2.0.1 idToken limit; "
        "OCPP 1.6 chargers can only present idTags of up to 20). Matches case-insensitively.",
    ),
]
IdTokenType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20,
        description="The 2.0.1 idToken type: ISO14443, ISO15693, Central, eMAID, KeyCode, "
        "MacAddress, Local, NoAuthorization. A tag with a type matches 2.0.1 tokens of that "
        "value and type only; a tag without one (null: the usual case, a card registered by "
        "its UID) matches the value whatever type the charger presents. Sent to 2.0.1 "
        "chargers as the idToken type (null: Central).",
    ),
]
Label = Annotated[str, Field(max_length=255, description="Free text for operators.")]
UserId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=USER_ID_MAX,
        description=f"The user the token belongs to: free text, 1 to {USER_ID_MAX} characters "
        "(an account id or an e-mail address). Filter with `?userId=`.",
    ),
]
ExternalId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=EXTERNAL_ID_MAX,
        description=f"The token's key in another system (CRM, billing): free text, 1 to "
        f"{EXTERNAL_ID_MAX} characters.",
    ),
]


class IdTagOut(ApiModel):
    id_tag_uid: str
    type: str | None = Field(
        description="The 2.0.1 idToken type; null matches the value whatever type the "
        "charger presents."
    )
    status: IdTagStatus
    expire_at: Timestamp | None
    parent_id_tag: str | None = Field(description="The 1.6 parentIdTag and the 2.0.1 groupIdToken.")
    label: str | None
    user_id: str | None
    external_id: str | None
    created_at: Timestamp = Field(description="When the tag was added (read-only).")
    last_updated_at: Timestamp = Field(
        description="When the tag last changed by PATCH, createdAt until then (read-only)."
    )

    @classmethod
    def from_domain(cls, tag: IdTag) -> IdTagOut:
        return cls(
            id_tag_uid=tag.uid,
            type=tag.type,
            status=tag.status,
            expire_at=tag.expire_at,
            parent_id_tag=tag.parent_id_tag,
            label=tag.label,
            user_id=tag.user_id,
            external_id=tag.external_id,
            created_at=tag.created_at,
            last_updated_at=tag.last_updated_at,
        )


class IdTagCreate(RequestModel):
    id_tag_uid: IdTagUid
    type: IdTokenType | None = None
    status: IdTagStatus = IdTagStatus.ENABLED
    expire_at: UtcDatetime | None = None
    parent_id_tag: IdTagUid | None = None
    label: Label | None = None
    user_id: UserId | None = None
    external_id: ExternalId | None = None

    def to_domain(self) -> NewIdTag:
        return NewIdTag(
            uid=self.id_tag_uid,
            status=self.status,
            type=self.type,
            expire_at=self.expire_at,
            parent_id_tag=self.parent_id_tag,
            label=self.label,
            user_id=self.user_id,
            external_id=self.external_id,
        )


class IdTagUpdate(RequestModel):
    """Only the fields present change; ``null`` clears a nullable field (``type: null`` makes
    the tag match any 2.0.1 type). Every PATCH sets ``lastUpdatedAt``."""

    type: IdTokenType | None = None
    status: IdTagStatus = optional_field()
    expire_at: UtcDatetime | None = None
    parent_id_tag: IdTagUid | None = None
    label: Label | None = None
    user_id: UserId | None = None
    external_id: ExternalId | None = None
