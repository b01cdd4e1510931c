"""The outlet model, without sockets: which profile limits a car, what it draws, and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simulators.ev import Car
from simulators.outlet import Outlet
from simulators.profiles import CP_MAX, TX_DEFAULT, TX_PROFILE, ProfileStore

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def profile(
    profile_id: int,
    purpose: str,
    limit: float,
    unit: str = "A",
    *,
    stack_level: int = 0,
    number_phases: int | None = None,
) -> dict[str, Any]:
    period: dict[str, Any] = {"start_period": 0, "limit": limit}
    if number_phases is not None:
        period["number_phases"] = number_phases
    return {
        "charging_profile_id": profile_id,
        "stack_level": stack_level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": "Relative",
        "charging_schedule": {"charging_rate_unit": unit, "charging_schedule_period": [period]},
    }


# (outlet id, profile) installed; whether a transaction runs; the car; what it draws: A, phases.
CASES: list[tuple[str, list[tuple[int, dict[str, Any]]], bool, Car, float, int]] = [
    ("no profile: the car's maximum", [], True, Car(32, 3), 32, 3),
    ("no profile: a 16 A car", [], True, Car(16, 3), 16, 3),
    ("TxDefault on the outlet", [(1, profile(1, TX_DEFAULT, 20))], True, Car(), 20, 3),
    ("TxDefault on the station (0)", [(0, profile(1, TX_DEFAULT, 18))], True, Car(), 18, 3),
    (
        "the outlet's TxDefault before the station's",
        [(0, profile(1, TX_DEFAULT, 10)), (1, profile(2, TX_DEFAULT, 25))],
        True,
        Car(),
        25,
        3,
    ),
    (
        "TxProfile over TxDefault, even when higher",
        [(1, profile(1, TX_DEFAULT, 10)), (1, profile(2, TX_PROFILE, 24))],
        True,
        Car(),
        24,
        3,
    ),
    (
        "no transaction: the TxProfile does not count",
        [(1, profile(1, TX_DEFAULT, 10)), (1, profile(2, TX_PROFILE, 24))],
        False,
        Car(),
        10,
        3,
    ),
    (
        "highest stack level in force wins",
        [
            (1, profile(1, TX_PROFILE, 8, stack_level=0)),
            (1, profile(2, TX_PROFILE, 20, stack_level=3)),
        ],
        True,
        Car(),
        20,
        3,
    ),
    (
        "ChargePointMax caps the TxProfile",
        [(1, profile(1, TX_PROFILE, 30)), (0, profile(2, CP_MAX, 12))],
        True,
        Car(),
        12,
        3,
    ),
    (
        "ChargePointMax above the TxProfile does nothing",
        [(1, profile(1, TX_PROFILE, 14)), (0, profile(2, CP_MAX, 40))],
        True,
        Car(),
        14,
        3,
    ),
    (
        "W on three phases: 11040 W = 16 A",
        [(1, profile(1, TX_PROFILE, 11040, "W"))],
        True,
        Car(),
        16,
        3,
    ),
    (
        "W for a single-phase car: all of it on one phase",
        [(1, profile(1, TX_PROFILE, 3680, "W"))],
        True,
        Car(32, 1),
        16,
        1,
    ),
    (
        "numberPhases 1 limits a three-phase car to L1",
        [(1, profile(1, TX_PROFILE, 16, number_phases=1))],
        True,
        Car(32, 3),
        16,
        1,
    ),
    (
        "W with numberPhases 1",
        [(1, profile(1, TX_PROFILE, 7360, "W", number_phases=1))],
        True,
        Car(),
        32,
        1,
    ),
    (
        "the car's own maximum below the limit",
        [(1, profile(1, TX_PROFILE, 32))],
        True,
        Car(16, 1),
        16,
        1,
    ),
    ("below 6 A the car draws nothing", [(1, profile(1, TX_PROFILE, 5.9))], True, Car(), 0, 3),
    ("exactly 6 A is enough", [(1, profile(1, TX_PROFILE, 6))], True, Car(), 6, 3),
    ("0 A: suspended", [(0, profile(1, TX_DEFAULT, 0))], True, Car(), 0, 3),
    (
        "4140 W on three phases is 6 A",
        [(1, profile(1, TX_PROFILE, 4140, "W"))],
        True,
        Car(),
        6,
        3,
    ),
    (
        "4000 W on three phases is below 6 A",
        [(1, profile(1, TX_PROFILE, 4000, "W"))],
        True,
        Car(),
        0,
        3,
    ),
]


@pytest.mark.parametrize(
    ("installed", "in_tx", "car", "amps", "phases"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_effective_limit_rules(
    installed: list[tuple[int, dict[str, Any]]], in_tx: bool, car: Car, amps: float, phases: int
) -> None:
    store = ProfileStore(phases=3)
    for outlet_id, item in installed:
        store.install(outlet_id, item)
    outlet = Outlet(max_current=32, phases=3, car=car, delay=0)
    outlet.set_limit(store.effective(1, NOW, NOW, in_tx))
    outlet.start()
    draw = outlet.draw
    assert draw.current_a == pytest.approx(amps)
    assert draw.phases == phases
    assert outlet.power_w == pytest.approx(amps * 230 * phases)
    assert outlet.suspended == (amps == 0)


def test_expired_profile_falls_back_to_the_lower_stack_level() -> None:
    store = ProfileStore()
    low = profile(1, TX_PROFILE, 10, stack_level=0)
    high = profile(2, TX_PROFILE, 25, stack_level=5)
    high["charging_schedule"]["duration"] = 60
    store.install(1, low)
    store.install(1, high)
    start = NOW
    assert store.effective(1, NOW, start, True).resolve(3) == (25, 3)
    later = datetime(2026, 1, 5, 12, 2, tzinfo=UTC)
    assert store.effective(1, later, start, True).resolve(3) == (10, 3)


def test_a_new_limit_is_followed_after_the_delay_and_energy_counts_both() -> None:
    clock = Clock()
    outlet = Outlet(max_current=32, car=Car(32, 3), delay=3.0, clock=clock)
    store = ProfileStore()
    outlet.start()
    assert outlet.current_a == 32
    clock.now += 3600
    assert outlet.read() == pytest.approx(32 * 690)

    store.install(1, profile(1, TX_PROFILE, 10))
    outlet.set_limit(store.effective(1, NOW, NOW, True))
    assert outlet.current_a == 32  # the car has not followed yet
    clock.now += 2.9
    assert outlet.current_a == 32
    outlet.set_limit(store.effective(1, NOW, NOW, True))  # the same limit again: no new delay
    clock.now += 0.2
    assert outlet.current_a == 10
    # 3 s at 32 A, then 0.1 s at 10 A, integrated piecewise.
    expected = 32 * 690 + (32 * 690 * 3.0 + 10 * 690 * 0.1) / 3600
    assert outlet.read() == pytest.approx(expected)


def test_a_limit_below_6_a_stops_the_car_after_the_delay_and_a_raise_restarts_it() -> None:
    clock = Clock()
    outlet = Outlet(max_current=16, car=Car(16, 1), delay=2.0, clock=clock)
    store = ProfileStore()
    store.install(0, profile(1, TX_DEFAULT, 4))
    outlet.set_limit(store.effective(1, NOW, None, False))
    outlet.start()  # a session starts at the limit already in force
    assert outlet.current_a == 0 and outlet.suspended
    register = outlet.read()
    clock.now += 600
    assert outlet.read() == register  # nothing drawn below 6 A
    store.install(0, profile(1, TX_DEFAULT, 8))
    outlet.set_limit(store.effective(1, NOW, None, False))
    clock.now += 1.0
    assert outlet.current_a == 0
    clock.now += 1.0
    assert outlet.current_a == 8 and not outlet.suspended


def test_readings_name_only_the_phases_the_car_uses() -> None:
    for car, names in ((Car(32, 1), ["L1"]), (Car(16, 3), ["L1", "L2", "L3"])):
        outlet = Outlet(max_current=32, car=car, delay=0)
        outlet.start()
        values = outlet.readings()
        currents = [r for r in values if r.measurand == "Current.Import"]
        assert [r.phase for r in currents] == names
        assert all(r.value == car.max_current for r in currents)
        power = next(r for r in values if r.measurand == "Power.Active.Import")
        assert power.value == pytest.approx(car.max_current * 230 * car.phases)
        assert values[0].measurand == "Energy.Active.Import.Register"


def test_a_car_has_one_or_three_phases() -> None:
    with pytest.raises(ValueError, match="1 or 3"):
        Car(32, 2)
