"""Configuration: TOML file < AIONACTORS_* environment < command line; unknown keys are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from transports.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("AIONACTORS_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aionactors.toml"
    path.write_text(text)
    return path


def test_defaults() -> None:
    config = load_settings()
    assert config.db == "sqlite:///aionactors.db"
    assert (config.host, config.port, config.auth) == ("127.0.0.1", 8080, "headers")


def test_file_then_environment_then_flags(tmp_path, monkeypatch) -> None:
    path = write(
        tmp_path,
        'port = 9000\nhost = "0.0.0.0"\nload = ["a.b"]\n[engine]\nmax_resident = 7\n',
    )
    config = load_settings(path)
    assert (config.port, config.host, config.load) == (9000, "0.0.0.0", ["a.b"])
    assert config.engine.max_resident == 7
    monkeypatch.setenv("AIONACTORS_PORT", "9100")
    monkeypatch.setenv("AIONACTORS_ENGINE__IDLE_SECONDS", "2.5")
    config = load_settings(path)
    assert config.port == 9100 and config.engine.idle_seconds == 2.5
    config = load_settings(path, {"port": 0})
    assert config.port == 0 and config.host == "0.0.0.0"


def test_environment_values_reach_the_settings(monkeypatch) -> None:
    monkeypatch.setenv("AIONACTORS_DB", "memory://")
    monkeypatch.setenv("AIONACTORS_LOAD", '["x", "y"]')
    config = load_settings()
    assert config.db == "memory://" and config.load == ["x", "y"]


def test_unknown_keys_are_rejected_with_their_name(tmp_path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load_settings(write(tmp_path, "prot = 1\n"))
    with pytest.raises(ConfigError, match=r"unknown setting 'engine\.max_residents'"):
        load_settings(write(tmp_path, "[engine]\nmax_residents = 1\n"))
    monkeypatch.setenv("AIONACTORS_TEST_POSTGRES", "postgresql://x")  # the test suite's own
    load_settings()
    monkeypatch.setenv("AIONACTORS_PROT", "1")
    with pytest.raises(ConfigError, match="AIONACTORS_PROT"):
        load_settings()
    monkeypatch.delenv("AIONACTORS_PROT")
    monkeypatch.setenv("AIONACTORS_ENGINE__NOPE", "1")
    with pytest.raises(ConfigError, match="AIONACTORS_ENGINE__NOPE"):
        load_settings()


def test_bad_values_and_files_are_explained(tmp_path) -> None:
    with pytest.raises(ConfigError, match="setting 'port'"):
        load_settings(write(tmp_path, "port = 70000\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="config file"):
        load_settings(write(tmp_path, "port = = 1\n"))
    with pytest.raises(ConfigError, match="jwt_secret, jwt_public_key_file, jwks_file or jwks_url"):
        load_settings(None, {"auth": "jwt"})
