from __future__ import annotations

from pathlib import Path

import pytest

from csms.config import ConfigError, load_settings

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
