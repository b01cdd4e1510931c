from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from csms.domain.clock import format_timestamp, parse_timestamp
from csms.domain.secrets import VerifiedPasswords, hash_password, verify_password


def test_password_hash_is_salted_and_verifies_bytes() -> None:
    first, second = hash_password(b"secret-key-16byt"), hash_password(b"secret-key-16byt")
    assert first != second
    assert verify_password(b"secret-key-16byt", first)
    assert not verify_password(b"secret-key-16byX", first)
    raw = bytes(range(200, 220))  # not UTF-8
    assert verify_password(raw, hash_password(raw))
    assert not verify_password(b"x", "garbage")


def test_timestamps_are_utc_with_milliseconds_and_z() -> None:
    moment = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == "2026-05-01T10:00:00.123Z"
    assert parse_timestamp("2026-05-01T12:00:00.5+02:00") == datetime(
        2026, 5, 1, 10, 0, 0, 500000, tzinfo=UTC
    )
    assert parse_timestamp("2026-05-01T10:00:00Z").tzinfo is not None
    assert parse_timestamp("2026-05-01T10:00:00.123456789Z").microsecond == 123456


def test_verified_passwords_are_recognised_until_the_hash_changes() -> None:
    stored = hash_password(b"first-password")
    cache = VerifiedPasswords()
    assert not cache.known(b"first-password", stored)
    cache.remember(b"first-password", stored)
    assert cache.known(b"first-password", stored)
    assert not cache.known(b"other-password", stored)
    assert not cache.known(b"first-password", hash_password(b"first-password"))  # new salt
