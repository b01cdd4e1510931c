"""Webhooks: the subscriptions the admin manages, and the worker that delivers the outbox.

Events. This service is the event bus's sink (csms.services.events.EventSink): it keeps in memory
which event types the enabled subscriptions want, so a change whose events nobody wants costs
nothing, and the bus has the store write the wanted ones to ``webhook_outbox`` in the commit of
the change that causes them (csms.store.outbox); after that commit ``wake`` starts the delivery of
each subscription written to. The set may say yes too often (a subscription being created or
changed counts with both its old and its new types), never too late: the rows themselves are
chosen inside the change's transaction.

Delivery. Each subscription with pending rows
has one asyncio task that POSTs its rows strictly in id order, one at a time: a row waiting to be
retried holds back every later row of that subscription (head of line), so a receiver never sees an
event before the one that preceded it. Each task has its own HTTP client (at most ``MAX_IN_FLIGHT``
connection) and every request a time limit, so a slow or dead receiver delays only its own
subscription, never the chargers nor the other receivers. At start, ``start`` wakes a task for
every enabled subscription that still has pending rows: delivery is at least once and survives
restarts (a request cut by a stop is sent again).

Answers: 2xx delivered; 410 Gone disables the subscription and fails its pending rows; anything
else, or no answer in time, is retried per csms.domain.webhooks.judge. Redirects are not
followed (a 3xx is a failed attempt): the admin names the exact URL. URLs are checked to be
http(s) only; where they point is the admin's choice (no filtering of private addresses).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import httpx

from csms.domain.clock import Clock
from csms.domain.errors import NotFound
from csms.domain.paging import Page, Paged
from csms.domain.updates import UNSET, Unset
from csms.domain.webhooks import (
    ALL_EVENTS,
    Attempt,
    Delivery,
    DeliveryStatus,
    OutboxEntry,
    RetryPolicy,
    Verdict,
    Webhook,
    WebhookChanges,
    judge,
    new_secret,
    new_webhook_id,
    signature_headers,
    validate_events,
    validate_url,
)
from csms.log import get_logger
from csms.store.outbox import DeclaredEvents
from csms.store.repositories import WebhookStore

__all__ = ["DELIVERIES_RETENTION", "MAX_IN_FLIGHT", "WebhookService"]

log = get_logger(__name__)

MAX_IN_FLIGHT = 1
"""Requests in flight per receiver. One: with strict order per subscription a second request
could only carry a later event before the earlier one is acknowledged."""

DELIVERIES_RETENTION = timedelta(days=30)
"""How long the attempts log (GET /webhooks/{id}/deliveries) is kept."""

_BATCH = 100  # outbox rows read at once per subscription
_ELSEWHERE_S = 1.0  # a cluster: how long a subscription another node delivers is left to it
_WEBHOOKS_PAGE = 500
_STORE_RETRY_SECONDS = 5.0  # after a store error, before the worker tries again
_PURGE_SECONDS = 3600.0
_MAX_ERROR = 500  # characters of an error kept in the attempts log


@dataclass(frozen=True, slots=True)
class _Worker:
    task: asyncio.Task[None]
    wake: asyncio.Event


class WebhookService:
    def __init__(
        self,
        store: WebhookStore,
        clock: Clock,
        *,
        policy: RetryPolicy,
        request_timeout: float,
        outbox_retention: timedelta,
        rand: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._request_timeout = request_timeout
        self._outbox_retention = outbox_retention
        self._rand = rand
        self._transport = transport  # tests may route requests in process
        self._workers: dict[str, _Worker] = {}
        self._stopping = False
        self._wanted: set[str] = set()  # event types some enabled subscription wants; "*": all
        self._changing: list[set[str]] = []  # types of subscriptions whose change is under way
        # In a cluster (ADR 013), set by csms.cluster.leases: one node at a time delivers a
        # subscription's rows (the one holding its lease); rows committed here for a
        # subscription delivered elsewhere are announced to its holder; a change of the
        # subscriptions is told to the other nodes, which reload what they want.
        self.lease: Callable[[str], Awaitable[bool]] | None = None
        self.announce: Callable[[list[str]], None] | None = None
        self.on_changed: Callable[[], None] | None = None
        self._held: set[str] = set()  # subscriptions whose lease this node holds
        # Subscriptions another node delivers, until when no worker tries their lease here:
        # rows committed here are announced to that node instead, one lease query a second.
        self._elsewhere: dict[str, float] = {}

    # --- the event bus's sink ------------------------------------------------------------------

    @property
    def subscribed(self) -> bool:
        return bool(self._wanted) or bool(self._changing)

    def wanted(self, type_: str) -> bool:
        if ALL_EVENTS in self._wanted or type_ in self._wanted:
            return True
        return any(ALL_EVENTS in types or type_ in types for types in self._changing)

    def wake(self, webhook_ids: Iterable[str]) -> None:
        elsewhere = []
        for webhook_id in webhook_ids:
            self.notify(webhook_id)
            if webhook_id not in self._held:
                elsewhere.append(webhook_id)
        if elsewhere and self.announce is not None:
            self.announce(elsewhere)

    async def record(self, events: DeclaredEvents[None]) -> None:
        await self._store.record_events(events)

    # --- subscriptions (the admin's API) -------------------------------------------------------

    async def create(
        self, url: str, events: Sequence[str], description: str | None, enabled: bool = True
    ) -> Webhook:
        """The new subscription, with its secret (shown to the caller once)."""
        webhook = Webhook(
            id=new_webhook_id(),
            url=validate_url(url),
            events=validate_events(events),
            enabled=enabled,
            description=description,
            created_at=self._clock(),
            secret=new_secret(),
        )
        async with self._changing_types(webhook.events if enabled else ()):
            return await self._store.add_webhook(webhook)

    async def get(self, webhook_id: str) -> Webhook:
        webhook = await self._store.get_webhook(webhook_id)
        if webhook is None:
            raise NotFound(f"webhook {webhook_id!r} not found")
        return webhook

    async def list_webhooks(self, page: Page[str]) -> Paged[Webhook]:
        return await self._store.list_webhooks(page)

    async def update(
        self,
        webhook_id: str,
        *,
        url: str | Unset = UNSET,
        events: Sequence[str] | Unset = UNSET,
        enabled: bool | Unset = UNSET,
        description: str | Unset | None = UNSET,
    ) -> Webhook:
        changes = WebhookChanges(
            url=url if isinstance(url, Unset) else validate_url(url),
            events=events if isinstance(events, Unset) else validate_events(events),
            enabled=enabled,
            description=description,
        )
        new_types = () if isinstance(changes.events, Unset) else changes.events
        async with self._changing_types(new_types or self._all_types(enabled)):
            updated = await self._store.update_webhook(webhook_id, changes)
        # Re-enabled: its pending rows go out again. Disabled: its worker stops at once.
        self.notify(webhook_id)
        return updated

    async def rotate_secret(self, webhook_id: str) -> Webhook:
        """A new secret at once (the next attempt is signed with it); shown to the caller once."""
        return await self._store.update_webhook(webhook_id, WebhookChanges(secret=new_secret()))

    async def delete(self, webhook_id: str) -> None:
        await self._store.delete_webhook(webhook_id)
        await self._load_wanted()
        self.notify(webhook_id)  # its worker, if any, finds it gone and stops

    async def deliveries(self, webhook_id: str, page: Page[int]) -> Paged[Delivery]:
        await self.get(webhook_id)  # 404 for an unknown webhook rather than an empty list
        return await self._store.list_deliveries(webhook_id, page)

    @contextlib.asynccontextmanager
    async def _changing_types(self, types: Iterable[str]) -> AsyncIterator[None]:
        """While a subscription changes, its new types count as wanted already; afterwards the
        set is read again from the store (what committed)."""
        changing = set(types)
        self._changing.append(changing)
        try:
            yield
        finally:
            try:
                await self._load_wanted()
            finally:
                self._changing.remove(changing)

    def _all_types(self, enabled: bool | Unset) -> tuple[str, ...]:
        """Re-enabling a subscription whose types are not given: assume it wants everything
        until the store says what it wants."""
        return (ALL_EVENTS,) if enabled is True else ()

    async def _load_wanted(self, *, tell: bool = True) -> None:
        """What the enabled subscriptions want, from the store; ``tell``: the change happened
        here, and the other nodes of a cluster reload theirs."""
        wanted: set[str] = set()
        page: Page[str] = Page(_WEBHOOKS_PAGE)
        while True:
            found = await self._store.list_webhooks(page)
            for webhook in found.items:
                if webhook.enabled:
                    wanted.update(webhook.events)
            if not found.has_more:
                break
            page = Page(_WEBHOOKS_PAGE, found.items[-1].id)
        self._wanted = wanted
        if tell and self.on_changed is not None:
            self.on_changed()

    # --- delivery ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Learn what the subscriptions want (before any charger is served), and resume every
        enabled subscription that still has pending rows."""
        await self._load_wanted(tell=False)
        await self.resume_pending()

    async def resume_pending(self) -> None:
        """Start a worker for every enabled subscription with pending rows (in a cluster also
        every few seconds: the holder of a subscription's lease may have died)."""
        self._elsewhere.clear()
        for webhook_id in await self._store.pending_webhooks():
            self.notify(webhook_id)

    async def reload_wanted(self) -> None:
        """Another node changed the subscriptions: learn what they want now."""
        await self._load_wanted(tell=False)

    def notify(self, webhook_id: str) -> None:
        """Rows of this subscription were committed (or it changed): make sure its worker runs.
        Synchronous and cheap: call it right after the commit that wrote the rows."""
        if self._stopping:
            return
        until = self._elsewhere.get(webhook_id)
        if until is not None and time.monotonic() < until:
            return
        worker = self._workers.get(webhook_id)
        if worker is not None:
            worker.wake.set()
            return
        wake = asyncio.Event()
        task = asyncio.create_task(self._work(webhook_id, wake), name=f"webhook-{webhook_id}")
        self._workers[webhook_id] = _Worker(task, wake)

    @property
    def active(self) -> list[str]:
        """The subscriptions whose worker runs now (for tests and metrics)."""
        return sorted(self._workers)

    async def stop(self, timeout: float = 5.0) -> None:
        """Cancel the workers; a request cut short stays pending and is sent again later."""
        self._stopping = True
        tasks = [worker.task for worker in self._workers.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def run(self) -> None:
        """Purge what is older than the retentions, at start and then every hour."""
        while True:
            try:
                await self.purge()
            except Exception as exc:  # the next round tries again
                log.warning("webhook purge failed", error=repr(exc))
            await asyncio.sleep(_PURGE_SECONDS)

    async def purge(self) -> int:
        now = self._clock()
        purged = await self._store.purge(now - self._outbox_retention, now - DELIVERIES_RETENTION)
        if purged:
            log.info("webhook outbox and deliveries purged", rows=purged)
        return purged

    async def _work(self, webhook_id: str, wake: asyncio.Event) -> None:
        client = httpx.AsyncClient(
            timeout=self._request_timeout,
            limits=httpx.Limits(
                max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT
            ),
            follow_redirects=False,
            transport=self._transport,
        )
        try:
            while True:
                wake.clear()
                try:
                    if not await self._leased(webhook_id):
                        return  # another node delivers this subscription
                    delay = await self._round(webhook_id, client)
                except Exception as exc:  # the store failed: try again soon (or when woken)
                    log.warning("webhook delivery failed", webhook=webhook_id, error=repr(exc))
                    delay = _STORE_RETRY_SECONDS
                if delay is None:
                    if wake.is_set():  # rows arrived while we looked
                        continue
                    return
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), delay)
        finally:
            # No await before this: a notify after the last look starts a new worker.
            current = self._workers.get(webhook_id)
            if current is not None and current.wake is wake:
                del self._workers[webhook_id]
                self._held.discard(webhook_id)
            await client.aclose()

    async def _leased(self, webhook_id: str) -> bool:
        if self.lease is None:
            return True
        held = await self.lease(webhook_id)
        if held:
            self._held.add(webhook_id)
            self._elsewhere.pop(webhook_id, None)
        else:
            self._held.discard(webhook_id)
            self._elsewhere[webhook_id] = time.monotonic() + _ELSEWHERE_S
        return held

    async def _round(self, webhook_id: str, client: httpx.AsyncClient) -> float | None:
        """Send what is due; the seconds until more is due (0: at once), or None: nothing left
        to do (no pending rows, or the subscription is disabled or gone)."""
        webhook = await self._store.get_webhook(webhook_id)
        if webhook is None or not webhook.enabled:
            return None
        rows = await self._store.due(webhook_id, self._clock(), _BATCH)
        for n, row in enumerate(rows):
            # Renewed as the rows go out: a slow receiver must not outlast the lease.
            if n and not await self._leased(webhook_id):
                return None
            verdict = await self._deliver(client, webhook, row)
            if verdict.disable:
                await self._load_wanted()
                return None
            if verdict.status is DeliveryStatus.RETRYING:
                break  # head of line: nothing after it goes out before it
        if len(rows) == _BATCH:
            return 0.0
        next_at = await self._store.next_due(webhook_id)
        if next_at is None:
            return None
        return max(0.0, (next_at - self._clock()).total_seconds())

    async def _deliver(
        self, client: httpx.AsyncClient, webhook: Webhook, row: OutboxEntry
    ) -> Verdict:
        body = row.body.encode()
        headers = signature_headers(webhook.secret, row.event_id, body, self._clock())
        code: int | None = None
        error: str | None = None
        try:
            # httpx bounds each phase; this bounds the whole exchange (a receiver that trickles).
            async with asyncio.timeout(self._request_timeout):
                response = await client.post(webhook.url, content=body, headers=headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except TimeoutError:
            error = f"no answer within {self._request_timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]
        at = self._clock()
        attempt = row.attempts + 1
        verdict = judge(code, attempt, row.created_at, at, self._policy, self._rand)
        if verdict.disable:
            error = "410 Gone: the webhook was disabled"
        await self._store.record_attempt(
            Attempt(
                outbox_id=row.id,
                webhook_id=row.webhook_id,
                event_id=row.event_id,
                type=row.type,
                attempt=attempt,
                status=verdict.status,
                response_code=code,
                error=error,
                at=at,
                next_attempt_at=verdict.next_attempt_at,
                disable=verdict.disable,
            )
        )
        if verdict.status is not DeliveryStatus.DELIVERED:
            log.info(
                "webhook attempt failed",
                webhook=row.webhook_id,
                event_id=row.event_id,
                attempt=attempt,
                status=str(verdict.status),
                error=error,
            )
        return verdict
