"""Calls from the central system to a charger: one at a time, and never left pending."""

from __future__ import annotations

import asyncio
import json

import pytest

from csms.domain.errors import ChargerRejectedCall, ChargerTimeout, ChargerUnavailable
from tests.conftest import RunningCsms
from tests.ocpp_client import RawClient


@pytest.fixture
async def charger(csms: RunningCsms) -> RawClient:
    await csms.register("CP-CALLS")
    client = await RawClient.connect(csms.ocpp_url, "CP-CALLS")
    await client.boot()
    return client


async def test_a_call_is_answered(csms: RunningCsms, charger: RawClient) -> None:
    pending = asyncio.create_task(
        csms.system.sessions.call("CP-CALLS", "GetConfiguration", {}, timeout=5)
    )
    frame = await charger.recv()
    assert frame[0] == 2 and frame[2] == "GetConfiguration" and frame[3] == {}
    assert len(frame[1]) == 36  # a bare UUID4: message ids are at most 36 characters
    await charger.send_raw(json.dumps([3, frame[1], {"configurationKey": []}]))
    assert await pending == {"configurationKey": []}


async def test_one_outstanding_call_per_connection(csms: RunningCsms, charger: RawClient) -> None:
    first = asyncio.create_task(csms.system.sessions.call("CP-CALLS", "ClearCache", {}, timeout=5))
    second = asyncio.create_task(
        csms.system.sessions.call("CP-CALLS", "GetLocalListVersion", {}, timeout=5)
    )
    frame = await charger.recv()
    assert frame[2] == "ClearCache"
    # The second call waits for the first answer: nothing else arrives meanwhile...
    with pytest.raises(TimeoutError):
        await charger.recv(timeout=0.3)
    # ...and the charger's own calls are still served while ours waits.
    assert (await charger.call("Heartbeat", {}))[0] == 3
    await charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
    assert await first == {"status": "Accepted"}
    frame = await charger.recv()
    assert frame[2] == "GetLocalListVersion"
    await charger.send_raw(json.dumps([3, frame[1], {"listVersion": 3}]))
    assert await second == {"listVersion": 3}


async def test_pending_call_fails_at_once_when_the_socket_closes(
    csms: RunningCsms, charger: RawClient
) -> None:
    pending = asyncio.create_task(
        csms.system.sessions.call("CP-CALLS", "ClearCache", {}, timeout=60)
    )
    await charger.recv()
    await charger.close()
    with pytest.raises(ChargerUnavailable):
        async with asyncio.timeout(5):  # far below the 60 s call timeout
            await pending


async def test_pending_call_of_a_replaced_connection_fails(
    csms: RunningCsms, charger: RawClient
) -> None:
    pending = asyncio.create_task(
        csms.system.sessions.call("CP-CALLS", "ClearCache", {}, timeout=60)
    )
    await charger.recv()
    replacement = await RawClient.connect(csms.ocpp_url, "CP-CALLS")
    with pytest.raises(ChargerUnavailable):
        async with asyncio.timeout(5):
            await pending
    await replacement.close()


async def test_call_error_timeout_and_offline(csms: RunningCsms, charger: RawClient) -> None:
    pending = asyncio.create_task(
        csms.system.sessions.call("CP-CALLS", "ClearCache", {}, timeout=5)
    )
    frame = await charger.recv()
    await charger.send_raw(json.dumps([4, frame[1], "NotSupported", "no cache here", {}]))
    with pytest.raises(ChargerRejectedCall) as rejected:
        await pending
    assert rejected.value.code == "NotSupported"

    with pytest.raises(ChargerTimeout):
        await csms.system.sessions.call("CP-CALLS", "ClearCache", {}, timeout=0.2)
    late = await charger.recv()
    # A late answer is logged and dropped; the connection carries on.
    await charger.send_raw(json.dumps([3, late[1], {"status": "Accepted"}]))
    assert (await charger.call("Heartbeat", {}))[0] == 3

    with pytest.raises(ChargerUnavailable):
        await csms.system.sessions.call("NOT-CONNECTED", "ClearCache", {}, timeout=1)


async def test_an_answer_that_breaks_the_schema_is_an_error(
    csms: RunningCsms, charger: RawClient
) -> None:
    pending = asyncio.create_task(
        csms.system.sessions.call("CP-CALLS", "ClearCache", {}, timeout=5)
    )
    frame = await charger.recv()
    await charger.send_raw(json.dumps([3, frame[1], {"status": "Maybe"}]))
    with pytest.raises(ChargerRejectedCall):
        await pending
