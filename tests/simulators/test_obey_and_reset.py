"""Both simulators against the fake central system: they obey charging profiles, report the
current on each phase their car uses, and answer a Reset before they close the link."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest

from simulators import ChargePoint16Simulator, ChargePoint201Simulator
from tests.simulators import test_sim16_unit as v16_answers
from tests.simulators import test_sim201_unit as v201_answers
from tests.simulators.fake_csms import FakeCsms, running

Simulator = ChargePoint16Simulator | ChargePoint201Simulator
VERSIONS = ("1.6", "2.0.1")
RESETS = 8


def _fake(version: str) -> FakeCsms:
    return FakeCsms(v16_answers._answer if version == "1.6" else v201_answers._answer)


def _simulator(version: str, url: str, **kwargs: Any) -> Simulator:
    common: dict[str, Any] = {
        "auto": False,
        "reconnect_initial": 0.01,
        "reconnect_max": 0.05,
        "meter_interval": 0.05,
        "power_w": 22080,  # 32 A on three phases
        **kwargs,
    }
    if version == "1.6":
        return ChargePoint16Simulator("CP-1", url, connectors=1, finishing_seconds=0, **common)
    return ChargePoint201Simulator("CP-201", url, evses=1, **common)


def _subprotocol(version: str) -> str:
    return "ocpp1.6" if version == "1.6" else "ocpp2.0.1"


def _samples(fake: FakeCsms, version: str) -> list[list[dict[str, Any]]]:
    """The sampledValues of every periodic sample, oldest first."""
    if version == "1.6":
        messages = fake.payloads("MeterValues")
    else:
        messages = [e for e in fake.payloads("TransactionEvent") if e["eventType"] == "Updated"]
    return [m["meterValue"][0]["sampledValue"] for m in messages]


def _value(item: dict[str, Any]) -> float:
    return float(item["value"])


def _currents(sampled: list[dict[str, Any]]) -> dict[str, float]:
    return {v["phase"]: _value(v) for v in sampled if v["measurand"] == "Current.Import"}


def _power(sampled: list[dict[str, Any]]) -> float:
    return next(_value(v) for v in sampled if v["measurand"] == "Power.Active.Import")


def _tx_profile(version: str, limit: float, unit: str, tx_id: Any) -> tuple[str, dict[str, Any]]:
    period = {"startPeriod": 0, "limit": limit}
    if version == "1.6":
        body = {
            "chargingProfileId": 9,
            "transactionId": tx_id,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": unit, "chargingSchedulePeriod": [period]},
        }
        return "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": body}
    body = {
        "id": 9,
        "transactionId": tx_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {"id": 1, "chargingRateUnit": unit, "chargingSchedulePeriod": [period]}
        ],
    }
    return "SetChargingProfile", {"evseId": 1, "chargingProfile": body}


async def _wait_for_sample(fake: FakeCsms, version: str, check: Any, within: float = 5) -> None:
    """Until the newest periodic sample satisfies ``check``."""

    def newest_ok() -> bool:
        samples = _samples(fake, version)
        return bool(samples) and bool(check(samples[-1]))

    await fake.wait_until(newest_ok, within=within)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("car_phases", "phases"), [(1, ["L1"]), (3, ["L1", "L2", "L3"])])
async def test_meter_values_carry_the_current_of_each_phase_the_car_uses(
    version: str, car_phases: int, phases: list[str]
) -> None:
    fake = _fake(version)
    async with running(fake, _subprotocol(version)) as url:
        sim = _simulator(version, url, car_max_current=16, car_phases=car_phases, limit_delay=0)
        await sim.start()
        try:
            await sim.wait_booted(5)
            task = sim.start_session(1, "TAG")
            await _wait_for_sample(fake, version, lambda s: _currents(s) != {})
            sampled = _samples(fake, version)[-1]
            assert _currents(sampled) == dict.fromkeys(phases, 16.0)
            assert _power(sampled) == pytest.approx(16 * 230 * car_phases)
            contexts = {v["context"] for v in sampled}
            assert contexts == {"Sample.Periodic"}
            energy = [
                _value(v)
                for s in _samples(fake, version)
                for v in s
                if v["measurand"] == "Energy.Active.Import.Register"
            ]
            assert energy == sorted(energy)
            task.cancel()
        finally:
            await sim.stop()


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_tx_profile_is_followed_after_the_delay_and_below_6_a_nothing_is_drawn(
    version: str,
) -> None:
    fake = _fake(version)
    async with running(fake, _subprotocol(version)) as url:
        sim = _simulator(version, url, car_max_current=32, car_phases=3, limit_delay=0.5)
        await sim.start()
        try:
            await sim.wait_booted(5)
            task = sim.start_session(1, "TAG")
            await _wait_for_sample(fake, version, lambda s: _currents(s).get("L3") == 32)
            tx_id = sim.transaction_id(1)
            action, payload = _tx_profile(version, 10, "A", tx_id)
            assert await fake.send_call(action, payload) == {"status": "Accepted"}
            loop_time = asyncio.get_running_loop().time
            set_at = loop_time()
            outlet = (
                sim.connectors[1].outlet
                if isinstance(sim, ChargePoint16Simulator)
                else sim.evses[1].outlet
            )
            assert outlet.current_a == 32  # not followed yet
            await _wait_for_sample(fake, version, lambda s: _currents(s).get("L1") == 10)
            assert loop_time() - set_at >= 0.5
            sampled = _samples(fake, version)[-1]
            assert _currents(sampled) == {"L1": 10.0, "L2": 10.0, "L3": 10.0}
            assert _power(sampled) == pytest.approx(6900)

            # 4000 W on three phases is 5.8 A: below 6 A a car stops.
            action, payload = _tx_profile(version, 4000, "W", tx_id)
            assert await fake.send_call(action, payload) == {"status": "Accepted"}
            await _wait_for_sample(fake, version, lambda s: _power(s) == 0)
            assert set(_currents(_samples(fake, version)[-1]).values()) == {0.0}
            task.cancel()
        finally:
            await sim.stop()


@pytest.mark.parametrize("version", VERSIONS)
async def test_without_smart_charging_profiles_are_rejected_and_the_car_takes_all(
    version: str,
) -> None:
    fake = _fake(version)
    async with running(fake, _subprotocol(version)) as url:
        sim = _simulator(version, url, car_max_current=32, limit_delay=0.1, smart_charging=False)
        await sim.start()
        try:
            await sim.wait_booted(5)
            task = sim.start_session(1, "TAG")
            await _wait_for_sample(fake, version, lambda s: _currents(s).get("L3") == 32)
            action, payload = _tx_profile(version, 10, "A", sim.transaction_id(1))
            assert await fake.send_call(action, payload) == {"status": "Rejected"}
            assert len(sim.profiles) == 0
            # Well past the delay (ten samples of 50 ms), still the car's full 32 A.
            seen = len(_samples(fake, version))
            await fake.wait_until(lambda: len(_samples(fake, version)) >= seen + 10)
            sampled = _samples(fake, version)[-1]
            assert _currents(sampled) == {"L1": 32.0, "L2": 32.0, "L3": 32.0}
            task.cancel()
        finally:
            await sim.stop()


def _closes(fake: FakeCsms) -> list[int]:
    """Where in ``fake.wire`` each connection ended."""
    return [i for i, event in enumerate(fake.wire) if event[0] == "closed"]


def _closed_more_than(fake: FakeCsms, count: int) -> bool:
    return len(_closes(fake)) > count


@pytest.mark.parametrize("version", VERSIONS)
async def test_reset_is_answered_before_the_link_closes(version: str) -> None:
    """The reboot a Reset causes must never overtake its answer (repeated: it was a race)."""
    fake = _fake(version)
    async with running(fake, _subprotocol(version)) as url:
        sim = _simulator(version, url)
        reset = {"type": "Hard"} if version == "1.6" else {"type": "Immediate"}
        await sim.start()
        try:
            for n in range(1, RESETS + 1):
                await sim.wait_booted(5)
                if n % 2 == 0:  # with a session running too: the reboot stops it first
                    sim.start_session(1, "TAG")
                before = len(_closes(fake))
                assert await fake.send_call("Reset", reset) == {"status": "Accepted"}
                await fake.wait_until(partial(_closed_more_than, fake, before))
                answer = fake.wire.index(("answer", fake.last_call_id))
                close = _closes(fake)[before]
                assert answer < close
                await fake.wait_for("BootNotification", count=n + 1)
        finally:
            await sim.stop()
