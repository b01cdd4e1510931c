"""Guards the chargers' password check against guessing and floods.

Two defences around the one expensive step, scrypt (tens of milliseconds of CPU on purpose):
- wrong passwords are counted per identity and per source address; once either has failed too
  often within the window it is refused for a lock-out period without any hashing;
- hashes run in a bounded pool (a semaphore in front of the worker threads), so a flood of wrong
  passwords queues behind a few hashes instead of taking every core and worker thread, and a
  charger whose password verified before (the fast path in ChargerService) never waits for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from csms.domain.secrets import verify_password
from csms.domain.throttling import FailureThrottle

__all__ = ["CredentialGuard", "LockedOut"]


class LockedOut(Exception):
    """Too many wrong passwords lately for this identity or from this address."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"locked out for {retry_after:.0f} s")
        self.retry_after = retry_after


class CredentialGuard:
    def __init__(
        self,
        *,
        max_failures_per_identity: int = 10,
        max_failures_per_address: int = 50,
        window: float = 60.0,
        lockout: float = 60.0,
        concurrency: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._identities = FailureThrottle(max_failures_per_identity, window, lockout, clock=clock)
        self._addresses = FailureThrottle(max_failures_per_address, window, lockout, clock=clock)
        self._pool = asyncio.Semaphore(concurrency)
        self._in_use = 0

    @property
    def in_use(self) -> int:
        """Password checks hashing right now (at most ``concurrency``)."""
        return self._in_use

    def retry_after(self, identity: str, address: str | None) -> float:
        """Seconds before this identity, or anything from this address, may try again; 0.0: now."""
        # Identities are case-insensitive (the store matches them so), guesses too.
        blocked = self._identities.blocked_for(identity.lower())
        if address is not None:
            blocked = max(blocked, self._addresses.blocked_for(address))
        return blocked

    def failed(self, identity: str, address: str | None) -> None:
        self._identities.failed(identity.lower())
        if address is not None:
            self._addresses.failed(address)

    async def check(self, identity: str, address: str | None, password: bytes, stored: str) -> bool:
        """Whether ``password`` matches ``stored`` (a wrong one is counted); LockedOut instead
        while the identity or the address is locked out.

        The lock-out is checked again once a hashing slot is free: in a flood, the attempts
        queued behind the failures that caused it are refused without being hashed.
        """
        self._refuse_if_locked_out(identity, address)
        async with self._pool:
            self._refuse_if_locked_out(identity, address)
            self._in_use += 1
            try:
                matches = await asyncio.to_thread(verify_password, password, stored)
            finally:
                self._in_use -= 1
        if matches:
            # Only the identity's count: other chargers behind the address may still be wrong.
            self._identities.succeeded(identity.lower())
        else:
            self.failed(identity, address)
        return matches

    def _refuse_if_locked_out(self, identity: str, address: str | None) -> None:
        retry_after = self.retry_after(identity, address)
        if retry_after > 0:
            raise LockedOut(retry_after)
