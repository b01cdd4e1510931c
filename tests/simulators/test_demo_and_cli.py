"""``make demo``'s set-up against a real central system, and the simulators' id-tag hints."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from structlog.testing import capture_logs

from csms.app import CentralSystem
from csms.domain.assets import PowerType
from csms.domain.models import IdTagStatus
from csms.domain.paging import Page
from csms.domain.updates import IdTagChanges
from simulators import ChargePoint16Simulator, ChargePoint201Simulator, cli
from simulators.demo import (
    DEMO_NETWORK_ID,
    DEMO_PASSWORD,
    DEMO_TAG,
    DemoSetup,
    set_up_demo,
)
from simulators.fleet import (
    FleetOptions,
    IdTagHint,
    build_fleet,
    default_api_url,
    refused_id_tag,
    register_command,
)
from simulators.product import MODEL_16, MODELS, VENDOR
from tests.conftest import RunningCsms, make_settings, start_csms, stop_csms

SITES = ("demo-depot", "demo-street")


async def _models(system: CentralSystem, model: str) -> list[Any]:
    page = await system.services.catalogue.list_models(Page(limit=10), vendor=VENDOR, model=model)
    return page.items


async def test_demo_set_up_is_idempotent_and_links_booting_simulators(tmp_path: Path) -> None:
    running = await start_csms(make_settings(tmp_path / "csms.db"))
    system = running.system
    try:
        # Left by an earlier demo run: a charger outside any site, a disabled tag.
        await system.services.chargers.register("DEMO-2", password=DEMO_PASSWORD)
        first = await set_up_demo(system, chargers=2, ocpp201=2)
        await system.services.id_tags.update(DEMO_TAG, IdTagChanges(status=IdTagStatus.DISABLED))
        again = await set_up_demo(system, chargers=2, ocpp201=2)
        assert again == first
        await _check_setup(running, first)
        await _check_boot_links_model(running, first)
    finally:
        await stop_csms(running)


async def _check_setup(running: RunningCsms, setup: DemoSetup) -> None:
    services = running.system.services
    assert setup.network_id == DEMO_NETWORK_ID
    assert await services.sites.get_network(DEMO_NETWORK_ID) is not None
    assert setup.site_ids == SITES
    for site_id in SITES:
        site = await services.sites.get_site(site_id)
        assert site is not None and site.network_id == DEMO_NETWORK_ID and site.type == "site"

    circuit, members = await services.circuits.get_circuit(setup.circuit_id)
    assert circuit.max_current == 32.0 and circuit.phases.value == "three_phase"
    assert sorted(m.charge_point_id for m in members) == sorted(setup.chargers)

    for version, model in MODELS.items():
        entries = await _models(running.system, model)
        assert [e.id for e in entries] == [setup.model_ids[version]]  # one entry, not two
        entry = entries[0]
        assert entry.vendor == VENDOR and entry.power_type is PowerType.AC_3_PHASE
        assert entry.connectors and all(
            (c.connection_type, c.format, c.max_amperage, c.max_voltage, c.max_power_watts)
            == ("type2", "SOCKET", 32, 230, 22000)
            for c in entry.connectors
        )

    expected = {
        "DEMO-1": "demo-depot",
        "DEMO-2": "demo-street",  # registered before the demo: moved into its site
        "DEMO201-1": "demo-depot",
        "DEMO201-2": "demo-street",
    }
    assert dict(setup.chargers) == expected
    for identity, site_id in expected.items():
        charger = await services.chargers.get(identity)
        assert charger is not None and charger.site_id == site_id, identity

    tag = await services.id_tags.get(DEMO_TAG)
    assert tag is not None and tag.status == IdTagStatus.ENABLED

    # What the banner tells the operator to look at, with a token like the one it prints.
    response = await running.api().get("/api/v1/site-tree")
    assert response.status_code == 200, response.text
    roots = {node["id"]: node for node in response.json()["data"]}
    network = roots[DEMO_NETWORK_ID]
    sites = {node["id"]: node for node in network["subgroups"]}
    assert set(sites) == set(SITES)
    assert sorted(sites["demo-depot"]["chargers"]) == ["DEMO-1", "DEMO201-1"]
    assert sorted(sites["demo-street"]["chargers"]) == ["DEMO-2", "DEMO201-2"]


async def _check_boot_links_model(running: RunningCsms, setup: DemoSetup) -> None:
    url = running.ocpp_url
    sims: list[ChargePoint16Simulator | ChargePoint201Simulator] = [
        ChargePoint16Simulator("DEMO-1", url, DEMO_PASSWORD, connectors=2),
        ChargePoint201Simulator("DEMO201-1", url, DEMO_PASSWORD, evses=2),
    ]
    try:
        for sim in sims:
            await sim.start()
            await sim.wait_booted(timeout=5)
    finally:
        for sim in sims:
            await sim.stop()
    api = running.api()
    for identity, version in (("DEMO-1", "1.6"), ("DEMO201-1", "2.0.1")):
        detail = (await api.get(f"/api/v1/charge-points/{identity}")).json()["data"]
        assert detail["bootInfo"]["vendor"] == VENDOR
        assert detail["bootInfo"]["model"] == MODELS[version]
        assert detail["modelId"] == setup.model_ids[version]


async def test_demo_converges_when_its_model_entry_was_archived(tmp_path: Path) -> None:
    running = await start_csms(make_settings(tmp_path / "csms.db"))
    system = running.system
    try:
        first = await set_up_demo(system, chargers=1, ocpp201=0)
        await system.services.catalogue.archive(first.model_ids["1.6"])
        again = await set_up_demo(system, chargers=1, ocpp201=0)
        # A new live entry: only a live one links chargers at boot.
        assert again.model_ids["1.6"] != first.model_ids["1.6"]
        assert [e.id for e in await _models(system, MODEL_16)] == [again.model_ids["1.6"]]
        assert again.model_ids["2.0.1"] == first.model_ids["2.0.1"]
    finally:
        await stop_csms(running)


# ------------------------------------------------------------------------------ id-tag hints


def _register_body_and_url(command: str) -> tuple[dict[str, Any], str]:
    words = shlex.split(command)
    assert words[:3] == ["curl", "-X", "POST"]
    assert "Authorization: Bearer $TOKEN" in words
    return json.loads(words[words.index("-d") + 1]), words[-1]


def test_register_command_is_a_valid_curl_call_for_the_tag() -> None:
    body, url = _register_body_and_url(register_command('O\'Brien "1"', "http://h:8080/"))
    assert body == {"idTagUid": 'O\'Brien "1"'}
    assert url == "http://h:8080/api/v1/id-tags"


def test_default_api_url_is_the_ocpp_host_on_the_api_port() -> None:
    assert default_api_url("ws://10.0.0.5:9000/ocpp") == "http://10.0.0.5:8080"
    assert default_api_url("wss://csms.example/ocpp") == "https://csms.example:8080"
    assert default_api_url("ws://[::1]:9000/ocpp") == "http://[::1]:8080"
    options = FleetOptions(chargers=1, url="ws://x:9000/ocpp", api_url="http://api:1/")
    assert options.operator_api_url() == "http://api:1"


def test_refusals_are_recognised_in_every_id_tag_answer() -> None:
    start16 = call16.StartTransaction(connector_id=1, id_tag="T16", meter_start=0, timestamp="t")
    blocked = result16.StartTransaction(transaction_id=1, id_tag_info={"status": "Blocked"})
    assert refused_id_tag(start16, blocked) == ("T16", "Blocked")
    authorize = call16.Authorize(id_tag="T16")
    assert refused_id_tag(authorize, result16.Authorize(id_tag_info={"status": "Accepted"})) is None
    event = call201.TransactionEvent(
        event_type="Started",
        timestamp="t",
        trigger_reason="Authorized",
        seq_no=0,
        transaction_info={"transactionId": "tx"},
        id_token={"idToken": "T201", "type": "ISO14443"},
    )
    refused = result201.TransactionEvent(id_token_info={"status": "Invalid"})
    assert refused_id_tag(event, refused) == ("T201", "Invalid")
    assert refused_id_tag(event, result201.TransactionEvent()) is None
    assert refused_id_tag(call16.Heartbeat(), result16.Heartbeat(current_time="t")) is None


def test_hint_is_logged_once_per_run_and_names_tag_and_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hint = IdTagHint("http://csms:8080")
    answer = result16.Authorize(id_tag_info={"status": "Invalid"})
    with capture_logs() as logs:
        hint.observe("SIM-1", call16.Authorize(id_tag="SIM-TAG"), answer)
        hint.observe("SIM-2", call16.Authorize(id_tag="SIM-TAG"), answer)
    refused = [e for e in logs if e["event"] == "id_tag_refused"]
    assert len(refused) == 1
    entry = refused[0]
    assert entry["log_level"] == "warning"
    assert (entry["cp"], entry["id_tag"], entry["status"]) == ("SIM-1", "SIM-TAG", "Invalid")
    body, url = _register_body_and_url(entry["register"])
    assert body == {"idTagUid": "SIM-TAG"} and url == "http://csms:8080/api/v1/id-tags"
    assert "--id-tag" in entry["hint"]
    # The same command verbatim on stderr, ready to paste (the console log line quotes it).
    assert capsys.readouterr().err.splitlines()[-1].strip() == entry["register"]


def test_a_known_but_refused_tag_gets_no_register_command() -> None:
    hint = IdTagHint("http://csms:8080")
    with capture_logs() as logs:
        hint.observe(
            "SIM-1", call16.Authorize(id_tag="OLD"), result16.Authorize({"status": "Expired"})
        )
    (entry,) = logs
    assert entry["status"] == "Expired" and "register" not in entry
    assert "GET http://csms:8080/api/v1/id-tags/OLD" in entry["hint"]


def test_cli_says_at_start_up_which_tag_it_presents_and_how_to_register_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[FleetOptions] = []

    async def fake_run_fleet(options: FleetOptions) -> None:
        ran.append(options)

    monkeypatch.setattr(cli, "run_fleet", fake_run_fleet)
    monkeypatch.setattr(cli, "configure_logging", lambda level: None)
    argv = ["--chargers", "2", "--url", "ws://10.1.2.3:9000/ocpp", "--id-tag", "MY-TAG"]
    with capture_logs() as logs:
        assert cli.main([*argv, "--ocpp", "2.0.1", "--id-token-type", "Central"]) == 0
    announced = [e for e in logs if e["event"] == "presenting_id_tag"]
    assert len(announced) == 1  # once, not once per charger
    entry = announced[0]
    assert entry["id_tag"] == "MY-TAG" and entry["id_token_type"] == "Central"
    body, url = _register_body_and_url(entry["register"])
    assert body == {"idTagUid": "MY-TAG"} and url == "http://10.1.2.3:8080/api/v1/id-tags"
    assert ran and ran[0].id_tag == "MY-TAG"
    err = capsys.readouterr().err
    assert "id-tag MY-TAG" in err and entry["register"] in err.splitlines()[-1]

    with capture_logs() as logs:
        assert cli.main([*argv, "--api-url", "https://ops.example"]) == 0
    (entry,) = [e for e in logs if e["event"] == "presenting_id_tag"]
    assert "id_token_type" not in entry  # 1.6 has no token types
    assert _register_body_and_url(entry["register"])[1] == "https://ops.example/api/v1/id-tags"


async def test_a_refused_tag_gets_one_hint_whose_command_fixes_it(tmp_path: Path) -> None:
    running = await start_csms(make_settings(tmp_path / "csms.db"))
    try:
        await running.register("HINT-1")
        options = FleetOptions(
            chargers=1,
            url=running.ocpp_url,
            prefix="HINT-",
            id_tag="NEW-USER-TAG",
            idle_seconds=3600,  # no automatic session during the test
            api_url=running.api_url,
        )
        hint = IdTagHint(options.operator_api_url())
        (sim,) = build_fleet(options, hint)
        assert isinstance(sim, ChargePoint16Simulator)
        await sim.start()
        try:
            await sim.wait_booted(timeout=5)
            with capture_logs() as logs:
                for _ in range(2):
                    answer = await sim.authorize("NEW-USER-TAG")
                    assert answer.id_tag_info["status"] == "Invalid"
            (entry,) = [e for e in logs if e["event"] == "id_tag_refused"]
            assert entry["action"] == "Authorize" and entry["id_tag"] == "NEW-USER-TAG"
            # Doing what the hint says (curl with an operator token) makes the tag work.
            body, url = _register_body_and_url(entry["register"])
            response = await running.api().post(url, json=body)
            assert response.status_code == 201, response.text
            answer = await sim.authorize("NEW-USER-TAG")
            assert answer.id_tag_info["status"] == "Accepted"
        finally:
            await sim.stop()
    finally:
        await stop_csms(running)


@pytest.mark.parametrize("ocpp", ["1.6", "2.0.1"])
def test_car_options_reach_the_fleet_and_every_nth_charger_has_single_phase_cars(
    monkeypatch: pytest.MonkeyPatch, ocpp: str
) -> None:
    ran: list[FleetOptions] = []

    async def fake_run_fleet(options: FleetOptions) -> None:
        ran.append(options)

    monkeypatch.setattr(cli, "run_fleet", fake_run_fleet)
    monkeypatch.setattr(cli, "configure_logging", lambda level: None)
    argv = ["--chargers", "4", "--url", "ws://127.0.0.1:9/ocpp", "--ocpp", ocpp]
    extra = ["--car-max-current", "16", "--single-phase-every", "2", "--limit-delay", "0"]
    assert cli.main([*argv, *extra, "--no-smart-charging"]) == 0
    (options,) = ran
    assert (options.car_max_current, options.car_phases, options.single_phase_every) == (16, 3, 2)
    fleet = build_fleet(options)
    assert {sim.profiles.smart_charging for sim in fleet} == {False}
    cars = []
    for sim in fleet:
        outlets = (
            [c.outlet for c in sim.connectors.values()]
            if isinstance(sim, ChargePoint16Simulator)
            else [e.outlet for e in sim.evses.values()]
        )
        assert {o.delay for o in outlets} == {0}
        cars.append({(o.car.max_current, o.car.phases) for o in outlets})
    assert cars == [{(16, 3)}, {(16, 1)}, {(16, 3)}, {(16, 1)}]
    with pytest.raises(SystemExit):
        cli.main([*argv, "--car-phases", "2"])
