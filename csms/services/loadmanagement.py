"""The load manager: keeps every circuit's sessions within its breaker, and tells chargers.

It listens (csms.services.events) for what changes an allocation: a session starting, stopping
or being suspended, a charger connecting or disconnecting, a circuit or its chargers changing, a
circuit meter's reading, the current sessions draw. Each wakes one task, which waits a moment
to gather a burst, then allocates (csms.domain.allocation, pure) and sends the changed limits as
charging profiles (csms.services.profile_sender), decreases before increases
(csms.domain.profile_plan). Nothing here runs on a charger's frame path: a listener only notes
the change and wakes the task. Held back below a circuit: an offline charger's sessions at the
limits it last accepted, an unmanaged one (it refused a profile) at its EVSEs' maximum, and the
uncontrolled load (csms.services.load_state.uncontrolled_load).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms.domain.allocation import HeldBack, allocate
from csms.domain.circuits import (
    Circuit,
    CircuitEvent,
    CircuitEventKind,
    circuit_supply_lines,
)
from csms.domain.clock import Clock
from csms.domain.events import CausedEvent
from csms.domain.paging import Page
from csms.domain.profile_plan import plan_profiles, whole_amps
from csms.domain.transactions import transaction_pk, transaction_ref
from csms.log import get_logger
from csms.services.events import EventBus
from csms.services.load_demands import LEND_AFTER_S, LEND_MARGIN_A, gather
from csms.services.load_state import (
    ChargerState,
    CircuitSource,
    EvseSource,
    ProfileSink,
    Reading,
    SessionSource,
    SessionState,
    Where,
    allocation_view,
    currents_of,
    session_key,
    uncontrolled_load,
)
from csms.services.profile_sender import SentProfile, Target

__all__ = ["LoadManager"]

log = get_logger(__name__)

COALESCE_S = 0.05  # a wake-up waits this long for more changes: a burst is one allocation
RETRY_S = 2.0
"""When a profile could not be delivered (not refused), the next attempt comes this much later."""
_ACTIVE_PAGE = 1000


@dataclass(frozen=True, slots=True)
class _LastRound:
    """What the last allocation decided, for its view."""

    where: Where
    reserved: list[HeldBack]
    uncontrolled: dict[str, dict[str, float]]
    targets: dict[str, float]
    at: datetime


class LoadManager:
    def __init__(
        self,
        circuits: CircuitSource,
        transactions: SessionSource,
        evses: EvseSource,
        sender: ProfileSink,
        events: EventBus,
        clock: Clock,
        *,
        meter_timeout: float,
        is_connected: Callable[[str], bool] = lambda cp_id: False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._is_connected = is_connected
        self._store = circuits
        self._transactions = transactions
        self._evses = evses
        self._sender = sender
        self._events = events
        self._clock = clock
        self._monotonic = monotonic
        self._meter_timeout = meter_timeout
        self._circuits: dict[str, Circuit] = {}
        self._lines: dict[str, tuple[str, ...]] = {}
        self._chargers: dict[str, ChargerState] = {}  # lower-case id
        self._sessions: dict[str, SessionState] = {}
        self._readings: dict[str, Reading] = {}
        self._in_force: dict[str, SentProfile] = {}  # accepted TxProfiles
        self._last_raise: dict[str, float] = {}
        self._admitted: set[str] = set()
        self._limits: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._retry: asyncio.TimerHandle | None = None
        self._silence: dict[str, asyncio.TimerHandle] = {}
        self._reload = True
        self._online: set[str] = set()  # lower-case ids of the chargers connected now
        self._lending_only = True
        self._last: _LastRound | None = None
        self._leading = True  # a single process always; a cluster node while it holds the lease
        self.ask_leader: Callable[[str], Awaitable[dict[str, Any] | None]] | None = None  # cluster
        self.on_unmanaged: Callable[[str, str], None] | None = None

    # --- wiring --------------------------------------------------------------------------------

    def attach(self, events: EventBus) -> None:
        # The whole network's sessions: in a cluster, those on the other nodes too (ADR 013).
        listen = functools.partial(events.listen, remote=True)
        listen("transaction.started", self._on_started)
        listen("transaction.ended", self._on_ended)
        listen("transaction.updated", self._on_updated)
        listen("connector.status", self._on_status)
        listen("charger.connected", lambda cp_id, _: self._on_connection(cp_id, True))
        listen("charger.disconnected", lambda cp_id, _: self._on_connection(cp_id, False))
        listen("meter.values", self._on_samples)

    def on_circuit_event(self, event: CircuitEvent) -> None:
        if event.kind is CircuitEventKind.CONSUMPTION and event.reading is not None:
            self._readings[event.circuit_id] = Reading(event.reading, self._monotonic())
            # Silent for the timeout: allocate again, on the reserve (it may be the larger).
            silent = self._silence.pop(event.circuit_id, None)
            if silent is not None:
                silent.cancel()
            self._silence[event.circuit_id] = asyncio.get_running_loop().call_later(
                self._meter_timeout + 0.05, lambda: self.wake(lending=False)
            )
        else:
            self._reload = True
        self.wake(lending=False)

    def on_evse_change(self, cp_id: str) -> None:
        """An EVSE's maximum, phases or wiring changed: read them again."""
        if cp_id.lower() in self._chargers:
            self._reload = True
            self.wake(lending=False)

    def lead(self, leading: bool) -> None:
        """In a cluster (ADR 013): whether this node allocates (it holds the load-management
        lease). A node that starts leading reads the circuits and sessions afresh."""
        if leading and not self._leading:
            self._reload = True
            self.wake(lending=False)
        self._leading = leading

    def wake(self, *, lending: bool) -> None:
        if not lending:
            self._lending_only = False
        self._wake.set()

    async def run(self) -> None:
        """Allocate whenever woken, until cancelled."""
        self._wake.set()
        while True:
            await self._wake.wait()
            await asyncio.sleep(COALESCE_S)
            self._wake.clear()
            lending, self._lending_only = self._lending_only, True
            if not self._leading:
                continue  # another node allocates; its decisions reach the chargers from there
            try:
                if self._reload:
                    self._reload = False
                    await self._load()
                await self._reallocate(lending)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("load allocation failed")

    # --- what the listeners note ---------------------------------------------------------------

    def _charger(self, cp_id: str | None) -> ChargerState | None:
        return None if cp_id is None else self._chargers.get(cp_id.lower())

    def _on_started(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        # Every charger's, not only those on a circuit now: one attached a moment later (or
        # while the circuits reload) must not lose a session that already runs.
        if cp_id is None:
            return
        evse_id = int(data.get("evseId") or 0)
        session = SessionState(
            cp_id,
            evse_id,
            str(data.get("transactionId")),
            transaction_pk(str(data.get("id"))),
            self._monotonic(),
        )
        self._sessions[session_key(cp_id, evse_id)] = session
        self.wake(lending=False)

    def _on_ended(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        if cp_id is None:
            return
        for key, session in list(self._sessions.items()):
            if key.startswith(f"{cp_id.lower()}/") and session.transaction_id == str(
                data.get("transactionId")
            ):
                del self._sessions[key]
                self._in_force.pop(key, None)
                self.wake(lending=False)

    def _on_updated(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        state = data.get("chargingState")
        if cp_id is None or state is None:
            return
        for key, session in self._sessions.items():
            if key.startswith(f"{cp_id.lower()}/") and session.transaction_id == str(
                data.get("transactionId")
            ):
                self._set_suspended(session, state == "SuspendedEV")

    def _on_status(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        evse_id, status = data.get("evseId"), data.get("status")
        if cp_id is None or not isinstance(evse_id, int):
            return
        session = self._sessions.get(session_key(cp_id, evse_id))
        if session is not None and status in ("SuspendedEV", "Charging", "SuspendedEVSE"):
            self._set_suspended(session, status == "SuspendedEV")

    def _set_suspended(self, session: SessionState, suspended: bool) -> None:
        if session.suspended != suspended:
            session.suspended = suspended
            self.wake(lending=False)

    def _on_connection(self, cp_id: str | None, connected: bool) -> None:
        if cp_id is None:
            return
        # Noted for every charger: one attached while _load runs is not known yet, and the
        # gateway registers the session only after this event.
        if connected:
            self._online.add(cp_id.lower())
        else:
            self._online.discard(cp_id.lower())
        charger = self._charger(cp_id)
        if charger is None:
            return
        charger.connected = connected
        if connected:
            # Re-sent after a reconnect or reboot: the charger may have lost them.
            charger.default_sent = False
            for key in [k for k in self._in_force if k.startswith(f"{cp_id.lower()}/")]:
                self._in_force.pop(key)
        self.wake(lending=False)

    def _on_samples(self, cp_id: str | None, data: Mapping[str, Any]) -> None:
        evse_id = data.get("evseId")
        if cp_id is None or not isinstance(evse_id, int):
            return
        session = self._sessions.get(session_key(cp_id, evse_id))
        if session is None or self._charger(cp_id) is None:
            return
        currents = currents_of(data.get("samples", ()))
        if not currents:
            return
        now = self._monotonic()
        session.measured, session.measured_at = currents, now
        limit = self._limits.get(session_key(cp_id, evse_id), 0.0)
        if limit > 0 and session.drawn() < limit - LEND_MARGIN_A:
            if session.low_since is None:
                session.low_since = now
            elif now - session.low_since >= LEND_AFTER_S:
                self.wake(lending=True)
        elif session.low_since is not None:
            # It draws again: it takes back what it lent, at once.
            session.low_since = None
            self.wake(lending=False)

    # --- loading -------------------------------------------------------------------------------

    async def _load(self) -> None:
        circuits = {c.id: c for c in await self._store.all_circuits()}
        self._circuits = circuits
        self._lines = {cid: circuit_supply_lines(circuits, cid) for cid in circuits}
        members = {m.charge_point_id.lower(): m for m in await self._store.list_members(None)}
        chargers: dict[str, ChargerState] = {}
        for cp_key, member in members.items():
            known = self._chargers.get(cp_key)
            charger = known or ChargerState(member, connected=self._connected(cp_key))
            charger.member = member
            try:
                charger.evses = {
                    e.evse_id: e for e in await self._evses.list_evses(member.charge_point_id)
                }
            except Exception:  # a charger deleted meanwhile: it leaves with the next reload
                charger.evses = {}
            if known is None:
                await self._load_sessions(member.charge_point_id)
            chargers[cp_key] = charger
        # After the last await: a charger that connected meanwhile is connected.
        for cp_key, charger in chargers.items():
            charger.connected = self._connected(cp_key)
        self._chargers = chargers
        for key in [k for k in self._in_force if k.split("/", 1)[0] not in chargers]:
            self._in_force.pop(key)  # detached: its profile is no longer ours to count
        for session in self._sessions.values():
            if session.pk is not None:
                with contextlib.suppress(Exception):
                    found = await self._transactions.find(transaction_ref(session.pk))
                    session.priority = found.priority

    def _connected(self, cp_key: str) -> bool:
        return cp_key in self._online or self._is_connected(cp_key)

    async def _load_sessions(self, cp_id: str) -> None:
        active = await self._transactions.list_transactions(
            Page(_ACTIVE_PAGE), cp_id=cp_id, active=True
        )
        now = self._monotonic()
        for tx in active.items:
            key = session_key(cp_id, tx.evse_id)
            if key not in self._sessions:
                self._sessions[key] = SessionState(
                    tx.charge_point_id, tx.evse_id, tx.transaction_id, tx.pk, now, tx.priority
                )

    # --- allocating ----------------------------------------------------------------------------

    async def _reallocate(self, lending: bool) -> None:
        now = self._monotonic()
        asked = gather(
            self._circuits,
            self._lines,
            self._chargers,
            self._sessions,
            self._in_force,
            self._limits,
            self._admitted,
            now,
        )
        uncontrolled = uncontrolled_load(
            self._circuits, self._lines, self._readings, asked.drawn_below, now, self._meter_timeout
        )
        held = [
            *asked.reserved,
            *(HeldBack(circuit_id, per_line) for circuit_id, per_line in uncontrolled.items()),
        ]
        # Pure and on its own copies: on a worker thread, so that a large fleet's allocation
        # (tens of milliseconds for thousands of sessions) never holds up chargers' frames.
        result = await asyncio.to_thread(allocate, asked.capacities, asked.demands, held)
        minimums = {d.key: d.min_current for d in asked.demands}
        targets = {key: whole_amps(limit, minimums[key]) for key, limit in result.limits.items()}
        await self._apply(targets, asked.where, lending, now)
        self._limits = {
            key: self._in_force[key].limit if key in self._in_force else 0.0 for key in targets
        }
        self._admitted = {key for key, limit in targets.items() if limit > 0}
        self._last = _LastRound(asked.where, asked.reserved, uncontrolled, targets, self._clock())
        await self._send_defaults()

    @property
    def last_allocation(self) -> dict[str, dict[str, Any]]:
        """Every circuit's allocation document (see ``allocation``)."""
        return self._view(None)

    async def current_allocation(self, circuit_id: str) -> dict[str, Any] | None:
        """``allocation`` from the allocating node: in a cluster the others lack its profiles."""
        if not self._leading and self.ask_leader is not None:
            with contextlib.suppress(Exception):  # the leader unreachable: what this one knows
                return await self.ask_leader(circuit_id)
        return self.allocation(circuit_id)

    def allocation(self, circuit_id: str) -> dict[str, Any] | None:
        """The circuit's allocation document, None before its first allocation: the last
        round's limits and reserves, with what the sessions draw and the limits the chargers
        have accepted as they are now."""
        return self._view(circuit_id).get(circuit_id)

    def _view(self, only: str | None) -> dict[str, dict[str, Any]]:
        last = self._last
        if last is None:
            return {}
        return allocation_view(
            self._circuits,
            self._lines,
            self._in_force,
            last.where,
            last.reserved,
            last.uncontrolled,
            last.targets,
            last.at,
            only=only,
        )

    async def _apply(
        self,
        targets: dict[str, float],
        where: dict[str, tuple[ChargerState, SessionState, tuple[str, ...]]],
        lending: bool,
        now: float,
    ) -> None:
        current = {key: sent.limit for key, sent in self._in_force.items() if key in targets}
        plan = plan_profiles(
            current, targets, lending=lending, last_raise=self._last_raise, now=now
        )

        def target(key: str, limit: float) -> Target:
            charger, session, lines = where[key]
            return Target(
                charger.member.charge_point_id,
                session.evse_id,
                session.transaction_id,
                limit,
                len(lines),
            )

        decreases = await self._sender.send_all(
            {k: target(k, v) for k, v in plan.decreases.items()}
        )
        if await self._record(decreases, where):
            self.wake(lending=False)  # a charger turned unmanaged: allocate again before raising
            return
        increases = await self._sender.send_all(
            {k: target(k, v) for k, v in plan.increases.items()}
        )
        for key, sent in increases.items():
            if sent.accepted:
                self._last_raise[key] = now
        if await self._record(increases, where):
            self.wake(lending=False)
        if decreases or increases:
            limits = {k: v.limit for k, v in {**decreases, **increases}.items() if v.accepted}
            await self._events.emit(
                CausedEvent("loadmanagement.allocated", None, {"limits": limits})
            )

    async def _record(
        self,
        outcomes: dict[str, SentProfile],
        where: dict[str, tuple[ChargerState, SessionState, tuple[str, ...]]],
    ) -> bool:
        """Note what chargers accepted; True when one refused (it is unmanaged now)."""
        refused = False
        for key, sent in outcomes.items():
            if sent.accepted:
                self._in_force[key] = sent
                continue
            charger, session, _ = where[key]
            if self._sessions.get(key) is not session:
                continue  # it ended meanwhile: a TxProfile for it is refused, rightly
            if sent.refused and not charger.unmanaged:
                await self._mark_unmanaged(charger, sent.status)
                refused = True
            else:
                self._retry_later()  # offline, booting or slow: its limit is unchanged
        return refused

    async def _mark_unmanaged(self, charger: ChargerState, reason: str) -> None:
        charger.unmanaged = True
        cp_id = charger.member.charge_point_id
        log.warning("charger unmanaged: profile refused", charge_point_id=cp_id, reason=reason)
        await self._events.emit(CausedEvent("loadmanagement.unmanaged", cp_id, {"reason": reason}))
        if self.on_unmanaged is not None:
            self.on_unmanaged(cp_id, reason)

    async def _send_defaults(self) -> None:
        pending = [
            c
            for c in self._chargers.values()
            if c.connected and not c.unmanaged and not c.default_sent
        ]
        outcomes = await asyncio.gather(
            *(self._sender.send_default(c.member.charge_point_id) for c in pending)
        )
        for charger, (accepted, refused) in zip(pending, outcomes, strict=True):
            charger.default_sent = accepted
            if refused:
                await self._mark_unmanaged(charger, "TxDefaultProfile refused")
                self.wake(lending=False)
            elif not accepted:
                self._retry_later()

    def _retry_later(self) -> None:
        """Allocate again in a while: something could not be delivered (a charger still
        booting, offline for a moment, or slow to answer)."""
        if self._retry is None:

            def fire() -> None:
                self._retry = None
                self.wake(lending=False)

            self._retry = asyncio.get_running_loop().call_later(RETRY_S, fire)

    # --- what operators read -------------------------------------------------------------------
