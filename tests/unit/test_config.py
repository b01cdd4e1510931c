from __future__ import annotations

from pathlib import Path

import pytest

from csms.config import ConfigError, load_settings, mask_password

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_example_config_loads_with_the_documented_defaults() -> None:
    settings = load_settings(EXAMPLE, environ={})
    assert settings.ocpp.port == 9000
    assert settings.api.port == 8080
    assert settings.database.path == Path("csms.db")
    assert settings.ocpp.allow_unknown_chargers is False
    assert settings == load_settings(None, environ={})


def test_environment_overrides_the_file() -> None:
    settings = load_settings(
        EXAMPLE,
        environ={
            "CSMS_OCPP_PORT": "9100",
            "CSMS_API_PORT": "8081",
            "CSMS_DATABASE_PATH": "/tmp/x.db",
            "CSMS_OCPP_ALLOW_UNKNOWN_CHARGERS": "true",
            "CSMS_LOG_FORMAT": "json",
        },
    )
    assert settings.ocpp.port == 9100
    assert settings.api.port == 8081
    assert settings.database.path == Path("/tmp/x.db")
    assert settings.ocpp.allow_unknown_chargers is True
    assert settings.log.format == "json"


def test_a_wrong_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[ocpp]\nprot = 9000\n")
    with pytest.raises(ConfigError, match=r"ocpp\.prot"):
        load_settings(config, environ={})


def test_a_wrong_type_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[api]\nport = "eighty"\n')
    with pytest.raises(ConfigError, match=r"api\.port"):
        load_settings(config, environ={})
    with pytest.raises(ConfigError, match=r"ocpp\.port"):
        load_settings(None, environ={"CSMS_OCPP_PORT": "not-a-port"})


def test_tls_needs_both_files(tmp_path: Path) -> None:
    config = tmp_path / "tls.toml"
    config.write_text('[ocpp]\ntls_cert_file = "a.pem"\n')
    with pytest.raises(ConfigError, match="tls"):
        load_settings(config, environ={})


@pytest.mark.parametrize(
    ("url", "backend", "path"),
    [
        (None, "sqlite", Path("csms.db")),
        ("sqlite:///data/csms.db", "sqlite", Path("data/csms.db")),
        ("sqlite:////var/lib/csms/csms.db", "sqlite", Path("/var/lib/csms/csms.db")),
        ("postgresql://csms:pw@db:5432/csms", "postgresql", None),
        ("postgres://csms@db/csms", "postgresql", None),
    ],
)
def test_the_database_url_picks_the_backend(
    url: str | None, backend: str, path: Path | None
) -> None:
    environ = {} if url is None else {"CSMS_DATABASE_URL": url}
    database = load_settings(EXAMPLE, environ=environ).database
    assert database.backend == backend
    if path is not None:
        assert database.sqlite_path == path


@pytest.mark.parametrize("url", ["mysql://root@db/csms", "sqlite:///", "csms.db"])
def test_an_unknown_database_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(ConfigError, match=r"database\.url"):
        load_settings(None, environ={"CSMS_DATABASE_URL": url})
    with pytest.raises(ConfigError) as refused:
        load_settings(None, environ={"CSMS_DATABASE_URL": "mysql://root:hunter2@db/csms"})
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://csms:s3cr:et@db:5432/csms", "postgresql://csms:***@db:5432/csms"),
        ("postgresql://csms@db/csms", "postgresql://csms@db/csms"),
        ("postgresql://db/csms", "postgresql://db/csms"),
    ],
)
def test_passwords_are_masked_in_database_urls(url: str, masked: str) -> None:
    assert mask_password(url) == masked


def test_ocpp_tls_files_are_the_old_name_of_the_tls_server_certificate(tmp_path: Path) -> None:
    config = tmp_path / "old.toml"
    config.write_text('[ocpp]\ntls_cert_file = "s.crt"\ntls_key_file = "s.key"\n')
    settings = load_settings(config, environ={})
    assert settings.server_certificates == ((Path("s.crt"), Path("s.key")),)

    config.write_text(
        '[tls]\nserver_cert_file = "rsa.crt"\nserver_key_file = "rsa.key"\n'
        'server_ecdsa_cert_file = "ec.crt"\nserver_ecdsa_key_file = "ec.key"\n'
    )
    settings = load_settings(config, environ={})
    assert settings.server_certificates == (
        (Path("rsa.crt"), Path("rsa.key")),
        (Path("ec.crt"), Path("ec.key")),
    )
    assert load_settings(None, environ={}).server_certificates == ()


@pytest.mark.parametrize(
    "text",
    [
        '[ocpp]\ntls_cert_file = "a"\ntls_key_file = "b"\n'
        '[tls]\nserver_cert_file = "c"\nserver_key_file = "d"\n',
        '[tls]\nserver_cert_file = "c"\n',
        '[tls]\nca_key_file = "k"\n',
        '[tls]\nserver_ecdsa_cert_file = "e"\nserver_ecdsa_key_file = "f"\n',
    ],
)
def test_tls_files_that_do_not_pair_up_are_refused(tmp_path: Path, text: str) -> None:
    config = tmp_path / "tls.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=r"tls|cert"):
        load_settings(config, environ={})


def test_the_ca_lives_beside_the_sqlite_file_unless_told(tmp_path: Path) -> None:
    environ = {"CSMS_DATABASE_PATH": "/var/lib/csms/csms.db"}
    assert load_settings(None, environ=environ).pki_dir == Path("/var/lib/csms")
    environ["CSMS_TLS_DATA_DIR"] = "/etc/csms/pki"
    assert load_settings(None, environ=environ).pki_dir == Path("/etc/csms/pki")
    postgres = {"CSMS_DATABASE_URL": "postgresql://db/csms"}
    assert load_settings(None, environ=postgres).pki_dir is None
