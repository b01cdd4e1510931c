"""Settings: the only reader of config files and CSMS_* environment variables.

The file is TOML; every key is documented with its default in config.example.toml. An environment
variable ``CSMS_<SECTION>_<KEY>`` overrides the file (``CSMS_OCPP_PORT=9100``). A wrong key or type
stops start-up with a message naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "ApiSettings",
    "ApiTokenSetting",
    "ClusterSettings",
    "ConfigError",
    "DatabaseSettings",
    "LoadManagementSettings",
    "LogSettings",
    "MonitoringSettings",
    "OcppSettings",
    "RuntimeSettings",
    "Settings",
    "TlsSettings",
    "WebhookSettings",
    "load_settings",
    "mask_password",
]

RegistrationStatus = Literal["Accepted", "Pending", "Rejected"]


class ConfigError(Exception):
    """The configuration cannot be used; the message names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OcppSettings(_Section):
    host: str = "0.0.0.0"
    port: int = Field(default=9000, ge=0, le=65535)
    heartbeat_interval: int = Field(default=300, ge=1)
    # Interval told to a charger whose BootNotification is answered Pending or Rejected.
    boot_retry_interval: int = Field(default=60, ge=0)
    default_registration_status: RegistrationStatus = "Accepted"
    allow_unknown_chargers: bool = False
    # At most this many newcomers let in by allow_unknown_chargers await an operator's decision.
    max_unknown_chargers: int = Field(default=100, ge=1)
    command_timeout: float = Field(default=30.0, gt=0)
    command_timeout_max: float = Field(default=300.0, gt=0)
    ping_interval: float = Field(default=60.0, ge=0)  # 0 disables
    ping_timeout: float = Field(default=30.0, ge=0)  # 0 disables
    max_frame_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Open connections (handshakes included) one source address may hold; 0: no cap. Generous:
    # a site behind one NAT address may hold hundreds of chargers.
    max_connections_per_address: int = Field(default=1000, ge=0, le=1_000_000)
    # CALLs one connection may send: this many per second on average (0: no limit), with bursts
    # of up to call_rate_burst. Excess CALLs are answered with a CALLERROR GenericError.
    call_rate_limit: float = Field(default=100.0, ge=0)
    call_rate_burst: int = Field(default=2000, ge=1, le=1_000_000)
    # Wrong Basic Auth passwords: after this many within auth_failure_window_s for one identity,
    # or from one address, either is refused (HTTP 429) for auth_lockout_s, without hashing.
    auth_max_failures_per_identity: int = Field(default=10, ge=1)
    auth_max_failures_per_address: int = Field(default=50, ge=1)
    auth_failure_window_s: float = Field(default=60.0, gt=0, le=86400)
    auth_lockout_s: float = Field(default=60.0, gt=0, le=86400)
    # Password hashes (scrypt) computed at once; further handshakes wait for one to finish.
    password_check_concurrency: int = Field(default=2, ge=1, le=64)
    # The message log keeps at most this much of one frame (a longer one is cut, and marked so)...
    message_log_max_frame_bytes: int = Field(default=64 * 1024, ge=256)
    # ...and holds at most this many bytes of frames in memory between writes; beyond, frames
    # are left out of the log (counted in csms_message_log_dropped_total), never delayed.
    message_log_max_buffer_bytes: int = Field(default=64 * 1024 * 1024, ge=64 * 1024)
    # The old names of [tls] server_cert_file / server_key_file, still read (one or the other).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> OcppSettings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file must be set together")
        return self


def _pair(section: BaseModel, first: str, second: str) -> None:
    if (getattr(section, first) is None) != (getattr(section, second) is None):
        raise ValueError(f"{first} and {second} must be set together")


class TlsSettings(_Section):
    """wss:// for chargers (security profiles 2 and 3) and the CSMS's certificate authority."""

    # The server certificate (PEM chain) and its key: RSA or ECDSA. An optional second pair of
    # the other kind lets both the ECDHE-ECDSA and the RSA cipher suites negotiate (A00.FR.318).
    server_cert_file: Path | None = None
    server_key_file: Path | None = None
    server_ecdsa_cert_file: Path | None = None
    server_ecdsa_key_file: Path | None = None
    # Trust store for charger (client) certificates, PEM; default: the CA below.
    client_ca_file: Path | None = None
    # An existing CA (PEM certificate and unencrypted key) that signs charger certificates.
    # Unset: the CSMS's own CA in data_dir, created by `csms ca init` or the first start.
    ca_cert_file: Path | None = None
    ca_key_file: Path | None = None
    # Where the CSMS's own CA lives. Unset: next to the SQLite file (with PostgreSQL: no CA
    # unless this or ca_cert_file is set).
    data_dir: Path | None = None
    # Validity of the charger certificates the CA signs.
    client_cert_days: int = Field(default=365, ge=1, le=3650)
    # Seconds between two checks of the live profile-3 sessions against the revoked serials
    # (`csms cert revoke` runs in another process); SIGHUP checks at once. 0: on SIGHUP only.
    revocation_check_s: float = Field(default=60.0, ge=0, le=86400)

    @model_validator(mode="after")
    def _pairs(self) -> TlsSettings:
        _pair(self, "server_cert_file", "server_key_file")
        _pair(self, "server_ecdsa_cert_file", "server_ecdsa_key_file")
        _pair(self, "ca_cert_file", "ca_key_file")
        if self.server_ecdsa_cert_file is not None and self.server_cert_file is None:
            raise ValueError("server_ecdsa_cert_file needs server_cert_file too")
        return self


class ApiTokenSetting(_Section):
    name: str
    role: Literal["admin", "operator", "viewer"]
    token: str = Field(min_length=16)


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    tokens: tuple[ApiTokenSetting, ...] = ()
    # Request bodies larger than this are refused with 413 before they are parsed.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024**3)
    # /metrics without a token (else any role's token is needed).
    public_metrics: bool = False
    # Wrong bearer tokens from one client address: after this many within auth_failure_window_s,
    # every request from it is answered 429 for auth_lockout_s without looking at its token.
    auth_max_failures: int = Field(default=10, ge=1)
    auth_failure_window_s: float = Field(default=60.0, gt=0, le=86400)
    auth_lockout_s: float = Field(default=60.0, gt=0, le=86400)


_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class DatabaseSettings(_Section):
    # Unset: SQLite at ``path``. "sqlite:///relative.db", "sqlite:////absolute.db", or
    # "postgresql://user:password@host:port/database".
    url: str | None = None
    path: Path = Path("csms.db")
    # FULL survives power loss; NORMAL only process crashes. Group commit keeps FULL affordable.
    synchronous: Literal["FULL", "NORMAL"] = "FULL"
    message_log_retention_days: float = Field(default=30.0, gt=0)
    max_batch: int = Field(default=512, ge=1)
    # PostgreSQL: connections for reads (writes have one of their own), and the longest a
    # statement may run before the server cancels it.
    pool_size: int = Field(default=8, ge=1, le=200)
    statement_timeout: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _known_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not url.startswith((_SQLITE_PREFIX, *_POSTGRES_SCHEMES)):
            raise ValueError(
                f"must start with sqlite:/// or postgresql:// (got {mask_password(url)!r})"
            )
        if url == _SQLITE_PREFIX:
            raise ValueError("sqlite:/// needs a file path after the third slash")
        return url

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        return "postgresql" if self.url and self.url.startswith(_POSTGRES_SCHEMES) else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        if self.url and self.url.startswith(_SQLITE_PREFIX):
            return Path(self.url[len(_SQLITE_PREFIX) :])
        return self.path


def mask_password(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


class LoadManagementSettings(_Section):
    # Seconds without a report-consumption reading (after a first one) before a circuit's
    # offlineReservedCurrent is held back instead of its last reading.
    meter_timeout_s: float = Field(default=60.0, gt=0)


class MonitoringSettings(_Section):
    # How long connection and status intervals are kept once they have ended.
    history_retention_days: float = Field(default=400.0, gt=0)
    # Seconds a charger may stay disconnected before a CHARGER_DISCONNECTED alert is raised.
    disconnected_alert_after_s: float = Field(default=300.0, gt=0)


class WebhookSettings(_Section):
    # Seconds after an event during which a failed delivery is retried (exponential backoff with
    # full jitter); then the event is given up for that webhook.
    retry_for_s: float = Field(default=86400.0, gt=0)
    # The first retry waits a random time up to this many seconds, each later one up to twice as
    # long as the one before (at most an hour).
    retry_first_delay_s: float = Field(default=5.0, gt=0, le=3600)
    # The longest one POST to a receiver may take (connect, send, answer).
    request_timeout_s: float = Field(default=10.0, gt=0)
    # How long delivered and given-up events stay in the outbox (the attempts log: 30 days).
    outbox_retention_days: float = Field(default=7.0, gt=0)


class ClusterSettings(_Section):
    # Set: this process is one node of a cluster (ADR 013) over this NATS server, sharing the
    # PostgreSQL database with the other nodes. Unset: a single process.
    nats_url: str | None = None
    # Unique per node; unset: the host name and the OCPP port ("host-9000").
    node_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    )
    # A node not heard from for this long is dead to the others, which take over what it held.
    node_timeout_s: float = Field(default=10.0, gt=0, le=3600)
    # How often a node tells the others it is alive (well under node_timeout_s).
    heartbeat_interval_s: float = Field(default=1.0, gt=0, le=600)
    # The first token of every NATS subject the cluster uses: two clusters can share one NATS.
    subject_prefix: str = Field(default="csms", pattern=r"^[A-Za-z0-9_-]+$")

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("nats://", "tls://")):
            raise ValueError(f"must start with nats:// or tls:// (got {mask_password(url)!r})")
        return url

    @model_validator(mode="after")
    def _heartbeat_within_timeout(self) -> ClusterSettings:
        if self.heartbeat_interval_s * 2 > self.node_timeout_s:
            raise ValueError("heartbeat_interval_s must be at most half of node_timeout_s")
        return self


class LogSettings(_Section):
    format: Literal["console", "json"] = "console"
    level: Literal["debug", "info", "warning", "error"] = "info"


class RuntimeSettings(_Section):
    # "auto": uvloop when it is installed (pip install 'csms[speed]'), else asyncio's own loop.
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"


class Settings(_Section):
    ocpp: OcppSettings = OcppSettings()
    tls: TlsSettings = TlsSettings()
    api: ApiSettings = ApiSettings()
    database: DatabaseSettings = DatabaseSettings()
    loadmanagement: LoadManagementSettings = LoadManagementSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    webhooks: WebhookSettings = WebhookSettings()
    cluster: ClusterSettings = ClusterSettings()
    log: LogSettings = LogSettings()
    runtime: RuntimeSettings = RuntimeSettings()

    @model_validator(mode="after")
    def _one_server_certificate(self) -> Settings:
        if self.ocpp.tls_cert_file is not None and self.tls.server_cert_file is not None:
            raise ValueError(
                "tls.server_cert_file and its old name ocpp.tls_cert_file are both set: keep one"
            )
        return self

    @model_validator(mode="after")
    def _cluster_on_postgresql(self) -> Settings:
        if self.cluster.nats_url is not None and self.database.backend != "postgresql":
            raise ValueError(
                'cluster.nats_url needs database.url = "postgresql://...": the nodes of a cluster'
                " share one PostgreSQL database; SQLite is single-node only"
            )
        return self

    @property
    def clustered(self) -> bool:
        return self.cluster.nats_url is not None

    @property
    def server_certificates(self) -> tuple[tuple[Path, Path], ...]:
        """The (certificate, key) pairs wss:// serves; none: plain ws://."""
        tls, ocpp = self.tls, self.ocpp
        pairs = []
        if tls.server_cert_file is not None and tls.server_key_file is not None:
            pairs.append((tls.server_cert_file, tls.server_key_file))
        elif ocpp.tls_cert_file is not None and ocpp.tls_key_file is not None:
            pairs.append((ocpp.tls_cert_file, ocpp.tls_key_file))
        if tls.server_ecdsa_cert_file is not None and tls.server_ecdsa_key_file is not None:
            pairs.append((tls.server_ecdsa_cert_file, tls.server_ecdsa_key_file))
        return tuple(pairs)

    @property
    def pki_dir(self) -> Path | None:
        """Where the CSMS's own CA lives: [tls] data_dir, else beside the SQLite file."""
        if self.tls.data_dir is not None:
            return self.tls.data_dir
        if self.database.backend == "sqlite":
            return self.database.sqlite_path.parent
        return None


def _apply_env(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    merged = {section: dict(values) for section, values in raw.items() if isinstance(values, dict)}
    merged.update({k: v for k, v in raw.items() if not isinstance(v, dict)})
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for key in model.model_fields:
            value = environ.get(f"CSMS_{section.upper()}_{key.upper()}")
            if value is not None:
                merged.setdefault(section, {})[key] = value
    return merged


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        # A rule across sections (Settings' own validators) has no key of its own.
        lines.append(f"{key}: {item['msg']}" if key else str(item["msg"]))
    return "; ".join(lines)


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (optional) and the environment into frozen settings."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    merged = _apply_env(raw, os.environ if environ is None else environ)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {_describe(exc)}") from exc
