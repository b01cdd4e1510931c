"""The operator console (API.md "Operator console", ADR 012): static files served beside the API.

No build step: the page, its style sheet and its ES modules are ours, under ``csms/console/static``;
the few third-party files it loads come from ``csms/console/node_modules`` (``npm ci`` of the
committed lock file) and only those named in ``VENDOR_FILES`` are served. The console talks to
the API like any other client: nothing here reads a service.

- ``GET /`` — the page (503 with a message when the npm packages are not installed);
- ``GET /console/assets/...`` — our modules, style sheet and icon;
- ``GET /console/vendor/{name}`` — one of ``VENDOR_FILES``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["CONSOLE_DIR", "VENDOR_FILES", "install_console", "page_policy"]

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"

# URL name under /console/vendor/ → the file in node_modules (package.json names the packages).
VENDOR_FILES: Mapping[str, str] = {
    "uPlot.esm.js": "uplot/dist/uPlot.esm.js",
    "uPlot.min.css": "uplot/dist/uPlot.min.css",
    "eventsource.js": "eventsource/dist/index.js",
    "eventsource-parser.js": "eventsource-parser/dist/index.js",
}

# Revalidated on every load (ETag/Last-Modified answer 304): a new version is never run beside
# an old cached module.
_ASSET_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}

_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)

_NOT_INSTALLED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Console not installed</title></head>
<body><h1>The operator console is not installed</h1>
<p>Files it needs are missing ({missing}). Install its front-end packages with
<code>make console</code> (or <code>npm ci</code> in <code>{console_dir}</code>) and reload this
page; the server need not be restarted. The API works without them.</p></body></html>
"""


def page_policy(page: str) -> str:
    """The page's Content-Security-Policy: nothing but our own origin, and the one inline
    script (the import map) by its hash. An injected script, style or form cannot run, which
    matters since the API token lives in the page's sessionStorage."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()}'"
        for m in _IMPORT_MAP.findall(page)
    )
    return (
        "default-src 'none'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class _Assets(StaticFiles):
    """Our static files, revalidated on each load; the page itself only at ``/``."""

    async def check_config(self) -> None:
        try:
            await super().check_config()
        except RuntimeError:  # no such directory: not installed (GET / says so)
            raise StarletteHTTPException(404) from None

    async def get_response(self, path: str, scope: Scope) -> Response:
        if Path(path).name == "index.html":
            raise StarletteHTTPException(404)
        response = await super().get_response(path, scope)
        response.headers.update(_ASSET_HEADERS)
        return response


def install_console(app: FastAPI, console_dir: Path = CONSOLE_DIR) -> None:
    """Adds the console's routes to the API's app (none of them needs a token)."""
    static_dir = console_dir / "static"
    node_modules = console_dir / "node_modules"

    def read_page() -> tuple[list[str], str]:
        """What is missing, else the page (read on each load, a few kB: a changed page is
        served without a restart)."""
        index = static_dir / "index.html"
        absent = [n for n, path in VENDOR_FILES.items() if not (node_modules / path).is_file()]
        if not index.is_file():
            return ["index.html", *absent], ""
        return absent, "" if absent else index.read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    async def console_page() -> Response:
        absent, page = await asyncio.to_thread(read_page)  # file system: off the event loop
        if absent:
            body = _NOT_INSTALLED.format(
                missing=", ".join(html.escape(a) for a in absent),
                console_dir=html.escape(str(console_dir)),
            )
            return HTMLResponse(body, status_code=503, headers={"Retry-After": "60"})
        headers = {
            **_ASSET_HEADERS,
            "Content-Security-Policy": page_policy(page),
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
        }
        return HTMLResponse(page, headers=headers)

    @app.get("/console/vendor/{name}", include_in_schema=False)
    async def vendor_file(name: str) -> Response:
        relative = VENDOR_FILES.get(name)
        if relative is None:
            raise StarletteHTTPException(404)
        path = node_modules / relative
        if not await asyncio.to_thread(path.is_file):
            raise StarletteHTTPException(
                503, f"{name} is not installed: run `make console` (npm ci in {console_dir})"
            )
        return FileResponse(path, headers=_ASSET_HEADERS)

    # check_dir=False: an installation without the console's files still starts (503 above).
    app.mount(
        "/console/assets", _Assets(directory=static_dir, check_dir=False), name="console-assets"
    )
