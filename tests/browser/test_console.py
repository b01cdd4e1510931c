"""The operator console end to end: a real browser, a real server, simulated chargers."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import ViewportSize, expect

from simulators import ChargePoint16Simulator
from tests.browser.conftest import SCREENSHOTS, Console, assert_every_control_is_named

pytestmark = pytest.mark.asyncio(loop_scope="module")

TABLET = ViewportSize(width=768, height=1024)
FITS_THE_WIDTH = "() => document.documentElement.scrollWidth <= window.innerWidth"

ACTION_NAMES = ("start", "stop", "reset", "trigger-message", "disconnect")


# The running session's energy as the page shows it, in Wh (null before its first reading).
SHOWN_ENERGY_WH = """() => {
    const text = document.querySelector("td.energy")?.textContent ?? "";
    const [, value, unit] = /^([\\d.,]+) (k?Wh)$/.exec(text) ?? [];
    return value ? parseFloat(value.replaceAll(",", "")) * (unit === "kWh" ? 1000 : 1) : null;
}"""


async def test_signing_in_and_out(console: Console) -> None:
    page = console.page
    await console.open()
    # A wrong token: refused in words (the browser logs the 401 as a failed resource).
    console.log.expect(r"status of 401")
    await page.get_by_label("API token").fill("not-a-token")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_have_text(
        "That token was not accepted: invalid API token."
    )

    # The keyboard alone signs in; the token is kept in this tab's sessionStorage only.
    await page.get_by_label("API token").fill(console.csms.operator_token)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(page.get_by_text("test-operator (operator)")).to_be_visible()
    stored = await page.evaluate("() => Object.values(sessionStorage)")
    assert stored == [console.csms.operator_token]
    assert console.csms.operator_token not in page.url
    assert await page.context.cookies() == []
    await page.reload()  # still signed in
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("API token")).to_be_visible()
    assert await page.evaluate("() => sessionStorage.length") == 0
    await page.reload()  # the token is forgotten
    await expect(page.get_by_label("API token")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Main")).to_be_hidden()


async def test_the_overview_follows_the_chargers_live(
    console: Console, charger: ChargePoint16Simulator
) -> None:
    page = console.page
    await console.open()
    await console.sign_in(console.csms.operator_token)
    depot = page.get_by_role("listitem", name=re.compile(r"^Depot:"))
    await expect(depot).to_have_accessible_name("Depot: 0 online, 0 offline, 0 error")

    # Connected, booted and its two connectors reported: online within 2 s, without a reload.
    started = time.monotonic()
    await charger.start()
    await expect(depot).to_have_accessible_name("Depot: 2 online, 0 offline, 0 error", timeout=2000)
    assert time.monotonic() - started < 2
    await expect(page.locator("#figure-connected")).to_have_text("1 of 1")

    # A fault: the error count and the alert follow.
    await charger.status_notification(1, "Faulted", error_code="GroundFailure")
    await expect(depot).to_have_accessible_name("Depot: 1 online, 0 offline, 1 error")
    alerts = page.get_by_role("table", name="Open alerts")
    await expect(alerts.get_by_role("row", name=re.compile("FAULTED"))).to_be_visible()
    await expect(page.locator("#figure-alerts")).to_have_text("2")  # FAULTED, GROUND_FAILURE

    # A session on the other connector: running, and today's energy rises with its meter values.
    response = await console.csms.api().post(
        "/api/v1/charge-points/CP-1/actions/start", json={"idTag": "SIM-TAG", "evseId": 2}
    )
    assert response.json()["data"]["status"] == "Accepted"
    await expect(page.locator("#figure-running")).to_have_text("1")
    await expect(page.locator("#figure-energy")).to_have_text(re.compile(r"^[1-9][\d,]* Wh$"))
    await console.screenshot("console-overview.png")


async def test_start_and_stop_from_the_charger_page(
    console: Console, charger: ChargePoint16Simulator
) -> None:
    page = console.page
    await charger.start()
    await charger.wait_booted(timeout=5)
    await console.open()
    await console.sign_in(console.csms.operator_token)
    await page.get_by_role("link", name="Chargers").click()
    await page.get_by_role("link", name="CP-1", exact=True).click()
    await expect(page.get_by_role("heading", name="Charger CP-1")).to_be_visible()
    await expect(page.get_by_text("Online", exact=True)).to_be_visible()
    await assert_every_control_is_named(page)

    # start: the form from the action's schema, the charger's answer shown.
    start = page.locator("details[data-action=start]")
    await start.locator("summary").click()
    await start.get_by_label("idTag").fill("SIM-TAG")
    await start.get_by_label("evseId").fill("1")
    await start.get_by_role("button", name="start", exact=True).click()
    await expect(start.get_by_role("status")).to_contain_text("Accepted")

    # The session appears, and its energy rises as meter values arrive.
    await expect(page.get_by_role("table", name="Running sessions")).to_be_visible()
    await page.wait_for_function(f"() => ({SHOWN_ENERGY_WH})() !== null")
    first = await page.evaluate(SHOWN_ENERGY_WH)
    await page.wait_for_function(f"(first) => ({SHOWN_ENERGY_WH})() > first", arg=first)
    await expect(page.locator("#chart-latest")).to_contain_text("Power: 11.00 kW")
    # A few points drawn (a dozen, for a screenshot worth looking at).
    points = 12 if SCREENSHOTS else 3
    await page.wait_for_function(
        "(n) => Number(document.querySelector('.chart')?.dataset.points) >= n",
        arg=points,
        timeout=points * 500 + 5000,  # a reading every 0.5 s
    )
    history = page.get_by_role("table", name="Command history")
    await expect(
        history.get_by_role("row", name=re.compile("RemoteStartTransaction"))
    ).to_be_visible()
    await console.screenshot("console-charger.png")

    # An error comes back in the API's words.
    console.log.expect(r"status of 400")
    trigger = page.locator("details[data-action=trigger-message]")
    await trigger.locator("summary").click()
    await trigger.get_by_label("type").fill("Nothing")
    await trigger.get_by_role("button", name="trigger-message").click()
    await expect(trigger.get_by_role("alert")).to_contain_text(
        "not_supported: OCPP 1.6 cannot trigger Nothing"
    )

    # stop: its transactionId is the running session's; the session goes.
    stop = page.locator("details[data-action=stop]")
    await stop.locator("summary").click()
    await expect(stop.get_by_label("transactionId")).not_to_have_value("")
    await stop.get_by_role("button", name="stop", exact=True).click()
    await expect(stop.get_by_role("status")).to_contain_text("Accepted")
    await expect(page.get_by_text("No session running.")).to_be_visible()


async def test_a_viewer_sees_no_action_controls_on_any_page(
    console: Console, charger: ChargePoint16Simulator
) -> None:
    """At a tablet's width (portrait), where every page must fit without scrolling sideways."""
    page = console.page
    await page.set_viewport_size(TABLET)
    api = console.csms.api()
    # Something to act on everywhere: a fault (an alert), a circuit, a running session.
    circuit = {"id": "garage", "name": "Garage", "phases": "three_phase", "maxCurrent": 32}
    assert (await api.post("/api/v1/circuits", json=circuit)).status_code == 201
    attach = {"chargePointId": "CP-1"}
    assert (await api.post("/api/v1/circuits/garage/attach-charge-point", json=attach)).is_success
    await charger.start()
    await charger.wait_booted(timeout=5)
    await charger.status_notification(2, "Faulted", error_code="OtherError")
    start = {"idTag": "SIM-TAG", "evseId": 1}
    started = await api.post("/api/v1/charge-points/CP-1/actions/start", json=start)
    assert started.json()["data"]["status"] == "Accepted"

    await console.open("/#/chargers/CP-1")
    await console.sign_in(console.csms.viewer_token)
    await expect(page.get_by_role("heading", name="Charger CP-1")).to_be_visible()
    await expect(page.get_by_text("test-viewer (viewer)")).to_be_visible()
    await expect(page.get_by_text("Signed in with a viewer token")).to_be_visible()
    await expect(page.get_by_role("table", name="EVSEs and connectors")).to_be_visible()
    for name in ACTION_NAMES:
        assert await page.get_by_role("button", name=name, exact=True).count() == 0
    assert await page.locator("form.action-form").count() == 0
    assert await page.get_by_role("button").all_inner_texts() == ["Sign out"]
    assert await page.evaluate(FITS_THE_WIDTH), "the charger page scrolls sideways"

    # Every other page: what a viewer may read, and only buttons that read (filters).
    nav = page.get_by_role("navigation", name="Main")

    async def only_reading(*buttons: str) -> None:
        assert await page.evaluate(FITS_THE_WIDTH), "the page scrolls sideways at tablet width"
        assert await page.get_by_role("button").all_inner_texts() == ["Sign out", *buttons]
        assert await page.get_by_role("spinbutton").count() == 0  # no priority to set
        assert await page.locator("textarea, form.priority, .alert-form").count() == 0

    await nav.get_by_role("link", name="Overview").click()
    await expect(page.locator("#figure-alerts")).to_have_text("1")
    await only_reading()
    await nav.get_by_role("link", name="Chargers").click()
    await expect(page.get_by_role("row", name=re.compile("CP-1"))).to_be_visible()
    await only_reading("Search")
    await nav.get_by_role("link", name="Sessions").click()
    running = page.get_by_role("row", name=re.compile("Running"))
    await expect(running).to_be_visible()
    await only_reading("Show sessions")
    await running.get_by_role("link", name=re.compile(r"^tx_")).click()
    await expect(page.get_by_role("heading", name=re.compile(r"^Session tx_"))).to_be_visible()
    await only_reading()
    await nav.get_by_role("link", name="Circuits").click()
    await expect(page.get_by_role("table", name="Sessions on Garage")).to_contain_text(
        "(its charger's)"
    )
    await expect(page.get_by_role("table", name="Chargers on Garage")).to_contain_text("1")
    await only_reading()
    await nav.get_by_role("link", name="Alerts").click()
    faulted = page.get_by_role("rowgroup").filter(has_text="FAULTED")
    await faulted.get_by_text("History", exact=True).click()
    await expect(faulted.locator("ol.history")).to_contain_text("Triggered")
    await only_reading("Show alerts")
    await nav.get_by_role("link", name="KPIs").click()
    await expect(page.locator("#kpi-connectivity")).to_have_text(re.compile(r"%$"))
    await only_reading("Show KPIs")
