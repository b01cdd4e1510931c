"""Timestamp helpers: OCPP wants UTC ISO 8601; we emit "Z" and milliseconds."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    return iso(utc_now())


def parse_iso(value: str) -> datetime:
    # fromisoformat in 3.11 accepts "Z", but normalise naive values to UTC
    # because some servers omit the offset.
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
