"""The history's pure rules: the window a request reads, and why a connection ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.domain.errors import Invalid
from csms.domain.history import close_reason, window

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, (NOW - WEEK, NOW)),
        (NOW - 2 * WEEK, None, (NOW - 2 * WEEK, NOW - WEEK)),
        (None, NOW - WEEK, (NOW - 2 * WEEK, NOW - WEEK)),
        (NOW - timedelta(hours=1), NOW, (NOW - timedelta(hours=1), NOW)),
        # No offset: UTC.
        (
            datetime(2026, 3, 1),
            None,
            (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)),
        ),
    ],
)
def test_the_window(
    start: datetime | None, end: datetime | None, expected: tuple[datetime, datetime]
) -> None:
    assert window(start, end, NOW) == expected


def test_a_window_that_ends_before_it_starts_names_end() -> None:
    with pytest.raises(Invalid) as raised:
        window(NOW, NOW, NOW)
    assert raised.value.field == "end"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (None, "connection_lost"),
        (1000, "normal_closure"),
        (1001, "going_away"),
        (4000, "close_code_4000"),
    ],
)
def test_close_reasons(code: int | None, reason: str) -> None:
    assert close_reason(code) == reason
