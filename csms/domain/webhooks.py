"""Webhooks, the pure part: subscriptions and their validation, which events a subscription
wants, the event body, the retry schedule, what one attempt's answer means, and the signatures.

Secrets: 32 random bytes, shown and stored as ``whsec_<base64>`` (the Standard Webhooks form).
The decoded bytes are the HMAC-SHA256 key of both signatures, ``X-Webhook-Signature`` (hex, over
the body) and ``webhook-signature`` (``v1,<base64>`` over ``{id}.{timestamp}.{body}``), so one
secret serves a receiver that checks either. The secret must be usable for signing: it is stored
as it is, not hashed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import orjson
from standardwebhooks import Webhook as StandardWebhook

from csms.domain.clock import format_timestamp
from csms.domain.errors import Invalid
from csms.domain.updates import UNSET, Unset

__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "Attempt",
    "Delivery",
    "DeliveryStatus",
    "OutboxEntry",
    "OutboxRow",
    "OutboxState",
    "RetryPolicy",
    "Verdict",
    "Webhook",
    "WebhookChanges",
    "event_body",
    "judge",
    "new_event_id",
    "new_secret",
    "new_webhook_id",
    "outbox_rows",
    "retry_delay",
    "signature_headers",
    "signing_key",
    "validate_events",
    "validate_url",
    "wants",
]

ALL_EVENTS = "*"

EVENT_TYPES: frozenset[str] = frozenset(
    {
        # The live event stream's types (csms/api/routes/events.py, the services' publish calls).
        "charger.connected",
        "charger.disconnected",
        "charger.deleted",
        "connector.status",
        "transaction.started",
        "transaction.updated",
        "transaction.ended",
        "meter.values",
        "firmware.status",
        "command.completed",
        "report.completed",
        # What chargers report (csms.services.reports: ``charger.<kind>``).
        "charger.security_event",
        "charger.event",
        "charger.status_error",
        "charger.ev_charging_needs",
        "charger.reservation_status",
        # ... and the reports kept whole (csms.ocpp.v201.handlers.STORED_REPORTS).
        "charger.charging_limit",
        "charger.charging_limit_cleared",
        "charger.charging_profiles",
        "charger.ev_charging_schedule",
        "charger.monitoring_report",
        "charger.customer_information",
        "charger.display_messages",
        "charger.publish_firmware_status",
        "alert.triggered",
        "alert.updated",
        "alert.resolved",
        "loadmanagement.allocated",
        "loadmanagement.unmanaged",
    }
)
"""What a subscription may ask for (besides ``*``)."""

_SECRET_PREFIX = "whsec_"
_SECRET_BYTES = 32
_MAX_URL = 2048


class OutboxState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # given up: the row will not be sent again
    RETRYING = "retrying"  # this attempt failed; another follows


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    url: str
    events: tuple[str, ...]  # ("*",) or event types
    enabled: bool
    description: str | None
    created_at: datetime
    secret: str = field(repr=False)  # kept out of logs and tracebacks


@dataclass(frozen=True, slots=True)
class WebhookChanges:
    """What a PATCH (or a secret's rotation) changes."""

    url: str | Unset = UNSET
    events: tuple[str, ...] | Unset = UNSET
    enabled: bool | Unset = UNSET
    description: str | Unset | None = UNSET
    secret: str | Unset = UNSET


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One event for one subscription, as it is enqueued (in the commit that causes it)."""

    webhook_id: str
    event_id: str
    type: str
    charge_point_id: str | None
    body: str  # the exact JSON sent, signed as these UTF-8 bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An outbox row as read back for delivery."""

    id: int  # the order of delivery within a subscription
    webhook_id: str
    event_id: str
    type: str
    charge_point_id: str | None
    body: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt and its consequence, recorded in one commit."""

    outbox_id: int
    webhook_id: str
    event_id: str
    type: str
    attempt: int  # 1 for the first
    status: DeliveryStatus
    response_code: int | None
    error: str | None
    at: datetime
    next_attempt_at: datetime | None  # when status is RETRYING
    disable: bool = False  # 410 Gone: the subscription is disabled, its pending rows fail


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    event_id: str
    type: str
    attempt: int
    status: DeliveryStatus
    response_code: int | None
    error: str | None
    at: datetime


# --- identities and secrets -----------------------------------------------------------------------


def new_webhook_id() -> str:
    return f"wh_{secrets.token_hex(12)}"


def new_event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


def new_secret() -> str:
    return _SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def signing_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_<base64>`` secret stands for (as standardwebhooks decodes it)."""
    encoded = secret.removeprefix(_SECRET_PREFIX)
    return base64.b64decode(encoded + "==")


# --- validation -----------------------------------------------------------------------------------


def validate_url(url: str) -> str:
    """An absolute http(s) URL with a host. The admin who sets it is trusted to choose the
    receiver: private addresses are allowed (a CSMS often posts to systems on its own network)."""
    if len(url) > _MAX_URL:
        raise Invalid("url", f"must be at most {_MAX_URL} characters")
    if any(c.isspace() for c in url):
        raise Invalid("url", "must not contain whitespace")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError as exc:
        raise Invalid("url", f"is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise Invalid("url", "must be an http:// or https:// URL")
    if not parts.hostname:
        raise Invalid("url", "must name a host")
    if port == 0:
        raise Invalid("url", "port 0 cannot be connected to")
    return url


def validate_events(events: Sequence[str]) -> tuple[str, ...]:
    """``["*"]`` or known event types, without repeats; the order given is kept."""
    if not events:
        raise Invalid("events", 'must name at least one event type, or be ["*"]')
    if ALL_EVENTS in events:
        if len(events) != 1:
            raise Invalid("events", '"*" stands for every event type and must stand alone')
        return (ALL_EVENTS,)
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown:
        raise Invalid("events", f"unknown event types: {', '.join(unknown)}")
    return tuple(dict.fromkeys(events))


def wants(webhook: Webhook, event_type: str) -> bool:
    return webhook.enabled and (ALL_EVENTS in webhook.events or event_type in webhook.events)


# --- the event and its fan-out --------------------------------------------------------------------


def event_body(event_id: str, type_: str, timestamp: datetime, data: Mapping[str, Any]) -> str:
    """``{id, type, timestamp, data}``: the exact text POSTed and signed, built once per event
    so that every subscription (and every retry) sends the same bytes."""
    document: dict[str, Any] = {
        "id": event_id,
        "type": type_,
        "timestamp": format_timestamp(timestamp),
        "data": data,
    }
    return orjson.dumps(document).decode()


def outbox_rows(
    webhooks: Iterable[Webhook],
    event_id: str,
    type_: str,
    charge_point_id: str | None,
    body: str,
    created_at: datetime,
) -> list[OutboxRow]:
    """One row per subscription that wants the event, all sharing its id and body."""
    return [
        OutboxRow(hook.id, event_id, type_, charge_point_id, body, created_at)
        for hook in webhooks
        if wants(hook, type_)
    ]


# --- retries --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retry_for: timedelta = timedelta(days=1)
    first_delay: float = 5.0  # seconds; the ceiling of the first retry's wait
    max_delay: float = 3600.0  # no single wait is longer


def retry_delay(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): exponential backoff with full
    jitter (uniform in [0, ceiling)), so receivers that came back are not hit by every sender at
    once. ``rand`` returns a float in [0, 1)."""
    exponent = min(attempt - 1, 62)  # beyond that the cap has long been reached
    ceiling = min(policy.max_delay, policy.first_delay * 2.0**exponent)
    return rand() * ceiling


@dataclass(frozen=True, slots=True)
class Verdict:
    status: DeliveryStatus
    next_attempt_at: datetime | None
    disable: bool


_GONE = 410


def judge(
    response_code: int | None,
    attempt: int,
    created_at: datetime,
    now: datetime,
    policy: RetryPolicy,
    rand: Callable[[], float],
) -> Verdict:
    """What an attempt's answer means. 2xx: delivered. 410: failed, and the subscription is
    disabled. Anything else (``None``: no answer): retried after ``retry_delay`` while that stays
    within ``retry_for`` of the row's creation, else failed.

    The deadline counts from creation (the event), not from the row's first attempt: a row that
    waited behind a failing head of line is tried once and gives up, so a dead receiver's backlog
    drains in bounded time instead of granting every row a day of its own."""
    if response_code is not None and 200 <= response_code < 300:
        return Verdict(DeliveryStatus.DELIVERED, None, False)
    if response_code == _GONE:
        return Verdict(DeliveryStatus.FAILED, None, True)
    next_at = now + timedelta(seconds=retry_delay(attempt, policy, rand))
    if next_at > created_at + policy.retry_for:
        return Verdict(DeliveryStatus.FAILED, None, False)
    return Verdict(DeliveryStatus.RETRYING, next_at, False)


# --- signing --------------------------------------------------------------------------------------


def signature_headers(secret: str, event_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The headers that sign ``body``: ``X-Webhook-Signature`` and the Standard Webhooks trio.
    ``at`` is the attempt's time (receivers reject stale timestamps, so a retry signs anew);
    ``webhook-id`` is the event's id, the same on every retry, for de-duplication."""
    key = signing_key(secret)
    moment = at.astimezone(UTC)
    return {
        "Content-Type": "application/json",
        "X-Webhook-Signature": hmac.new(key, body, hashlib.sha256).hexdigest(),
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": StandardWebhook(key).sign(event_id, moment, body.decode()),
    }
