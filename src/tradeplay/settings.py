"""Settings: built once at start-up and passed down; nothing reads them from a global.

Sources, strongest first: values given in code (the CLI's options), environment variables
``TRADEPLAY_*`` (e.g. ``TRADEPLAY_DATA_HOME``), a TOML config file, then the defaults below. The
config file is ``$TRADEPLAY_CONFIG`` when set, else ``tradeplay.toml`` in the per-user config
folder; a missing default file is fine, a missing file that was asked for is an error.
"""

from __future__ import annotations

import os
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tradeplay.domain.errors import ConfigError

APP_NAME = "tradeplay"
CONFIG_ENV = "TRADEPLAY_CONFIG"
_REDIS_SCHEMES: Final = ("redis", "rediss", "unix")
_URL_FIELDS: Final = frozenset({"database_url", "redis_url"})
"""Settings that may hold a password: never echoed as given."""
_QUERY_PASSWORD: Final = re.compile(r"([?&]password=)[^&#]*")


class LogFormat(StrEnum):
    """How log lines look: ``auto`` is console on a terminal and JSON otherwise."""

    auto = "auto"
    console = "console"
    json = "json"


def default_data_home() -> Path:
    """Per-user data folder (e.g. ``~/.local/share/tradeplay`` on Linux)."""
    return platformdirs.user_data_path(APP_NAME)


def default_config_file() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "tradeplay.toml"


class Settings(BaseSettings):
    """Every knob tradeplay reads. See the README for the full list."""

    model_config = SettingsConfigDict(
        env_prefix="TRADEPLAY_", extra="forbid", validate_default=True, frozen=True
    )

    data_home: Path = Field(
        default_factory=default_data_home,
        description="Folder of the candle store and, later, the state database.",
    )
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    log_format: LogFormat = Field(default=LogFormat.auto, description="auto, console or json.")
    sample_seed: int = Field(default=7, description="Seed of the generated sample market.")
    database_url: str | None = Field(
        default=None,
        description="State database (sqlite:///… or postgresql://…); SQLite in the data home.",
    )
    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis for the event bus (redis://[:password@]host:6379/0), when several processes "
            "share one; `tradeplay up` publishes its events there. In-process when unset."
        ),
    )

    @field_validator("data_home")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in _REDIS_SCHEMES:
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error"}:
            raise ValueError("expected one of debug, info, warning, error")
        return level

    @property
    def store_root(self) -> Path:
        """Folder of the Parquet candle and funding datasets."""
        return self.data_home / "candles"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file_in_use()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def _config_file_in_use() -> Path | None:
    asked = os.environ.get(CONFIG_ENV)
    if asked:
        return Path(asked).expanduser()
    default = default_config_file()
    return default if default.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once; bad values become a ConfigError naming the source and field."""
    config_file = _config_file_in_use()
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} (from {CONFIG_ENV}) does not exist")
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {config_file}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(_explain(exc, config_file)) from exc


def _explain(exc: ValidationError, config_file: Path | None) -> str:
    where = f"config file {config_file} or " if config_file else ""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(settings)"
        env_name = f"TRADEPLAY_{field.upper()}"
        given = error.get("input")
        if field in _URL_FIELDS and isinstance(given, str):
            given = without_password(given)
        problems.append(f"{field} (set in {where}{env_name}): {error['msg']}; got {given!r}")
    return "invalid settings: " + "; ".join(problems)


def without_password(url: str) -> str:
    """``url`` with any password in it (``user:password@`` or ``?password=``) shown as
    ``***``: how a URL setting appears in messages and logs."""
    try:
        password = urlsplit(url).password
    except ValueError:  # an unparsable URL may hold anything: show none of it
        return "(an unparsable URL)"
    if password:
        url = url.replace(f":{password}@", ":***@", 1)
    return _QUERY_PASSWORD.sub(r"\1***", url)
