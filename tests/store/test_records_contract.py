"""The store contract for commands, the state that follows them, the device model, charger
reports and the message log, on every backend."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from csms.domain.errors import NotFound
from csms.domain.models import (
    CommandOutcome,
    DeviceVariable,
    LoggedFrame,
    MessageExchange,
    Reservation,
    StoredChargingProfile,
)
from csms.domain.paging import Page
from csms.store.repositories import Store
from tests.store.conftest import NOW, add_charge_point


async def test_command_ids_are_unique_and_the_trail_pages_newest_first(store: Store) -> None:
    ids = await asyncio.gather(*(store.commands.allocate_command_id() for _ in range(20)))
    assert len(set(ids)) == 20 and min(ids) > 0
    for command_id, cp_id in zip(sorted(ids)[:3], ("CP-1", "cp-2", "CP-1"), strict=True):
        record = await store.commands.add_command(
            command_id,
            cp_id,
            "reset",
            requested_by="ops",
            request={"type": "Soft"},
            created_at=NOW,
            ocpp_action="Reset",
            ocpp_payload={"type": "Soft"},
        )
        assert record.state == "pending" and record.request == {"type": "Soft"}
    first, second, third = sorted(ids)[:3]
    done = await store.commands.complete_command(
        second,
        CommandOutcome("failed", NOW, 12.5, error={"code": "charger_timeout", "message": "m"}),
    )
    assert done.state == "failed" and done.error == {"code": "charger_timeout", "message": "m"}
    assert done.duration_ms == 12.5 and done.completed_at == NOW and done.status is None
    assert await store.commands.get_command(second) == done
    assert await store.commands.get_command(10**6) is None
    with pytest.raises(NotFound):
        await store.commands.complete_command(10**6, CommandOutcome("completed", NOW, 1.0))
    page = await store.commands.list_commands(Page(2))
    assert [r.id for r in page.items] == [third, second] and page.has_more
    page = await store.commands.list_commands(Page(2, second))
    assert [r.id for r in page.items] == [first] and not page.has_more
    by_charger = await store.commands.list_commands(Page(), cp_id="cp-1")
    assert [r.id for r in by_charger.items] == [third, first]
    # A later allocation never repeats one handed out before.
    assert await store.commands.allocate_command_id() > max(ids)


async def test_charging_profiles_replace_by_id_and_by_stack_level(store: Store) -> None:
    state = store.charger_state

    def profile(profile_id: int, evse: int, purpose: str, level: int) -> StoredChargingProfile:
        return StoredChargingProfile("CP", profile_id, evse, purpose, level, None, {"n": 1}, NOW)

    await state.put_charging_profile(profile(1, 1, "TxDefaultProfile", 0))
    await state.put_charging_profile(profile(2, 1, "TxDefaultProfile", 1))
    await state.put_charging_profile(profile(3, 0, "ChargePointMaxProfile", 0))
    await state.put_charging_profile(profile(4, 1, "TxDefaultProfile", 1))  # replaces 2
    await state.put_charging_profile(profile(1, 2, "TxDefaultProfile", 5))  # replaces 1
    listed = await state.list_charging_profiles("cp")
    assert [(p.profile_id, p.evse_id) for p in listed] == [(3, 0), (4, 1), (1, 2)]
    assert listed[0].profile == {"n": 1}
    assert (
        await state.clear_charging_profiles(
            "CP", profile_id=None, evse_id=None, purpose="TxDefaultProfile", stack_level=None
        )
        == 2
    )
    assert (
        await state.clear_charging_profiles(
            "CP", profile_id=3, evse_id=7, purpose=None, stack_level=None
        )
        == 1
    )
    assert await state.list_charging_profiles("CP") == []


async def test_reservations_replace_end_and_expire(store: Store) -> None:
    state = store.charger_state
    soon, later = NOW + timedelta(minutes=5), NOW + timedelta(hours=1)
    await state.put_reservation(Reservation("CP", 1, 1, 1, "A", soon, "active", NOW))
    await state.put_reservation(Reservation("CP", 2, 2, 2, "B", later, "active", NOW))
    assert await state.end_reservation("cp", 2, "cancelled", NOW)
    assert not await state.end_reservation("CP", 2, "cancelled", NOW)  # already ended
    assert await state.expire_reservations(NOW + timedelta(minutes=10)) == 1
    by_id = {r.reservation_id: r for r in await state.list_reservations("CP")}
    assert (by_id[1].status, by_id[1].ended_at) == ("expired", soon)
    assert (by_id[2].status, by_id[2].ended_at) == ("cancelled", NOW)
    # The same reservationId again replaces the earlier reservation, ended or not.
    await state.put_reservation(Reservation("CP", 2, 1, 1, "C", later, "active", NOW))
    by_id = {r.reservation_id: r for r in await state.list_reservations("CP")}
    assert (by_id[2].id_tag, by_id[2].status, by_id[2].ended_at) == ("C", "active", None)


async def test_local_list_version_and_configuration_keys(store: Store) -> None:
    await add_charge_point(store, "CP")
    state = store.charger_state
    assert await state.get_local_list_version("CP") is None
    await state.set_local_list_version("cp", 4)
    assert await state.get_local_list_version("CP") == 4
    assert await state.get_local_list_version("nobody") is None
    await state.put_configuration_keys("CP", [("B", "1", True), ("A", None, None)], NOW)
    later = NOW + timedelta(minutes=1)
    await state.put_configuration_keys("CP", [("B", "2", None)], later)  # readonly is kept
    keys = await state.list_configuration_keys("cp")
    assert [(k.key, k.value, k.readonly) for k in keys] == [("A", None, None), ("B", "2", True)]
    assert keys[1].updated_at == later


async def test_device_model_and_charger_reports(store: Store) -> None:
    variables = [
        DeviceVariable("EVSE", "Power", value="22000", evse_id=1, unit="W", max_limit=22000.0),
        DeviceVariable("SecurityCtrlr", "OrganizationName", value="Acme", persistent=True),
    ]
    await store.device_model.upsert_device_variables("CP", variables, NOW)
    await store.device_model.upsert_device_variables(
        "cp", [DeviceVariable("EVSE", "Power", value="11000", evse_id=1)], NOW
    )
    stored = await store.device_model.list_device_variables("CP")
    assert stored == [
        DeviceVariable("EVSE", "Power", value="11000", evse_id=1),
        variables[1],
    ]
    await store.reports.add_charger_report("CP", "security_event", NOW, {"type": "X", "n": [1]})
    await store.reports.add_charger_report(
        "cp", "notify_event", NOW, {"seqNo": 0}, received_at=NOW + timedelta(seconds=1)
    )
    reports = await store.reports.list_charger_reports("CP")
    assert [(r.kind, r.data, r.received_at) for r in reports] == [
        ("security_event", {"type": "X", "n": [1]}, None),
        ("notify_event", {"seqNo": 0}, NOW + timedelta(seconds=1)),
    ]
    only = await store.reports.list_charger_reports("CP", kind="notify_event")
    assert [r.timestamp for r in only] == [NOW]


def frame(direction: str, message_type: int, seconds: float, text: str) -> LoggedFrame:
    return LoggedFrame(direction, message_type, NOW + timedelta(seconds=seconds), text)


async def test_the_message_log_keeps_exchanges_and_reads_frames(store: Store) -> None:
    log = store.message_log
    await log.append_exchanges(
        [
            MessageExchange(
                "CP-1",
                "a",
                "Heartbeat",
                frame("in", 2, 0, '[2,"a","Heartbeat",{}]'),
                frame("out", 3, 0.01, '[3,"a",{"currentTime":"x"}]'),
            ),
            MessageExchange("CP-2", None, None, frame("in", 0, 1, '"not json"')),
            MessageExchange(
                "CP-1",
                "b",
                "Reset",
                frame("out", 2, 2, '[2,"b","Reset",{"type":"Soft"}]'),
                frame("in", 4, 3, '[4,"b","NotSupported","no",{"x":1}]'),
            ),
        ]
    )
    frames = (await log.list_messages(Page())).items
    assert [(m.charge_point_id, m.direction, m.message_type) for m in frames] == [
        ("CP-1", "in", "Call"),
        ("CP-1", "out", "CallResult"),
        ("CP-2", "in", "Invalid"),
        ("CP-1", "out", "Call"),
        ("CP-1", "in", "CallError"),
    ]
    assert [m.payload for m in frames] == [
        {},
        {"currentTime": "x"},
        "not json",
        {"type": "Soft"},
        {"errorCode": "NotSupported", "errorDescription": "no", "errorDetails": {"x": 1}},
    ]
    assert frames[4].timestamp == NOW + timedelta(seconds=3) and frames[4].action == "Reset"
    assert len({m.id for m in frames}) == 5

    async def keys(
        cp_id: str | None = None,
        action: str | None = None,
        direction: str | None = None,
        since: datetime | None = None,
    ) -> list[str]:
        found = await log.list_messages(
            Page(), cp_id=cp_id, action=action, direction=direction, since=since
        )
        return [f"{m.direction}:{m.unique_id}" for m in found.items]

    assert await keys(cp_id="cp-1", direction="in") == ["in:a", "in:b"]
    assert await keys(direction="out") == ["out:a", "out:b"]
    assert await keys(action="Reset") == ["out:b", "in:b"]
    assert await keys(since=NOW + timedelta(seconds=0.005)) == ["out:a", "in:None", "out:b", "in:b"]
    assert await keys(since=NOW + timedelta(seconds=2.5)) == ["in:b"]
    page = await log.list_messages(Page(2))
    assert page.has_more
    rest = await log.list_messages(Page(2, page.items[-1].id))
    assert [m.message_type for m in rest.items] == ["Invalid", "Call"] and rest.has_more
    last = await log.list_messages(Page(2, rest.items[-1].id))
    assert [m.message_type for m in last.items] == ["CallError"] and not last.has_more

    # Purged by the time of an exchange's first frame, whole exchanges at a time.
    assert await log.purge_messages(NOW + timedelta(seconds=1.5)) == 2
    assert await keys() == ["out:b", "in:b"]
