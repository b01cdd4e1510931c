"""From one allocation to the next: what is sent, in which order, what is held."""

from __future__ import annotations

import pytest

from csms.domain.profile_plan import RAISE_INTERVAL_S, ProfilePlan, plan_profiles, whole_amps


@pytest.mark.parametrize(
    ("limit", "minimum", "expected"),
    [(10.67, 6.0, 10.0), (10.0, 6.0, 10.0), (6.0, 6.0, 6.0), (0.0, 6.0, 0.0), (6.7, 6.5, 6.7)],
)
def test_limits_go_out_in_whole_amperes_but_never_below_the_minimum(
    limit: float, minimum: float, expected: float
) -> None:
    assert whole_amps(limit, minimum) == expected


def test_decreases_first_small_raises_held_new_sessions_sent() -> None:
    plan = plan_profiles(
        {"down": 16.0, "tiny-down": 10.0, "up": 8.0, "tiny-up": 8.0, "same": 6.0, "stop": 6.0},
        {
            "down": 8.0,
            "tiny-down": 9.5,
            "up": 12.0,
            "tiny-up": 8.5,
            "same": 6.0,
            "stop": 0.0,
            "new": 6.0,
        },
        lending=False,
        last_raise={},
        now=0.0,
    )
    assert plan == ProfilePlan(
        decreases={"down": 8.0, "tiny-down": 9.5, "stop": 0.0},
        increases={"new": 6.0, "up": 12.0},
        held={"tiny-up": 8.0},
    )


def test_raises_from_lending_are_damped_per_session() -> None:
    current, target = {"a": 8.0, "b": 8.0}, {"a": 16.0, "b": 16.0}
    last = {"a": 100.0}
    damped = plan_profiles(
        current, target, lending=True, last_raise=last, now=100.0 + RAISE_INTERVAL_S - 1
    )
    assert damped.increases == {"b": 16.0} and damped.held == {"a": 8.0}
    later = plan_profiles(
        current, target, lending=True, last_raise=last, now=100.0 + RAISE_INTERVAL_S
    )
    assert later.increases == {"a": 16.0, "b": 16.0}
    # Freed by a session that stopped (not lending): sent at once.
    assert (
        plan_profiles(current, target, lending=False, last_raise=last, now=101.0).increases
        == target
    )


def test_what_is_in_force_after_a_plan_never_exceeds_the_target() -> None:
    current = {"a": 16.0, "b": 10.0}
    target = {"a": 8.0, "b": 10.6, "c": 6.0}
    plan = plan_profiles(current, target, lending=False, last_raise={}, now=0.0)
    in_force = plan.in_force(current)
    assert in_force == {"a": 8.0, "b": 10.0, "c": 6.0}
    assert all(in_force[key] <= target[key] for key in target)
