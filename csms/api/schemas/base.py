"""What every body shares: the model configurations, timestamps, envelopes, paging, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic.fields import ComputedFieldInfo, FieldInfo

from csms.domain.clock import format_timestamp
from csms.domain.paging import Paged

__all__ = [
    "CP_ID_MAX",
    "ID_TAG_MAX",
    "ApiModel",
    "Envelope",
    "ErrorBody",
    "ErrorEnvelope",
    "HealthOut",
    "ItemPage",
    "RequestModel",
    "Timestamp",
    "UtcDatetime",
    "optional_field",
]

T = TypeVar("T")
S = TypeVar("S")

CP_ID_MAX = 48
ID_TAG_MAX = 36

Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2025-01-31T12:00:00.000Z"]},
        mode="serialization",
    ),
]
"""An outgoing timestamp: ISO 8601, UTC, milliseconds, ``Z``."""


def _to_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
"""An incoming timestamp: ISO 8601 with an offset; one without an offset is taken as UTC."""


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional_field(**kwargs: Any) -> Any:
    """A PATCH field that may be absent (left unchanged) but not null.

    The default is never validated, so an absent field reads None while an explicit ``null``
    fails the non-nullable type; the route only looks at fields in ``model_fields_set``.
    """
    return Field(default=None, json_schema_extra=_drop_default, **kwargs)


def _title(name: str, info: FieldInfo | ComputedFieldInfo) -> str:
    return info.alias or to_camel(name)


class ApiModel(BaseModel):
    """A response body."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        field_title_generator=_title,
    )


class RequestModel(BaseModel):
    """A request body: camelCase only, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        extra="forbid",
        field_title_generator=_title,
    )


# --- envelopes ---


class Envelope(ApiModel, Generic[T]):
    data: T


class ItemPage(ApiModel, Generic[T]):
    items: list[T]
    has_more: bool = Field(
        description="True when more items follow; pass the last item's id as "
        "`startingAfter` to read them."
    )

    @classmethod
    def of(cls, paged: Paged[S], convert: Callable[[S], T]) -> ItemPage[T]:
        return cls(items=[convert(item) for item in paged.items], has_more=paged.has_more)


class ErrorBody(ApiModel):
    code: str = Field(examples=["not_found"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(ApiModel):
    error: ErrorBody


class ClusterNodeOut(ApiModel):
    node_id: str
    self_: bool = Field(alias="self", description="This node (the one answering).")
    started_at: Timestamp
    chargers_connected: int
    last_heartbeat_ago_s: float


class HealthOut(ApiModel):
    status: Literal["ok"]
    chargers_connected: int = Field(description="Connected to this node.")
    version: str
    node_id: str | None = Field(default=None, description="Only in a cluster: this node's id.")
    cluster_nodes: list[ClusterNodeOut] | None = Field(
        default=None, description="Only in a cluster: the live nodes, this one first."
    )
