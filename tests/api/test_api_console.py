"""What the operator console needs from the API: who the caller is (GET /me), the actions with
their bodies' JSON Schemas (GET /actions), and the console's own files served beside the API."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from csms.api.console import CONSOLE_DIR, VENDOR_FILES, install_console
from csms.api.errors import install_error_handlers
from csms.domain.commands import COMMANDS
from tests.api.conftest import ApiHarness

# --- GET /me


@pytest.mark.parametrize(
    ("who", "role", "label"),
    [("viewer", "viewer", "watcher"), ("operator", "operator", "ops"), ("admin", "admin", "boss")],
)
async def test_me_tells_a_token_its_role(
    harness: ApiHarness, who: str, role: str, label: str
) -> None:
    response = await harness.client(who).get("/api/v1/me")
    assert response.status_code == 200
    me = response.json()["data"]
    assert me.pop("id").startswith("tok_")
    assert me == {"role": role, "label": label, "expiresAt": None}


async def test_me_is_where_a_wrong_token_is_told_so(harness: ApiHarness) -> None:
    for token in (None, "Bearer not-a-token"):
        response = await harness.client(token).get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


async def test_me_shows_an_expiry(harness: ApiHarness) -> None:
    admin = harness.client("admin")
    body = {"role": "viewer", "expiresAt": "2099-01-01T00:00:00Z"}
    created = (await admin.post("/api/v1/api-tokens", json=body)).json()["data"]
    me = (await harness.client(f"Bearer {created['token']}").get("/api/v1/me")).json()["data"]
    assert me == {
        "id": created["id"],
        "role": "viewer",
        "label": None,
        "expiresAt": "2099-01-01T00:00:00.000Z",
    }


# --- GET /actions


async def test_actions_list_every_command_with_its_body_schema(harness: ApiHarness) -> None:
    response = await harness.client("viewer").get("/api/v1/actions")
    assert response.status_code == 200
    page = response.json()["data"]
    assert page["hasMore"] is False
    assert [item["action"] for item in page["items"]] == list(COMMANDS)
    schemas = {item["action"]: item["bodySchema"] for item in page["items"]}
    for action, command in COMMANDS.items():
        schema = schemas[action]
        # The API's names, exactly the fields the action takes, none of pydantic's titles.
        aliases = {f.alias for f in command.model_fields.values()}
        assert set(schema.get("properties", {})) == aliases, action
        assert all("title" not in p for p in schema.get("properties", {}).values()), action
        assert schema["additionalProperties"] is False

    start = schemas["start"]
    assert start["required"] == ["idTag"]
    assert start["properties"]["idTag"] == {"maxLength": 36, "minLength": 1, "type": "string"}
    profile = start["$defs"]["ChargingProfile"]
    assert "chargingSchedule" in profile["required"]
    assert profile["properties"]["chargingProfilePurpose"]["enum"] == [
        "ChargePointMaxProfile",
        "TxDefaultProfile",
        "TxProfile",
    ]
    assert schemas["disconnect"]["properties"]["reason"]["default"] == "closed by the operator"
    assert schemas["reset"]["properties"]["type"]["enum"] == ["Soft", "Hard"]


def _example(schema: dict[str, object]) -> object:
    """The smallest body the schema says is complete: required fields, first choices."""
    if "enum" in schema:
        return schema["enum"][0]  # type: ignore[index]
    kind = schema.get("type")
    if kind == "string":
        return "2030-01-01T00:00:00Z" if schema.get("format") == "date-time" else "x"
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return None


async def test_a_body_filled_from_the_schema_is_one_the_action_takes(harness: ApiHarness) -> None:
    page = (await harness.client().get("/api/v1/actions")).json()["data"]
    for item in page["items"]:
        schema = item["bodySchema"]
        properties = schema.get("properties", {})
        simple = all("$ref" not in properties[name] for name in schema.get("required", []))
        if not simple:
            continue  # nested bodies are covered by the form tests in the browser
        body = {name: _example(properties[name]) for name in schema.get("required", [])}
        try:
            COMMANDS[item["action"]].model_validate(body)
        except ValidationError as error:  # pragma: no cover - the assertion says which
            pytest.fail(f"{item['action']}: {body} -> {error}")


async def test_the_console_routes_are_not_in_the_openapi_document(harness: ApiHarness) -> None:
    paths = (await harness.client(None).get("/openapi.json")).json()["paths"]
    assert "/api/v1/me" in paths and "/api/v1/actions" in paths
    assert not [p for p in paths if p == "/" or p.startswith("/console")]


# --- the console's files


@pytest.fixture
def console_dir(tmp_path: Path) -> Path:
    """A copy of the console's static files, with no npm packages installed yet."""
    shutil.copytree(CONSOLE_DIR / "static", tmp_path / "static")
    return tmp_path


def _install_packages(console_dir: Path) -> None:
    for name, relative in VENDOR_FILES.items():
        path = console_dir / "node_modules" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"/* {name} */\n")


def _client(console_dir: Path) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)
    install_console(app, console_dir)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_page_and_its_files(console_dir: Path) -> None:
    _install_packages(console_dir)
    async with _client(console_dir) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/console/assets/js/main.js">' in page.text
        # The policy lets in our own files and the one inline script, the import map, by hash.
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        import_map = re.search(r'<script type="importmap">(.*?)</script>', page.text, re.DOTALL)
        assert import_map is not None
        digest = base64.b64encode(hashlib.sha256(import_map.group(1).encode()).digest()).decode()
        assert f"script-src 'self' 'sha256-{digest}'" in policy
        assert "unsafe-inline" not in policy

        module = await client.get("/console/assets/js/main.js")
        assert module.status_code == 200
        assert "javascript" in module.headers["content-type"]
        assert module.headers["cache-control"] == "no-cache"
        vendor = await client.get("/console/vendor/uPlot.esm.js")
        assert vendor.status_code == 200 and vendor.text == "/* uPlot.esm.js */\n"
        assert "javascript" in vendor.headers["content-type"]

        # Only the named files: nothing else of node_modules, no page without its policy.
        (console_dir / "node_modules" / "package.json").write_text("{}")
        for path in (
            "/console/vendor/package.json",
            "/console/vendor/..%2Fpackage.json",
            "/console/assets/../node_modules/package.json",
            "/console/assets/index.html",
            "/console/assets/nothing.js",
        ):
            response = await client.get(path)
            assert response.status_code == 404, path


async def test_without_its_npm_packages_the_console_says_so(console_dir: Path) -> None:
    async with _client(console_dir) as client:
        page = await client.get("/")
        assert page.status_code == 503
        assert "The operator console is not installed" in page.text
        assert "make console" in page.text
        vendor = await client.get("/console/vendor/eventsource.js")
        assert vendor.status_code == 503
        assert vendor.json()["error"]["code"] == "unavailable"
        assert "make console" in vendor.json()["error"]["message"]
        # Installed while the server runs: served from the next request on.
        _install_packages(console_dir)
        assert (await client.get("/")).status_code == 200


async def test_an_installation_without_the_console_files_starts(tmp_path: Path) -> None:
    async with _client(tmp_path) as client:  # no static/, no node_modules/
        page = await client.get("/")
        assert page.status_code == 503
        assert "index.html" in page.text
        assert (await client.get("/console/assets/js/main.js")).status_code == 404
