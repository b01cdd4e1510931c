"""Webhooks (admin-only): the subscription, its secret once (on create and rotation), the
attempts log."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from csms.api.schemas.base import ApiModel, RequestModel, Timestamp, optional_field
from csms.domain.webhooks import Delivery, DeliveryStatus, Webhook

__all__ = ["DeliveryOut", "WebhookCreate", "WebhookOut", "WebhookUpdate", "WebhookWithSecret"]

# URL and event types are checked by the service (csms.domain.webhooks), which names the field.
Url = Annotated[str, Field(min_length=1, max_length=2048, examples=["https://example.com/hooks"])]
Events = Annotated[
    list[Annotated[str, Field(max_length=64)]],
    Field(
        min_length=1,
        max_length=64,
        description='`["*"]` for every event type, or event types (those of `GET /events`, '
        "e.g. `transaction.ended`, `alert.triggered`).",
        examples=[["*"], ["transaction.started", "transaction.ended"]],
    ),
]
Description = Annotated[str, Field(max_length=1000)]


class WebhookOut(ApiModel):
    id: str = Field(examples=["wh_3f9a0c2d7e1b4a5c6d8e9f01"])
    url: str
    events: list[str]
    enabled: bool = Field(description="False when disabled by an admin or by a 410 Gone answer.")
    description: str | None
    created_at: Timestamp

    @classmethod
    def from_domain(cls, webhook: Webhook) -> WebhookOut:
        return cls(
            id=webhook.id,
            url=webhook.url,
            events=list(webhook.events),
            enabled=webhook.enabled,
            description=webhook.description,
            created_at=webhook.created_at,
        )


class WebhookWithSecret(WebhookOut):
    secret: str = Field(
        description="`whsec_<base64 of 32 bytes>`; the decoded bytes are the HMAC-SHA256 key of "
        "both `X-Webhook-Signature` and `webhook-signature`. Shown only in this answer."
    )

    @classmethod
    def with_secret(cls, webhook: Webhook) -> WebhookWithSecret:
        return cls(**WebhookOut.from_domain(webhook).model_dump(), secret=webhook.secret)


class WebhookCreate(RequestModel):
    url: Url
    events: Events = Field(default_factory=lambda: ["*"])
    enabled: bool = True
    description: Description | None = None


class WebhookUpdate(RequestModel):
    url: Url = optional_field()
    events: Events = optional_field()
    enabled: bool = optional_field()
    description: Description | None = None


class DeliveryOut(ApiModel):
    id: int = Field(description="The attempt's id: the cursor (`startingAfter`) of this list.")
    event_id: str = Field(examples=["evt_0c2d7e1b4a5c6d8e9f013f9a"])
    type: str
    attempt: int = Field(description="1 for the first attempt at this event.")
    status: DeliveryStatus
    response_code: int | None = Field(description="The receiver's HTTP status; null: none.")
    error: str | None
    at: Timestamp

    @classmethod
    def from_domain(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            type=delivery.type,
            attempt=delivery.attempt,
            status=delivery.status,
            response_code=delivery.response_code,
            error=delivery.error,
            at=delivery.at,
        )
