"""Health, authentication, the error envelope and the OpenAPI document."""

from __future__ import annotations

import httpx
import pytest

import csms
from tests.api.conftest import ApiHarness


async def test_health_needs_no_token(harness: ApiHarness) -> None:
    response = await harness.client(token=None).get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "chargersConnected": 0, "version": csms.__version__}


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic b3BzOm9wcw==", "Bearer "]
)
async def test_missing_or_invalid_token_is_401(
    harness: ApiHarness, authorization: str | None
) -> None:
    response = await harness.client(token=authorization).get("/api/v1/charge-points")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert error["message"]
    assert error["details"] == {}


async def test_viewer_reads_but_cannot_write(harness: ApiHarness) -> None:
    viewer = harness.client("viewer")
    assert (await viewer.get("/api/v1/charge-points")).status_code == 200
    assert (await viewer.get("/api/v1/id-tags")).status_code == 200

    response = await viewer.post("/api/v1/charge-points", json={"id": "CP-1"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    await harness.register("CP-1")
    for method, path in [
        ("PATCH", "/api/v1/charge-points/CP-1"),
        ("DELETE", "/api/v1/charge-points/CP-1"),
        ("POST", "/api/v1/id-tags"),
    ]:
        response = await viewer.request(method, path, json={})
        assert response.status_code == 403, (method, path)
    assert (await harness.client().get("/api/v1/charge-points/CP-1")).status_code == 200


async def test_unknown_route_and_wrong_method_use_the_envelope(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

    response = await api.put("/api/v1/charge-points")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_malformed_json_is_a_validation_error(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/id-tags", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_unexpected_error_is_a_500_envelope_without_a_trace(harness: ApiHarness) -> None:
    async def boom() -> None:
        raise RuntimeError("secret internals")

    harness.app.add_api_route("/boom", boom)
    response = await harness.client(raise_app_exceptions=False).get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_openapi_document(harness: ApiHarness) -> None:
    response = await harness.client(token=None).get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["info"]["version"] == csms.__version__
    assert doc["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    paths = doc["paths"]
    for path in [
        "/health",
        "/api/v1/charge-points",
        "/api/v1/charge-points/{cp_id}",
        "/api/v1/transactions",
        "/api/v1/transactions/{ref}",
        "/api/v1/transactions/{ref}/meter-values",
        "/api/v1/charge-points/{cp_id}/transactions/{transaction_id}",
        "/api/v1/id-tags",
        "/api/v1/id-tags/{uid}",
        "/api/v1/ocpp-messages",
    ]:
        assert path in paths, path
        for operation in paths[path].values():
            assert operation.get("summary"), path
    register = paths["/api/v1/charge-points"]["post"]
    assert register["security"] == [{"ApiToken": []}]
    assert "422" in register["responses"]
    assert "security" not in paths["/health"]["get"]
    docs = await harness.client(token=None).get("/docs")
    assert docs.status_code == 200
