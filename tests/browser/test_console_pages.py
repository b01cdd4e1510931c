"""The console's sessions, circuits, alerts and KPIs pages end to end: a real browser, a real
server, a simulated charger; every change arrives through the live events, without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from simulators import ChargePoint16Simulator
from tests.browser.conftest import SCREENSHOTS, Console, assert_every_control_is_named

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The first running session's energy as the sessions list shows it, in Wh (null before any).
LISTED_ENERGY_WH = """() => {
    const text = document.querySelector("tr td.energy")?.textContent ?? "";
    const [, value] = /^([\\d.,]+) kWh$/.exec(text) ?? [];
    return value ? parseFloat(value.replaceAll(",", "")) * 1000 : null;
}"""


async def start_session(console: Console) -> None:
    """A session on EVSE 1 of CP-1, started through the API (the charger meters it)."""
    answer = await console.csms.api().post(
        "/api/v1/charge-points/CP-1/actions/start", json={"idTag": "SIM-TAG", "evseId": 1}
    )
    assert answer.json()["data"]["status"] == "Accepted", answer.text


async def test_a_faulted_status_raises_an_alert_that_can_be_acknowledged(
    console: Console, charger: ChargePoint16Simulator
) -> None:
    page = console.page
    await charger.start()
    await charger.wait_booted(timeout=5)
    await console.open("/#/alerts")
    await console.sign_in(console.csms.operator_token)
    await expect(page.get_by_text("No alerts match these filters.")).to_be_visible()

    # The charger reports a fault: the alert appears, without a reload.
    await charger.status_notification(1, "Faulted", error_code="OtherError")
    # Its row, then its history and actions: one row group per alert.
    row = page.get_by_role("rowgroup").filter(has_text="FAULTED")
    await expect(row).to_contain_text("Triggered")
    await expect(row.get_by_role("link", name="CP-1")).to_be_visible()
    await assert_every_control_is_named(page)

    # Acknowledged with a note: the status and the note change in the row.
    await row.get_by_text("History, acknowledge, resolve").click()
    await row.get_by_label("Note on FAULTED on CP-1").fill("Technician called")
    await page.keyboard.press("Tab")  # by keyboard: the next control is the button
    await expect(row.get_by_role("button", name="Acknowledge FAULTED on CP-1")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(row.locator("td.notes")).to_have_text("Technician called")
    await expect(row).to_contain_text("Acknowledged")
    await expect(row.locator("ol.history")).to_contain_text("by test-operator")
    await console.screenshot("console-alerts.png")

    # Then resolved: final, so the buttons go.
    await row.get_by_role("button", name="Resolve FAULTED on CP-1").click()
    await expect(row).to_contain_text("Resolved")
    await expect(row.get_by_role("button", name=re.compile("Acknowledge"))).to_be_hidden()
    alerts = await console.csms.api().get("/api/v1/alerts", params={"name": "FAULTED"})
    [alert] = alerts.json()["data"]["items"]
    assert (alert["status"], alert["notes"], alert["resolvedBy"]) == (
        "Resolved",
        "Technician called",
        "test-operator",
    )


async def test_a_session_appears_with_rising_energy_and_its_page_has_the_chart(
    console: Console, charger: ChargePoint16Simulator
) -> None:
    page = console.page
    await charger.start()
    await charger.wait_booted(timeout=5)
    await console.open("/#/chargers/CP-1")
    await console.sign_in(console.csms.operator_token)
    await page.get_by_role("link", name="Its sessions").click()  # the charger page links to them
    await expect(page.get_by_label("Charger", exact=True)).to_have_value("CP-1")
    await expect(page.get_by_text("No sessions match these filters.")).to_be_visible()

    await start_session(console)
    listing = page.get_by_role("table", name="Sessions, newest first")
    row = listing.get_by_role("row", name=re.compile("Running"))
    await expect(row.get_by_role("link", name="CP-1")).to_be_visible()
    tx_id = await row.get_by_role("link", name=re.compile(r"^tx_")).inner_text()
    await page.wait_for_function(f"() => ({LISTED_ENERGY_WH})() !== null")
    first = await page.evaluate(LISTED_ENERGY_WH)
    await page.wait_for_function(f"(first) => ({LISTED_ENERGY_WH})() > first", arg=first)
    await assert_every_control_is_named(page)

    await row.get_by_role("link", name=tx_id).click()
    await expect(page.get_by_role("heading", name=f"Session {tx_id} on CP-1")).to_be_visible()
    points = 12 if SCREENSHOTS else 3  # a dozen for a screenshot worth looking at
    await page.wait_for_function(
        "(n) => Number(document.querySelector('.chart')?.dataset.points) >= n",
        arg=points,
        timeout=points * 500 + 5000,  # a reading every 0.5 s
    )
    latest = page.locator("#session-chart-latest")
    await expect(latest).to_contain_text("Power: 11.00 kW")
    await expect(latest).to_contain_text(re.compile(r"Energy: [1-9][\d,]* Wh"))
    await console.screenshot("console-session.png")

    # The filters: ended sessions only, the running one is not listed.
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Sessions").click()
    await page.get_by_label("Running or ended").select_option("false")
    await page.get_by_role("button", name="Show sessions").click()
    await expect(page.get_by_text("No sessions match these filters.")).to_be_visible()
    assert "active=false" in page.url


async def test_a_circuit_shows_its_allocation_and_an_operator_changes_a_priority(
    console: Console, charger: ChargePoint16Simulator
) -> None:
    page = console.page
    api = console.csms.api()
    circuit = {"id": "garage", "name": "Garage", "phases": "three_phase", "maxCurrent": 32}
    assert (await api.post("/api/v1/circuits", json=circuit)).status_code == 201
    attach = {"chargePointId": "CP-1", "priority": 1}
    assert (await api.post("/api/v1/circuits/garage/attach-charge-point", json=attach)).is_success
    await charger.start()
    await charger.wait_booted(timeout=5)
    await console.open("/#/circuits")
    await console.sign_in(console.csms.operator_token)
    card = page.get_by_role("region", name=re.compile("^Garage"))
    await expect(card.get_by_text("No session on this circuit.")).to_be_visible()

    # A session starts: the load manager gives it the whole circuit, shown live per line.
    await start_session(console)
    l1 = card.locator(".phase[data-line=L1]")
    await expect(l1).to_contain_text("32.0 A allocated", timeout=5000)
    await expect(l1).to_contain_text("limit 32.0 A")
    width = await l1.locator(".level.allocated").evaluate("(bar) => bar.style.width")
    assert width == "100%"
    sessions = card.get_by_role("table", name="Sessions on Garage")
    await expect(sessions.get_by_role("row", name=re.compile(r"tx_\d+"))).to_contain_text(
        "1 (its charger's)"
    )
    await assert_every_control_is_named(page)
    if SCREENSHOTS:  # once the car draws what it was given
        await expect(l1).to_contain_text(re.compile(r"[1-9][\d.]* A measured"), timeout=8000)
        await console.screenshot("console-circuits.png")

    # The operator doubles the charger's priority: through the API.
    await card.get_by_role("spinbutton", name="priority of CP-1 on Garage").fill("2")
    await card.get_by_role("button", name="Set priority of CP-1 on Garage").click()
    await expect(card.get_by_role("table", name="Chargers on Garage")).to_contain_text("Saved")
    found = (await api.get("/api/v1/circuits/garage")).json()["data"]
    assert found["chargePoints"][0]["priority"] == 2.0
    await expect(sessions).to_contain_text("2 (its charger's)")


async def test_kpis_of_a_site_with_a_connected_charger(
    console: Console, charger: ChargePoint16Simulator
) -> None:
    page = console.page
    await charger.start()
    await charger.wait_booted(timeout=5)
    await console.open("/#/kpis")
    await console.sign_in(console.csms.operator_token)
    # Picked from the site tree; the window is the last 7 days.
    await page.get_by_label("Network, site or charger").select_option(label="— Depot")
    await page.get_by_role("button", name="Show KPIs").click()
    # Connected since a moment after its registration: most of the time it has been measured.
    percentage = re.compile(r"^[1-9]\d*\.\d %$")
    await expect(page.locator("#kpi-connectivity")).to_have_text(percentage)
    await expect(page.locator("#kpi-uptime")).to_have_text(percentage)
    await expect(page.locator("#kpi-window")).to_contain_text("buckets of 1h")
    await expect(page.locator("#kpi-chart-latest")).to_contain_text(
        re.compile(r"Connectivity: [1-9]\d*\.\d %")
    )
    assert await page.locator(".chart canvas").count() == 1
    items = page.get_by_role("table", name="Connectivity per charger")
    await expect(items.get_by_role("row", name=re.compile("CP-1"))).to_contain_text(" %")
    assert "scope=site%3Adepot" in page.url
    await assert_every_control_is_named(page)
