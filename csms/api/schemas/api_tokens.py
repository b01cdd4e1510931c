"""Operator API tokens (admin-only): the record, never the hash; the token once, on create."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.api.schemas.base import ApiModel, RequestModel, Timestamp, UtcDatetime
from csms.domain.models import ApiToken, Role, TokenSource

__all__ = ["ApiTokenCreate", "ApiTokenCreated", "ApiTokenOut", "CallerOut", "TokenLabel"]

TokenLabel = Annotated[str, Field(min_length=1, max_length=255)]


class ApiTokenOut(ApiModel):
    id: str = Field(examples=["tok_3f9a0c2d7e1b4a5c6d8e9f01"])
    role: Role
    label: str | None
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None = Field(
        description="When the token was last accepted (null until then); may lag up to a minute "
        "behind in other processes and after a restart."
    )
    source: TokenSource = Field(
        description="`config` (the config file: removing it there deletes it at the next "
        "start), `cli` (`csms token create`) or `api`."
    )

    @classmethod
    def from_domain(cls, token: ApiToken) -> ApiTokenOut:
        return cls(
            id=token.id,
            role=token.role,
            label=token.label,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            source=token.source,
        )


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(
        description="The bearer token. Shown only in this answer: it is stored hashed."
    )

    @classmethod
    def with_token(cls, record: ApiToken, token: str) -> ApiTokenCreated:
        return cls(**ApiTokenOut.from_domain(record).model_dump(), token=token)


class ApiTokenCreate(RequestModel):
    role: Role
    label: TokenLabel | None = None
    expires_at: UtcDatetime | None = Field(
        default=None, description="When the token stops working (in the future); null: never."
    )


class CallerOut(ApiModel):
    """The token that made the request, as it may know itself (``GET /me``): never its hash,
    nor when it was last used."""

    id: str = Field(examples=["tok_3f9a0c2d7e1b4a5c6d8e9f01"])
    role: Role = Field(
        description="`viewer` (reads only), `operator` (everything but the admin-only routes) "
        "or `admin`."
    )
    label: str | None
    expires_at: Timestamp | None

    @classmethod
    def from_domain(cls, token: ApiToken) -> CallerOut:
        return cls(id=token.id, role=token.role, label=token.label, expires_at=token.expires_at)
