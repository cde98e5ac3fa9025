"""Settings: built once from options, TRADEPLAY_* variables and a TOML file, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeplay.domain.errors import ConfigError
from tradeplay.settings import LogFormat, load_settings, without_password


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "TRADEPLAY_DATA_HOME",
        "TRADEPLAY_LOG_LEVEL",
        "TRADEPLAY_LOG_FORMAT",
        "TRADEPLAY_SAMPLE_SEED",
        "TRADEPLAY_CONFIG",
        "TRADEPLAY_REDIS_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))


def test_defaults_put_the_data_home_in_the_per_user_folder(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_home == tmp_path / "share" / "tradeplay"
    assert settings.store_root == settings.data_home / "candles"
    assert settings.log_format is LogFormat.auto


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRADEPLAY_DATA_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("TRADEPLAY_LOG_LEVEL", "DEBUG")
    settings = load_settings()
    assert settings.data_home == tmp_path / "elsewhere"
    assert settings.log_level == "debug"


def test_config_file_is_read_and_options_beat_environment_and_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "tp.toml"
    config.write_text('log_level = "warning"\nsample_seed = 11\ndata_home = "/from/file"\n')
    monkeypatch.setenv("TRADEPLAY_CONFIG", str(config))
    monkeypatch.setenv("TRADEPLAY_DATA_HOME", str(tmp_path / "from-env"))
    settings = load_settings(data_home=tmp_path / "from-option")
    assert settings.sample_seed == 11
    assert settings.log_level == "warning"
    assert settings.data_home == tmp_path / "from-option"


def test_a_missing_config_file_that_was_asked_for_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRADEPLAY_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match=r"nope\.toml \(from TRADEPLAY_CONFIG\) does not exist"):
        load_settings()


def test_a_bad_value_names_the_field_and_where_it_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEPLAY_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "log_level" in message
    assert "TRADEPLAY_LOG_LEVEL" in message
    assert "expected one of debug, info, warning, error" in message
    assert "'loud'" in message


def test_an_unknown_key_in_the_config_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "tp.toml"
    config.write_text("data_hoem = '/typo'\n")
    monkeypatch.setenv("TRADEPLAY_CONFIG", str(config))
    with pytest.raises(ConfigError, match="data_hoem"):
        load_settings()


def test_broken_toml_names_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "tp.toml"
    config.write_text("log_level = \n")
    monkeypatch.setenv("TRADEPLAY_CONFIG", str(config))
    with pytest.raises(ConfigError, match=r"tp\.toml: not valid TOML"):
        load_settings()


def test_the_event_bus_redis_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().redis_url is None  # events stay in the process
    monkeypatch.setenv("TRADEPLAY_REDIS_URL", "redis://:s3cret@10.0.0.5:6379/2")
    assert load_settings().redis_url == "redis://:s3cret@10.0.0.5:6379/2"


def test_a_redis_url_that_is_not_one_is_refused_without_echoing_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADEPLAY_REDIS_URL", "http://admin:s3cret@10.0.0.5:6379")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == (
        "invalid settings: redis_url (set in TRADEPLAY_REDIS_URL): Value error, expected a "
        "redis://, rediss:// or unix:// URL; got 'http://admin:***@10.0.0.5:6379'"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:s3cret@h:6379/0", "redis://:***@h:6379/0"),
        ("rediss://user:s3cret@h/1", "rediss://user:***@h/1"),
        ("unix:///run/redis.sock?password=s3cret&db=1", "unix:///run/redis.sock?password=***&db=1"),
        ("postgresql://app:s3cret@db/trading", "postgresql://app:***@db/trading"),
        ("redis://[::1:s3cret", "(an unparsable URL)"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert without_password(url) == shown
