"""The throttles' arithmetic, on a clock the test moves: the per-connection CALL budget, failure
counting with a lock-out, the per-address connection count and the bounded password checks."""

from __future__ import annotations

import asyncio

import pytest

from csms.domain.secrets import hash_password
from csms.domain.throttling import FailureThrottle, TokenBucket, retry_after_seconds
from csms.gateway.admission import AddressCounter
from csms.services.credential_guard import CredentialGuard, LockedOut


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(0.25)  # half a token back
    assert bucket.take(0.5)  # one token back (0.5 s at 2/s)
    assert not bucket.take(0.5)
    # Idle time refills up to the burst, never beyond.
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(
    ("blocked", "header"), [(0.001, 1), (0.0, 1), (1.0, 1), (1.2, 2), (59.9, 60), (60.0, 60)]
)
def test_retry_after_is_whole_seconds_rounded_up_and_never_zero(
    blocked: float, header: int
) -> None:
    assert retry_after_seconds(blocked) == header


def test_failure_throttle_locks_a_key_out_then_forgets() -> None:
    clock = Clock()
    throttle = FailureThrottle(max_failures=3, window=60.0, lockout=30.0, clock=clock)
    for _ in range(2):
        throttle.failed("a")
    assert throttle.blocked_for("a") == 0.0
    throttle.failed("a")
    assert throttle.blocked_for("a") == 30.0
    assert throttle.blocked_for("b") == 0.0  # keys are independent
    clock.now += 10
    assert throttle.blocked_for("a") == 20.0
    clock.now += 20.5
    assert throttle.blocked_for("a") == 0.0
    # Failures spread wider than the window never add up to a lock-out.
    for _ in range(5):
        throttle.failed("c")
        throttle.failed("c")
        clock.now += 61
    assert throttle.blocked_for("c") == 0.0
    # A success forgets the failures so far.
    throttle.failed("d")
    throttle.failed("d")
    throttle.succeeded("d")
    throttle.failed("d")
    assert throttle.blocked_for("d") == 0.0


def test_failure_throttle_memory_is_bounded() -> None:
    clock = Clock()
    throttle = FailureThrottle(max_failures=2, window=60.0, lockout=60.0, clock=clock, capacity=100)
    for n in range(10_000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) <= 100


def test_address_counter_caps_connections_per_address() -> None:
    counter = AddressCounter(limit=2)
    assert counter.admit("10.0.0.1") and counter.admit("10.0.0.1")
    assert not counter.admit("10.0.0.1")  # a refused one is not counted
    assert counter.admit("10.0.0.2")
    counter.release("10.0.0.1")
    assert counter.admit("10.0.0.1")
    assert counter.count("10.0.0.1") == 2
    for _ in range(2):
        counter.release("10.0.0.1")
    counter.release("10.0.0.2")
    assert counter.count("10.0.0.1") == 0 and len(counter) == 0  # nothing kept for idle ones
    unlimited = AddressCounter(limit=0)
    assert all(unlimited.admit("10.0.0.3") for _ in range(5000))


def test_credential_guard_locks_out_identities_and_addresses_separately() -> None:
    clock = Clock()
    guard = CredentialGuard(
        max_failures_per_identity=2,
        max_failures_per_address=3,
        window=60.0,
        lockout=45.0,
        concurrency=1,
        clock=clock,
    )
    guard.failed("CP-1", "10.0.0.1")
    guard.failed("cp-1", "10.0.0.2")  # identities are case-insensitive
    assert guard.retry_after("CP-1", "10.0.0.9") == 45.0
    assert guard.retry_after("CP-2", "10.0.0.1") == 0.0
    guard.failed("CP-3", "10.0.0.1")
    guard.failed("CP-4", "10.0.0.1")
    assert guard.retry_after("CP-5", "10.0.0.1") == 45.0  # the address: 3 failures
    assert guard.retry_after("CP-5", None) == 0.0
    clock.now += 46
    assert guard.retry_after("CP-1", "10.0.0.1") == 0.0


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_password_checks_run_at_most_concurrency_at_a_time(concurrency: int) -> None:
    guard = CredentialGuard(
        max_failures_per_identity=50,
        max_failures_per_address=50,
        window=60.0,
        lockout=60.0,
        concurrency=concurrency,
    )
    stored = hash_password(b"right-password-123")
    checks = [
        asyncio.create_task(guard.check(f"CP-{n}", None, b"wrong-password-%d" % n, stored))
        for n in range(6)
    ]
    peak = 0
    while not all(check.done() for check in checks):
        peak = max(peak, guard.in_use)
        await asyncio.sleep(0.001)
    assert [check.result() for check in checks] == [False] * 6
    assert 1 <= peak <= concurrency
    assert guard.in_use == 0
    assert await guard.check("CP-0", None, b"right-password-123", stored)


async def test_attempts_queued_behind_a_lock_out_are_refused_unhashed() -> None:
    guard = CredentialGuard(
        max_failures_per_identity=2,
        max_failures_per_address=50,
        window=60.0,
        lockout=60.0,
        concurrency=1,
    )
    stored = hash_password(b"right-password-123")
    attempts = [
        asyncio.create_task(guard.check("CP-1", "10.0.0.1", b"wrong-password", stored))
        for _ in range(6)
    ]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    # Two hashed and wrong; the four that waited behind them found the identity locked out.
    assert outcomes[:2] == [False, False]
    assert all(isinstance(outcome, LockedOut) for outcome in outcomes[2:])
    with pytest.raises(LockedOut):
        await guard.check("cp-1", "10.0.0.2", b"right-password-123", stored)
