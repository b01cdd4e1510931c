"""The permission matrix of the platform routes: viewer / operator / admin, every route.

viewer: reads only; operator: everything but the admin-only routes; admin: everything. Without
a token every route is a 401. A role that may call a route gets neither 401 nor 403 (the answer
itself, 2xx or 4xx, is the route's business and tested elsewhere).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiHarness

VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
RANK = {VIEWER: 0, OPERATOR: 1, ADMIN: 2}

MODEL = {"vendor": "V", "model": "M", "powerType": "DC", "connectors": []}
CIRCUIT = {"name": "C", "phases": "three_phase", "maxCurrent": 32}
ZERO = {"currentL1": 0, "currentL2": 0, "currentL3": 0}

# (method, path, body, the least role that may call it)
ROUTES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/v1/me", None, VIEWER),
    ("GET", "/api/v1/actions", None, VIEWER),
    ("GET", "/api/v1/networks", None, VIEWER),
    ("POST", "/api/v1/networks", {"name": "N"}, OPERATOR),
    ("GET", "/api/v1/networks/n1", None, VIEWER),
    ("PATCH", "/api/v1/networks/n1", {"name": "N"}, OPERATOR),
    ("DELETE", "/api/v1/networks/none", None, OPERATOR),
    ("GET", "/api/v1/sites", None, VIEWER),
    ("POST", "/api/v1/sites", {"name": "S"}, OPERATOR),
    ("GET", "/api/v1/sites/s1", None, VIEWER),
    ("PATCH", "/api/v1/sites/s1", {"name": "S"}, OPERATOR),
    ("DELETE", "/api/v1/sites/none", None, OPERATOR),
    ("GET", "/api/v1/site-tree", None, VIEWER),
    ("GET", "/api/v1/charging-station-models", None, VIEWER),
    ("POST", "/api/v1/charging-station-models", MODEL, ADMIN),
    ("GET", "/api/v1/charging-station-models/m1", None, VIEWER),
    ("PATCH", "/api/v1/charging-station-models/m1", {"friendlyName": "F"}, OPERATOR),
    ("POST", "/api/v1/charging-station-models/none/archive", None, ADMIN),
    ("GET", "/api/v1/charge-points/CP-1/evses", None, VIEWER),
    ("GET", "/api/v1/charge-points/CP-1/evses/1", None, VIEWER),
    ("PATCH", "/api/v1/charge-points/CP-1/evses/1", {"label": "L"}, OPERATOR),
    ("PATCH", "/api/v1/charge-points/CP-1/evses/1/connectors/1", {"type": "type2"}, OPERATOR),
    ("PATCH", "/api/v1/charge-points/CP-1", {"siteId": "s1"}, OPERATOR),
    ("GET", "/api/v1/charge-points?siteId=s1&networkId=n1&modelId=m1", None, VIEWER),
    ("GET", "/api/v1/id-tags?userId=u&status=enabled", None, VIEWER),
    ("GET", "/api/v1/circuits", None, VIEWER),
    ("POST", "/api/v1/circuits", CIRCUIT, OPERATOR),
    ("GET", "/api/v1/circuits/c1", None, VIEWER),
    ("PATCH", "/api/v1/circuits/c1", {"name": "C"}, OPERATOR),
    ("DELETE", "/api/v1/circuits/none", None, OPERATOR),
    ("POST", "/api/v1/circuits/c1/attach-charge-point", {"chargePointId": "CP-1"}, OPERATOR),
    (
        "POST",
        "/api/v1/circuits/c1/set-charge-point-priority",
        {"chargePointId": "CP-1", "priority": 2},
        OPERATOR,
    ),
    ("POST", "/api/v1/circuits/c1/detach-charge-point", {"chargePointId": "CP-1"}, OPERATOR),
    ("POST", "/api/v1/circuits/c1/report-consumption", ZERO, OPERATOR),
    ("POST", "/api/v1/transactions/tx_1/set-priority", {"priority": 2}, OPERATOR),
    ("GET", "/api/v1/api-tokens", None, ADMIN),
    ("POST", "/api/v1/api-tokens", {"role": "viewer"}, ADMIN),
    ("DELETE", "/api/v1/api-tokens/tok_none", None, ADMIN),
    ("GET", "/api/v1/webhooks", None, ADMIN),
    ("POST", "/api/v1/webhooks", {"url": "https://receiver.example/"}, ADMIN),
    ("GET", "/api/v1/webhooks/wh_none", None, ADMIN),
    ("PATCH", "/api/v1/webhooks/wh_none", {"enabled": False}, ADMIN),
    ("DELETE", "/api/v1/webhooks/wh_none", None, ADMIN),
    ("POST", "/api/v1/webhooks/wh_none/rotate-secret", None, ADMIN),
    ("GET", "/api/v1/webhooks/wh_none/deliveries", None, ADMIN),
]


@pytest.fixture
async def estate(harness: ApiHarness) -> ApiHarness:
    admin = harness.client(ADMIN)
    for url, body in (
        ("/api/v1/networks", {"id": "n1", "name": "N1"}),
        ("/api/v1/sites", {"id": "s1", "name": "S1", "networkId": "n1"}),
        ("/api/v1/charging-station-models", {**MODEL, "id": "m1"}),
        ("/api/v1/circuits", {**CIRCUIT, "id": "c1"}),
    ):
        assert (await admin.post(url, json=body)).status_code == 201
    await harness.register("CP-1")
    return harness


async def test_every_route_answers_each_role_as_the_matrix_says(estate: ApiHarness) -> None:
    clients = {role: estate.client(role) for role in RANK}
    anonymous = estate.client(None)
    for method, path, body, least in ROUTES:
        assert (await anonymous.request(method, path, json=body)).status_code == 401, path
        for role, client in clients.items():
            response = await client.request(method, path, json=body)
            if RANK[role] >= RANK[least]:
                assert response.status_code not in (401, 403), (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert response.json()["error"]["code"] == "forbidden"
