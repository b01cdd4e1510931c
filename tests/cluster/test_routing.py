"""A command on any node for a charger held by another (ADR 013), with the real PostgreSQL and
NATS of this machine: the same answer, status codes and audit record as a local command, and the
contract's errors when the charger, its node or NATS fails."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from websockets.exceptions import ConnectionClosed

from tests.conftest import RunningCsms
from tests.ocpp_client import RawClient


class Charger:
    """A 1.6 charger answering the central system's calls as told: Accepted, a CALLERROR, or
    nothing at all."""

    def __init__(self, client: RawClient) -> None:
        self.client = client
        self.mode = "accept"
        self.received: list[list[Any]] = []
        self._task = asyncio.create_task(self._answer())

    async def _answer(self) -> None:
        try:
            async for text in self.client.ws:
                frame = json.loads(text)
                if frame[0] != 2:
                    continue
                self.received.append(frame)
                if self.mode == "accept":
                    await self.client.ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
                elif self.mode == "error":
                    await self.client.ws.send(
                        json.dumps([4, frame[1], "NotSupported", "not here", {"why": "test"}])
                    )
        except ConnectionClosed:
            pass

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


async def _charger_on(node: RunningCsms, cp_id: str) -> Charger:
    await node.register(cp_id)
    client = await RawClient.connect(node.ocpp_url, cp_id)
    await client.boot()
    return Charger(client)


async def test_a_command_through_another_node_is_answered_and_recorded_as_a_local_one(
    two_nodes: tuple[RunningCsms, ...],
) -> None:
    n1, n2 = two_nodes
    charger = await _charger_on(n2, "CP-R")
    try:
        answers = []
        for node in (n1, n2):  # through the other node, then locally
            async with node.api() as api:
                response = await api.post(
                    "/api/v1/charge-points/CP-R/actions/reset", json={"type": "Soft"}
                )
                assert response.status_code == 200, response.text
                answer = response.json()["data"]
                record = (await api.get(f"/api/v1/commands/{answer['commandId']}")).json()["data"]
            answers.append(answer)
            assert record["state"] == "completed"
            assert record["ocppAction"] == "Reset"
            assert record["ocppPayload"] == {"type": "Soft"}
            assert record["response"] == {"status": "Accepted"}
        assert [a["status"] for a in answers] == ["Accepted", "Accepted"]
        assert [f[2] for f in charger.received] == ["Reset", "Reset"]

        # The charger's CALLERROR: 502 with its code, through the other node as locally.
        charger.mode = "error"
        async with n1.api() as api:
            response = await api.post(
                "/api/v1/charge-points/CP-R/actions/reset", json={"type": "Hard"}
            )
        assert response.status_code == 502
        assert response.json()["error"]["details"]["code"] == "NotSupported"

        # No answer in time: 504, and the audit record says so.
        charger.mode = "silent"
        async with n1.api() as api:
            response = await api.post(
                "/api/v1/charge-points/CP-R/actions/reset?timeout=1", json={"type": "Soft"}
            )
            assert response.status_code == 504
            [latest] = (await api.get("/api/v1/commands?chargePointId=CP-R&limit=1")).json()[
                "data"
            ]["items"]
        assert latest["state"] == "failed" and latest["error"]["code"] == "charger_timeout"

        # disconnect through the other node closes the charger's socket there.
        async with n1.api() as api:
            response = await api.post(
                "/api/v1/charge-points/CP-R/actions/disconnect", json={"reason": "test"}
            )
        assert response.status_code == 200, response.text
        async with asyncio.timeout(5):
            await charger._task
        assert charger.client.ws.close_code == 1000
    finally:
        await charger.stop()


async def test_a_charger_held_by_a_node_that_is_gone_is_offline_and_nats_down_is_503(
    two_nodes: tuple[RunningCsms, ...],
) -> None:
    n1, n2 = two_nodes
    charger = await _charger_on(n2, "CP-G")
    try:
        assert n1.settings.database.url is not None
        conn = await asyncpg.connect(n1.settings.database.url)
        try:  # as if n2 had died a moment ago and nobody had released its chargers yet
            await conn.execute(
                "UPDATE charger_holders SET node_id = 'gone' WHERE charge_point_id = 'CP-G'"
            )
        finally:
            await conn.close()
        async with n1.api() as api:
            response = await api.post(
                "/api/v1/charge-points/CP-G/actions/reset", json={"type": "Soft"}
            )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "charger_offline"

        cluster = n1.system.cluster
        assert cluster is not None
        await cluster.link.close()  # NATS gone for n1
        async with n1.api() as api:
            response = await api.post(
                "/api/v1/charge-points/CP-G/actions/reset", json={"type": "Soft"}
            )
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "cluster_unavailable"
    finally:
        await charger.stop()
