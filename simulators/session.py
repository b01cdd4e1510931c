"""The session runner: one per outlet (a 1.6 connector, a 2.0.1 EVSE), the same for both versions.

It owns what a charging session needs whatever the protocol: the ``Outlet`` (car, limit, delay,
meter), obedience to the station's charging profiles, the session task, a stop request (reason and
trigger), the claim taken by an accepted remote start and the TxProfile that came with it, and
the charging loop that samples the meter. A version adapter (``v16_sessions``, ``v201_sessions``)
supplies the messages: what to send to start, to report a sample, to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from simulators.outlet import Outlet
from simulators.profiles import ProfileStore
from simulators.timeutil import utc_now

__all__ = ["SessionRunner"]


class SessionRunner:
    def __init__(self, outlet_id: int, outlet: Outlet, profiles: ProfileStore) -> None:
        self.outlet_id = outlet_id
        self.outlet = outlet
        self.profiles = profiles
        self.task: asyncio.Task[Any] | None = None
        self.stop_event = asyncio.Event()
        self.stop_reason: str | None = None
        self.stop_trigger: str | None = None
        # Set between accepting a remote start and its session task starting, so
        # nothing else grabs the outlet in that window.
        self.claimed = False
        # The TxProfile that came with a remote start, installed when the transaction starts.
        self.pending_tx_profile: dict[str, Any] | None = None
        # The running transaction's start (Relative profiles count from it); None: no transaction.
        self.tx_start: datetime | None = None

    # ----------------------------------------------------------------- state

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def reset_stop(self) -> None:
        self.stop_reason = self.stop_trigger = None
        self.stop_event.clear()

    def request_stop(self, reason: str, trigger: str | None = None) -> bool:
        """Ask the running session to stop; False if none runs."""
        if not self.running:
            return False
        self.stop_reason, self.stop_trigger = reason, trigger
        self.stop_event.set()
        return True

    # ------------------------------------------------------------ transaction

    def transaction_started(self, start: datetime) -> None:
        self.tx_start = start

    def transaction_ended(self) -> None:
        """The car stops drawing; TxProfiles only live as long as their transaction."""
        self.tx_start = None
        self.outlet.stop()
        self.profiles.drop_tx_profiles(self.outlet_id)
        self.refresh_limit()

    def start_charging(self, start_soc: float = 20.0) -> None:
        """The car starts drawing, under the TxProfile of a remote start if one came with it."""
        if self.pending_tx_profile is not None:
            self.profiles.install(self.outlet_id, self.pending_tx_profile)
            self.pending_tx_profile = None
        self.refresh_limit()
        self.outlet.start(start_soc)

    def refresh_limit(self, now: datetime | None = None) -> None:
        """Evaluate the profiles again and hand the outlet the limit in force."""
        in_tx = self.tx_start is not None
        limit = self.profiles.effective(self.outlet_id, now or utc_now(), self.tx_start, in_tx)
        self.outlet.set_limit(limit)

    def reset(self) -> None:
        """A reboot: no claim, no stop request, the car unplugged."""
        self.claimed = False
        self.pending_tx_profile = None
        self.outlet.stop()

    # -------------------------------------------------------------- charging

    async def charge(
        self,
        still_on: Callable[[], bool],
        duration: float,
        interval: Callable[[], float],
        sample: Callable[[], Awaitable[None]],
    ) -> None:
        """Charge for ``duration`` s or until stopped, calling ``sample`` every ``interval()`` s."""
        loop = asyncio.get_running_loop()
        end = loop.time() + duration
        while still_on():
            remaining = end - loop.time()
            if remaining <= 0:
                return
            step = interval()
            step = step if step > 0 else remaining
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), min(step, remaining))
            if self.stop_event.is_set():
                return
            # Schedules move on with time: re-evaluate before each sample.
            self.refresh_limit()
            await sample()
