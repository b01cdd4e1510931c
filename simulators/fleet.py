"""Run N simulated chargers until a deadline or a signal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog

from simulators.v16 import ChargePoint16Simulator
from simulators.v201 import ChargePoint201Simulator

# Spreading connects avoids a thundering herd on the CSMS at start-up.
START_STAGGER_SECONDS = 0.05

log = structlog.get_logger("simulators.fleet")

Simulator = ChargePoint16Simulator | ChargePoint201Simulator
SUPPORTED_OCPP = ("1.6", "2.0.1")
# The central system's operator API port when nothing says otherwise (csms.config ApiSettings).
DEFAULT_API_PORT = 8080
# Calls whose answer says whether the CSMS accepts the id-tag the charger presented.
ID_TAG_CALLS = frozenset({"Authorize", "StartTransaction", "TransactionEvent"})
# Answers that mean "this CSMS does not know the tag" (1.6 and 2.0.1): registering it helps.
UNKNOWN_STATUSES = frozenset({"Invalid", "Unknown"})


@dataclass(frozen=True)
class FleetOptions:
    chargers: int
    url: str
    prefix: str = "SIM-"
    password: str | None = None
    connectors: int = 2
    meter_interval: float = 5.0
    session_seconds: float = 60.0
    idle_seconds: float = 10.0
    id_tag: str = "SIM-TAG"
    power_w: float = 11000.0
    duration: float | None = None
    ocpp: str = "1.6"
    # 2.0.1 only: the CSMS matches idTokens on value and type.
    id_token_type: str = "ISO14443"
    # The CSMS's operator API, only for hints; None: the host of ``url`` on DEFAULT_API_PORT.
    api_url: str | None = None
    # The cars: A per phase at most and phases (1 or 3); every Nth charger (0: none) gets
    # single-phase cars instead, so that a fleet shows a mix.
    car_max_current: float = 32.0
    car_phases: int = 3
    single_phase_every: int = 0
    # Seconds a car takes to follow a new charging limit.
    limit_delay: float = 2.0
    # False: chargers without smart charging, which refuse every charging profile.
    smart_charging: bool = True

    def car_phases_of(self, i: int) -> int:
        """The phases the cars of charger ``i`` (1-based) use."""
        if self.single_phase_every > 0 and i % self.single_phase_every == 0:
            return 1
        return self.car_phases

    def operator_api_url(self) -> str:
        first = self.url.split(",")[0].strip()
        return self.api_url.rstrip("/") if self.api_url else default_api_url(first)


def default_api_url(ocpp_url: str) -> str:
    """Where the operator API of the CSMS behind ``ocpp_url`` most likely is (a guess)."""
    parts = urlsplit(ocpp_url)
    host = parts.hostname or "127.0.0.1"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    scheme = "https" if parts.scheme in ("wss", "https") else "http"
    return f"{scheme}://{host}:{DEFAULT_API_PORT}"


def register_command(id_tag: str, api_url: str) -> str:
    """The curl command that registers ``id_tag`` with the CSMS (an operator token in $TOKEN).

    The record has no type, so it also matches a 2.0.1 idToken of whatever type."""
    body = json.dumps({"idTagUid": id_tag})
    url = f"{api_url.rstrip('/')}/api/v1/id-tags"
    return (
        'curl -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"'
        f" -d {shlex.quote(body)} {shlex.quote(url)}"
    )


def show_register_command(id_tag: str, api_url: str) -> None:
    """The register command once more, verbatim on stderr, to copy and paste: the console log
    renderer quotes and escapes the log line's ``register`` value."""
    print(
        f"  to register id-tag {id_tag} ($TOKEN: an operator API token):\n"
        f"  {register_command(id_tag, api_url)}",
        file=sys.stderr,
        flush=True,
    )


def refused_id_tag(payload: Any, result: Any) -> tuple[str, str] | None:
    """(id-tag, status) when ``result`` refuses the id-tag that ``payload`` presented."""
    if type(payload).__name__ not in ID_TAG_CALLS:
        return None
    info = getattr(result, "id_tag_info", None) or getattr(result, "id_token_info", None)
    if not isinstance(info, dict):
        return None
    status = info.get("status")
    if status is None or status == "Accepted":
        return None
    tag = getattr(payload, "id_tag", None)
    if tag is None:
        token = getattr(payload, "id_token", None)
        if isinstance(token, dict):
            tag = token.get("idToken", token.get("id_token"))
    return (str(tag), str(status)) if tag is not None else None


class IdTagHint:
    """Logs, once per run, how to fix the first id-tag the CSMS refuses.

    Without it a new user only sees one ``not_authorized`` line per session."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.given = False

    def observe(self, identity: str, payload: Any, result: Any) -> None:
        if self.given:
            return
        refused = refused_id_tag(payload, result)
        if refused is None:
            return
        self.given = True
        tag, status = refused
        fields = {"cp": identity, "action": type(payload).__name__, "id_tag": tag, "status": status}
        if status not in UNKNOWN_STATUSES:
            hint = (
                f"this CSMS knows the id-tag but answers {status}: check it with"
                f" GET {self.api_url}/api/v1/id-tags/{tag} (status enabled, expireAt)"
            )
            log.warning("id_tag_refused", **fields, hint=hint)
            return
        hint = (
            "this CSMS does not know the id-tag: register it once (an operator token:"
            " csms token create --role operator), or run with --id-tag <a registered tag>"
        )
        command = register_command(tag, self.api_url)
        log.warning("id_tag_refused", **fields, hint=hint, register=command)
        show_register_command(tag, self.api_url)


class _HintedCharger16(ChargePoint16Simulator):
    hint: IdTagHint | None = None

    async def _call(self, payload: Any) -> Any:
        result = await super()._call(payload)
        if self.hint is not None:
            self.hint.observe(self.identity, payload, result)
        return result


class _HintedStation201(ChargePoint201Simulator):
    hint: IdTagHint | None = None

    async def _call(self, payload: Any) -> Any:
        result = await super()._call(payload)
        if self.hint is not None:
            self.hint.observe(self.identity, payload, result)
        return result


def build_fleet(options: FleetOptions, hint: IdTagHint | None = None) -> list[Simulator]:
    """The chargers of one group; they report refused id-tags to ``hint``."""
    if options.ocpp == "2.0.1":
        return [_build(options, i, hint) for i in range(1, options.chargers + 1)]
    if options.ocpp != "1.6":
        raise ValueError(f"unsupported OCPP version {options.ocpp!r}; supported: {SUPPORTED_OCPP}")
    return [_build(options, i, hint) for i in range(1, options.chargers + 1)]


def _build(options: FleetOptions, i: int, hint: IdTagHint | None) -> Simulator:
    common: dict[str, Any] = {
        "identity": f"{options.prefix}{i}",
        "url": options.url,
        "password": options.password,
        "auto": True,
        "meter_interval": options.meter_interval,
        "session_seconds": options.session_seconds,
        "idle_seconds": options.idle_seconds,
        "id_tag": options.id_tag,
        "power_w": options.power_w,
        "car_max_current": options.car_max_current,
        "car_phases": options.car_phases_of(i),
        "limit_delay": options.limit_delay,
        "smart_charging": options.smart_charging,
    }
    charger: _HintedCharger16 | _HintedStation201
    if options.ocpp == "2.0.1":
        # --connectors means EVSEs here: each 2.0.1 EVSE has one connector.
        charger = _HintedStation201(
            evses=options.connectors, id_token_type=options.id_token_type, **common
        )
    else:
        charger = _HintedCharger16(connectors=options.connectors, **common)
    charger.hint = hint
    return charger


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on every platform (e.g. Windows); Ctrl-C still works there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def run_fleet(
    options: FleetOptions | Sequence[FleetOptions], stop: asyncio.Event | None = None
) -> None:
    """Run one fleet, or several side by side (e.g. 1.6 and 2.0.1), until stopped."""
    stop = stop or asyncio.Event()
    _install_signal_handlers(stop)
    groups = [options] if isinstance(options, FleetOptions) else list(options)
    # One hint per run, not one per charger or session.
    hint = IdTagHint(groups[0].operator_api_url()) if groups else None
    fleet = [sim for group in groups for sim in build_fleet(group, hint)]
    duration = groups[0].duration if groups else None
    log.info("fleet_starting", chargers=len(fleet), urls=sorted({g.url for g in groups}))
    try:
        for sim in fleet:
            await sim.start()
            if stop.is_set():
                break
            await asyncio.sleep(START_STAGGER_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
    finally:
        log.info("fleet_stopping")
        # Graceful: running sessions end with a StopTransaction first.
        await asyncio.gather(*(sim.shutdown() for sim in fleet), return_exceptions=True)
        log.info("fleet_stopped")
