"""Webhooks' pure rules: URLs, event filters, the retry schedule, verdicts and signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from csms.domain.errors import Invalid
from csms.domain.webhooks import (
    EVENT_TYPES,
    DeliveryStatus,
    RetryPolicy,
    Webhook,
    event_body,
    judge,
    new_event_id,
    new_secret,
    new_webhook_id,
    outbox_rows,
    retry_delay,
    signature_headers,
    signing_key,
    validate_events,
    validate_url,
    wants,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _hook(events: tuple[str, ...], enabled: bool = True, hook_id: str = "wh_1") -> Webhook:
    return Webhook(hook_id, "https://example.com/h", events, enabled, None, T0, new_secret())


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks",
        "http://10.0.0.5:8080/csms?x=1",
        "http://[::1]:9000/",
        "https://user:pw@receiver.internal/path",
    ],
)
def test_valid_urls(url: str) -> None:
    assert validate_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "example.com/hooks",
        "/relative/path",
        "https://",
        "http://:8080/x",
        "http://example.com:99999/",
        "http://example.com:0/",
        "https://exa mple.com/",
        "javascript:alert(1)",
        "https://example.com/" + "a" * 2100,
    ],
)
def test_invalid_urls_name_the_field(url: str) -> None:
    with pytest.raises(Invalid) as raised:
        validate_url(url)
    assert raised.value.field == "url"


def test_event_filters() -> None:
    assert validate_events(["*"]) == ("*",)
    assert validate_events(["transaction.ended", "alert.triggered", "transaction.ended"]) == (
        "transaction.ended",
        "alert.triggered",
    )
    for bad in ([], ["*", "transaction.ended"], ["transaction.exploded"]):
        with pytest.raises(Invalid) as raised:
            validate_events(bad)
        assert raised.value.field == "events"
    # The contract's list is all there.
    assert {"alert.resolved", "loadmanagement.allocated", "meter.values"} <= EVENT_TYPES


def test_wants_and_fan_out() -> None:
    every = _hook(("*",), hook_id="wh_a")
    ended = _hook(("transaction.ended",), hook_id="wh_b")
    off = _hook(("*",), enabled=False, hook_id="wh_c")
    assert wants(every, "meter.values") and wants(ended, "transaction.ended")
    assert not wants(ended, "transaction.started") and not wants(off, "transaction.ended")
    body = event_body("evt_1", "transaction.ended", T0, {"transactionId": 7})
    rows = outbox_rows([every, ended, off], "evt_1", "transaction.ended", "CP1", body, T0)
    assert [row.webhook_id for row in rows] == ["wh_a", "wh_b"]
    assert {row.event_id for row in rows} == {"evt_1"} and {row.body for row in rows} == {body}
    assert orjson.loads(body) == {
        "id": "evt_1",
        "type": "transaction.ended",
        "timestamp": "2026-03-01T12:00:00.000Z",
        "data": {"transactionId": 7},
    }


def test_ids_and_secrets() -> None:
    assert new_webhook_id().startswith("wh_") and new_event_id().startswith("evt_")
    assert new_webhook_id() != new_webhook_id()
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(signing_key(secret)) == 32
    assert base64.b64decode(secret.removeprefix("whsec_")) == signing_key(secret)


def test_retry_delay_is_full_jitter_capped() -> None:
    policy = RetryPolicy(retry_for=timedelta(days=1), first_delay=5.0, max_delay=3600.0)
    almost_one = 0.999999
    assert retry_delay(1, policy, lambda: 0.0) == 0.0
    ceilings = [retry_delay(n, policy, lambda: almost_one) / almost_one for n in range(1, 13)]
    assert ceilings[:5] == pytest.approx([5, 10, 20, 40, 80])
    assert max(ceilings) == pytest.approx(3600.0)
    assert retry_delay(10_000, policy, lambda: 0.5) == pytest.approx(1800.0)
    assert retry_delay(3, policy, lambda: 0.25) == pytest.approx(5.0)


def test_verdicts() -> None:
    policy = RetryPolicy(retry_for=timedelta(hours=1), first_delay=60.0, max_delay=600.0)
    half = lambda: 0.5  # noqa: E731
    ok = judge(204, 1, T0, T0, policy, half)
    assert ok.status is DeliveryStatus.DELIVERED and not ok.disable
    gone = judge(410, 3, T0, T0, policy, half)
    assert gone.status is DeliveryStatus.FAILED and gone.disable
    retry = judge(500, 1, T0, T0 + timedelta(seconds=1), policy, half)
    assert retry.status is DeliveryStatus.RETRYING
    assert retry.next_attempt_at == T0 + timedelta(seconds=31)
    assert judge(None, 2, T0, T0, policy, half).status is DeliveryStatus.RETRYING
    # The next wait would end past retry_for after the event: given up.
    late = judge(503, 9, T0, T0 + timedelta(minutes=59), policy, half)
    assert late.status is DeliveryStatus.FAILED and late.next_attempt_at is None
    assert not late.disable
    assert judge(302, 1, T0, T0, policy, half).status is DeliveryStatus.RETRYING


def test_signatures_verify_independently_and_with_standardwebhooks() -> None:
    secret = new_secret()
    body = event_body("evt_abc", "charger.connected", T0, {"ocppVersion": "2.0.1"}).encode()
    now = datetime.now(UTC)
    headers = signature_headers(secret, "evt_abc", body, now)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    assert headers["X-Webhook-Signature"] == hmac.new(key, body, hashlib.sha256).hexdigest()
    assert headers["webhook-id"] == "evt_abc"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    signed = b"evt_abc." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert StandardWebhook(secret).verify(body, headers) == orjson.loads(body)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(secret).verify(body + b" ", headers)
