"""Cursor paging, the one way every list is read: a ``Page`` in, a ``Paged`` out.

A cursor is the key of the last item the caller has seen (``startingAfter`` in the API); the
next page starts right after it in the list's own order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["DEFAULT_LIMIT", "Page", "Paged", "paged"]

K = TypeVar("K")
T = TypeVar("T")

DEFAULT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Page(Generic[K]):
    limit: int = DEFAULT_LIMIT
    starting_after: K | None = None

    @property
    def fetch(self) -> int:
        """How many rows to read: one more than the page, to know whether more follow."""
        return self.limit + 1


@dataclass(frozen=True, slots=True)
class Paged(Generic[T]):
    items: list[T]
    has_more: bool


def paged(rows: Sequence[T], page: Page[K]) -> Paged[T]:
    """Rows read with ``page.fetch`` → the page and whether more rows follow."""
    return Paged(list(rows[: page.limit]), len(rows) > page.limit)
