"""The operator console in a real browser: headless Chromium (Debian's, driven by Playwright)
against a real central system on free ports with a SQLite file, simulators as chargers.

Every test fails on a console error or an uncaught exception in the page, unless it declared
that error beforehand (``console.log.expect``): a request the test makes fail on purpose is
logged by the browser as a failed resource.

Without Chromium or the console's npm packages the tests are skipped, saying what is missing;
with ``CSMS_REQUIRE_BROWSER=1`` (``make test``, which installs both) they fail instead.
Playwright itself is a test dependency (pyproject's ``test`` extra); only its driver is used,
never its own browser download. ``CSMS_SCREENSHOTS=DIR`` makes the tests save their screenshots
there (``CSMS_SCREENSHOTS=docs`` for the ones the README shows).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

from csms.api.console import CONSOLE_DIR, VENDOR_FILES
from simulators import ChargePoint16Simulator
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms

CHROMIUM = Path(os.environ.get("CSMS_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = os.environ.get("CSMS_SCREENSHOTS")
LAPTOP = ViewportSize(width=1366, height=900)
# The longest a page may take to show what an event or a click brings, unless a test says less
# (the contract's 2 s for a charger coming online): generous, for a 2-core machine running the
# whole suite and more beside it; a pass needs a fraction of it.
WAIT_MS = 10_000
expect.set_options(timeout=WAIT_MS)


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CSMS_CHROMIUM)"
    absent = [
        n for n, f in VENDOR_FILES.items() if not (CONSOLE_DIR / "node_modules" / f).is_file()
    ]
    if absent:
        return f"the console's npm packages are not installed ({', '.join(absent)}): make console"
    return None


@dataclass
class BrowserLog:
    """Console errors and page exceptions, and the errors a test said would come."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@dataclass
class Console:
    """A browser tab on the console of a running central system."""

    page: Page
    csms: RunningCsms
    log: BrowserLog

    async def open(self, path: str = "/") -> None:
        await self.page.goto(self.csms.api_url + path)

    async def sign_in(self, token: str) -> None:
        await self.page.get_by_label("API token").fill(token)
        await self.page.get_by_role("button", name="Sign in").click()
        await self.page.get_by_role("navigation", name="Main").wait_for()

    async def screenshot(self, name: str) -> None:
        if SCREENSHOTS:
            await self.page.screenshot(path=Path(SCREENSHOTS) / name, full_page=True)


# One browser for the module (launching one costs more than a test): the tests and their
# fixtures run in the module's event loop (``pytestmark`` in each test module).
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CSMS_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def csms(tmp_path: Path) -> AsyncIterator[RunningCsms]:
    """One backend is enough here: the console only talks to the API (tested on both)."""
    running = await start_csms(make_settings(tmp_path / "csms.db"))
    try:
        yield running
    finally:
        await stop_csms(running)


@pytest_asyncio.fixture(loop_scope="module")
async def console(browser: Browser, csms: RunningCsms) -> AsyncIterator[Console]:
    context = await browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    log = BrowserLog()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            log.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def on_page_error(error: Error) -> None:
        log.errors.append(f"uncaught: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    try:
        yield Console(page, csms, log)
    finally:
        await context.close()
    assert log.unexpected() == [], "the browser logged errors"


@pytest_asyncio.fixture(loop_scope="module")
async def charger(csms: RunningCsms) -> AsyncIterator[ChargePoint16Simulator]:
    """A 1.6 charger on the site `depot` of the network `city`, not started yet; it sends meter
    values every half second while charging."""
    api = csms.api()
    assert (await api.post("/api/v1/networks", json={"id": "city", "name": "City"})).is_success
    site = {"id": "depot", "name": "Depot", "networkId": "city"}
    assert (await api.post("/api/v1/sites", json=site)).is_success
    await csms.register("CP-1", siteId="depot")
    await csms.add_id_tag("SIM-TAG")
    sim = ChargePoint16Simulator("CP-1", csms.ocpp_url, connectors=2, meter_interval=0.5)
    yield sim
    await sim.stop()


async def assert_every_control_is_named(page: Page) -> None:
    """Every control and link of the page has an accessible name (a label, aria, or text)."""
    unnamed = await page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea, button, a[href]")]
            .filter((el) => !(el.labels?.length || el.getAttribute("aria-label")
                              || el.getAttribute("aria-labelledby") || el.textContent.trim()))
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
