"""Ordered store of transaction messages that must reach the server.

Both OCPP versions require transaction messages (1.6: StartTransaction,
StopTransaction and transaction MeterValues; 2.0.1: TransactionEvent) to be
delivered eventually and in order, with the timestamps of when they happened.
Everything goes through a queue (even when online) so a later message can
never overtake an earlier undelivered one.

1.6 only: a StartTransaction queued offline has no server id yet, so it
carries a negative local placeholder; later messages refer to the placeholder
and are rewritten with the real id once the replayed StartTransaction is
answered (``TransactionQueue``). In 2.0.1 the charger picks the transaction
id itself, so a plain ``MessageQueue`` does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from simulators.errors import UnresolvedTransactionError

START = "StartTransaction"
STOP = "StopTransaction"
METER = "MeterValues"


@dataclass
class QueuedCall:
    action: str
    # snake_case kwargs for the ocpp ``call`` dataclass; never mutated so a
    # retry sends exactly the same content (timestamps included).
    kwargs: dict[str, Any]
    # 1.6: the local id a queued StartTransaction stands for.
    placeholder: int | None = None
    attempts: int = 0
    waiter: asyncio.Future[Any] | None = field(default=None, repr=False)


class MessageQueue:
    def __init__(self) -> None:
        self._items: deque[QueuedCall] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def push(self, item: QueuedCall) -> None:
        self._items.append(item)

    def peek(self) -> QueuedCall | None:
        return self._items[0] if self._items else None

    def pop(self) -> QueuedCall:
        return self._items.popleft()

    def items(self) -> list[QueuedCall]:
        return list(self._items)

    def prepare(self, item: QueuedCall) -> dict[str, Any]:
        """kwargs ready to send (a copy: the stored payload stays as queued)."""
        return dict(item.kwargs)


class TransactionQueue(MessageQueue):
    def __init__(self) -> None:
        super().__init__()
        self._aliases: dict[int, int] = {}
        self._dead: set[int] = set()
        self._next_placeholder = -1

    def new_placeholder(self) -> int:
        # Negative ids cannot clash with server ids, which are positive.
        value = self._next_placeholder
        self._next_placeholder -= 1
        return value

    def bind(self, placeholder: int, real_id: int) -> None:
        self._aliases[placeholder] = real_id

    def mark_dead(self, placeholder: int) -> None:
        """The StartTransaction was refused: its followers can never be sent."""
        self._dead.add(placeholder)

    def resolve(self, transaction_id: int) -> int:
        return self._aliases.get(transaction_id, transaction_id)

    def is_resolved(self, transaction_id: int) -> bool:
        return transaction_id >= 0 or transaction_id in self._aliases

    def prepare(self, item: QueuedCall) -> dict[str, Any]:
        """kwargs ready to send, with placeholders replaced by real ids."""
        tx = item.kwargs.get("transaction_id")
        if item.action == START or tx is None:
            return dict(item.kwargs)
        if tx in self._dead:
            raise UnresolvedTransactionError(
                f"{item.action} refers to transaction {tx} whose StartTransaction failed"
            )
        if not self.is_resolved(tx):
            # Only reachable if the StartTransaction is not ahead in the queue.
            raise UnresolvedTransactionError(f"{item.action}: no real id for {tx} yet")
        return {**item.kwargs, "transaction_id": self.resolve(tx)}
