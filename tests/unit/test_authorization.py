"""The id-tag rules: which record answers a token, what it answers, which type the CSMS sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.domain.authorization import (
    Authorization,
    AuthorizationStatus,
    decide,
    matches,
    token_type_to_send,
)
from csms.domain.commands import CommandContext
from csms.domain.models import IdTag, IdTagStatus, NewIdTag

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def tag(
    type: str | None = None,
    status: IdTagStatus = IdTagStatus.ENABLED,
    expire_at: datetime | None = None,
) -> IdTag:
    return NewIdTag("04A2B3C4", status, type, expire_at, "FLEET").stored(NOW)


# (the record's type, the type the charger presents (None: OCPP 1.6), whether it matches)
MATCHES = [
    (None, "ISO14443", True),  # a card registered by UID, presented by an RFID reader
    (None, "ISO15693", True),
    (None, "Central", True),
    (None, "eMAID", True),
    (None, None, True),
    ("ISO14443", "ISO14443", True),
    ("ISO14443", "ISO15693", False),
    ("ISO14443", "Central", False),
    ("Central", "ISO14443", False),  # why migrations turn the old default 'Central' into null
    ("eMAID", "eMAID", True),
    ("eMAID", "KeyCode", False),
    ("eMAID", "emaid", False),  # OCPP enumerations are case-sensitive
    ("eMAID", None, True),  # 1.6 idTags carry no type: the value decides
]


@pytest.mark.parametrize(("record_type", "presented", "expected"), MATCHES)
def test_matches(record_type: str | None, presented: str | None, expected: bool) -> None:
    assert matches(tag(record_type), presented) is expected


@pytest.mark.parametrize(("record_type", "presented", "expected"), MATCHES)
def test_a_type_that_does_not_match_is_answered_invalid(
    record_type: str | None, presented: str | None, expected: bool
) -> None:
    answer = decide(tag(record_type), NOW, presented)
    if expected:
        assert answer == Authorization(AuthorizationStatus.ACCEPTED, None, "FLEET", record_type)
    else:
        assert answer == Authorization(AuthorizationStatus.INVALID)


# (status, expiry relative to now, presented type, the answer)
DECISIONS = [
    (IdTagStatus.ENABLED, None, "ISO14443", AuthorizationStatus.ACCEPTED),
    (IdTagStatus.ENABLED, timedelta(seconds=1), None, AuthorizationStatus.ACCEPTED),
    (IdTagStatus.ENABLED, timedelta(0), None, AuthorizationStatus.EXPIRED),
    (IdTagStatus.ENABLED, timedelta(seconds=-1), "ISO14443", AuthorizationStatus.EXPIRED),
    (IdTagStatus.DISABLED, None, "ISO14443", AuthorizationStatus.BLOCKED),
    (IdTagStatus.BLOCKED, None, None, AuthorizationStatus.BLOCKED),
    (IdTagStatus.BLOCKED, timedelta(seconds=-1), None, AuthorizationStatus.BLOCKED),
]


@pytest.mark.parametrize(("status", "expires_in", "presented", "expected"), DECISIONS)
def test_decide(
    status: IdTagStatus,
    expires_in: timedelta | None,
    presented: str | None,
    expected: AuthorizationStatus,
) -> None:
    expire_at = None if expires_in is None else NOW + expires_in
    answer = decide(tag(None, status, expire_at), NOW, presented)
    assert (answer.status, answer.expire_at, answer.parent_id_tag) == (
        expected,
        expire_at,
        "FLEET",
    )


def test_an_unknown_token_is_invalid() -> None:
    assert decide(None, NOW, "ISO14443") == Authorization(AuthorizationStatus.INVALID)
    assert decide(None, NOW) == Authorization(AuthorizationStatus.INVALID)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (None, "Central"),  # no record: a token the CSMS issues
        (tag(None), "Central"),
        (tag("ISO14443"), "ISO14443"),
        (tag("eMAID"), "eMAID"),
    ],
)
def test_the_type_sent_to_a_charger(record: IdTag | None, expected: str) -> None:
    assert token_type_to_send(record) == expected


def test_command_context_falls_back_to_central() -> None:
    ctx = CommandContext(request_id=1, now=NOW, token_types={"card-1": "ISO14443"})
    assert ctx.token_type("CARD-1") == "ISO14443"
    assert ctx.token_type("other") == "Central"


def test_a_new_tag_is_stored_last_updated_when_created() -> None:
    stored = NewIdTag("A", user_id="u-1", external_id="crm-9").stored(NOW)
    assert stored == IdTag(
        "A", user_id="u-1", external_id="crm-9", created_at=NOW, last_updated_at=NOW
    )
    assert stored.type is None and stored.status is IdTagStatus.ENABLED
