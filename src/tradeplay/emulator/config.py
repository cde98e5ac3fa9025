"""Who may trade on the emulator and how fast its market runs: accounts, keys, speed.

Accounts come from the command line (``--account NAME:KEY:SECRET[:BALANCE]``) or from a file
(TOML, YAML or JSON, chosen by the extension)::

    # accounts.toml
    [[accounts]]
    name = "demo"            # a label for logs and errors
    api_key = "demo-key"
    api_secret = "demo-secret"
    balance = "10000"        # USDT, optional (default 10000)
    leverage = "10"          # optional: the starting leverage of every symbol (default 10)
    fee_tier = "VIP0"        # optional: Bybit's fee level (default VIP0)

Every mistake is reported with the file and the field (``accounts.toml: accounts[1].balance:
'ten' is not a number``), never with a traceback.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Final

import yaml

from tradeplay.domain.errors import ConfigError
from tradeplay.sim.fees import BYBIT_FEE_TIERS

__all__ = [
    "DEFAULT_BALANCE",
    "AccountSpec",
    "Pace",
    "ReplaySpeed",
    "index_accounts",
    "load_accounts",
    "parse_account",
]

DEFAULT_BALANCE: Final = Decimal(10_000)
DEFAULT_LEVERAGE: Final = Decimal(10)
_FIELDS: Final = frozenset({"name", "api_key", "api_secret", "balance", "leverage", "fee_tier"})


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSpec:
    """One account: its API key and secret, and what it starts with."""

    name: str
    api_key: str
    secret: str
    balance: Decimal = DEFAULT_BALANCE
    """Starting wallet balance in USDT."""
    leverage: Decimal = DEFAULT_LEVERAGE
    fee_tier: str = "VIP0"

    def __post_init__(self) -> None:
        where = f"account {self.name!r}"
        if not self.name or not self.api_key or not self.secret:
            raise ConfigError(f"{where}: name, api key and secret must not be empty")
        if not self.balance > 0:
            raise ConfigError(f"{where}: balance {self.balance} must be positive")
        if not self.leverage >= 1:
            raise ConfigError(f"{where}: leverage {self.leverage} must be at least 1")
        if self.fee_tier.upper() not in BYBIT_FEE_TIERS:
            known = ", ".join(BYBIT_FEE_TIERS)
            raise ConfigError(f"{where}: fee tier {self.fee_tier!r} is not one of {known}")


def parse_account(text: str) -> AccountSpec:
    """``NAME:KEY:SECRET[:BALANCE]`` from the command line."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise ConfigError(
            f"--account {text!r}: expected NAME:KEY:SECRET or NAME:KEY:SECRET:BALANCE, "
            "e.g. demo:my-key:my-secret:10000"
        )
    balance = _decimal(parts[3], f"--account {text!r}: balance") if len(parts) == 4 else None
    return AccountSpec(
        name=parts[0],
        api_key=parts[1],
        secret=parts[2],
        balance=DEFAULT_BALANCE if balance is None else balance,
    )


def load_accounts(path: Path) -> list[AccountSpec]:
    """Read an accounts file; errors name the file and the field."""
    data = _read(path)
    entries = data.get("accounts") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected a non-empty list 'accounts' of account tables")
    accounts = [_account(path, index, entry) for index, entry in enumerate(entries, start=1)]
    index_accounts(accounts, str(path))
    return accounts


def index_accounts(accounts: Sequence[AccountSpec], source: str) -> dict[str, AccountSpec]:
    """Accounts by API key; two accounts may not share a key or a name."""
    by_key: dict[str, AccountSpec] = {}
    names: set[str] = set()
    for account in accounts:
        if account.api_key in by_key:
            raise ConfigError(f"{source}: API key of account {account.name!r} is used twice")
        if account.name in names:
            raise ConfigError(f"{source}: account name {account.name!r} is used twice")
        by_key[account.api_key] = account
        names.add(account.name)
    return by_key


def _read(path: Path) -> object:
    if not path.is_file():
        raise ConfigError(f"{path}: no such accounts file")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        if suffix == ".json":
            return json.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from None
    raise ConfigError(f"{path}: unknown format {suffix!r}; use .toml, .yaml, .yml or .json")


def _account(path: Path, index: int, entry: object) -> AccountSpec:
    where = f"{path}: accounts[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a table with name, api_key, api_secret")
    unknown = sorted(set(map(str, entry)) - _FIELDS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}"
        )
    texts: dict[str, str] = {}
    for field in ("name", "api_key", "api_secret"):
        value = entry.get(field)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}.{field}: expected a non-empty text, got {value!r}")
        texts[field] = value
    fee_tier = entry.get("fee_tier", "VIP0")
    if not isinstance(fee_tier, str):
        raise ConfigError(f"{where}.fee_tier: expected a text such as VIP0, got {fee_tier!r}")
    balance = _decimal(entry.get("balance", DEFAULT_BALANCE), f"{where}.balance")
    leverage = _decimal(entry.get("leverage", DEFAULT_LEVERAGE), f"{where}.leverage")
    try:
        return AccountSpec(
            name=texts["name"],
            api_key=texts["api_key"],
            secret=texts["api_secret"],
            balance=balance,
            leverage=leverage,
            fee_tier=fee_tier,
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _decimal(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ConfigError(f"{where}: {value!r} is not a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: {value!r} is not a number") from None
    if not result.is_finite():
        raise ConfigError(f"{where}: {value!r} is not a finite number")
    return result


class Pace(StrEnum):
    """How the replay clock moves."""

    STEPPED = "step"
    """Only when a test (or the handle) calls ``step()``."""
    TIMED = "timed"
    """One bar every ``bar length / factor`` of real time."""
    MAX = "max"
    """As fast as the subscribers take the messages (sends wait for the sockets to drain)."""


@dataclass(frozen=True, slots=True)
class ReplaySpeed:
    """``realtime`` (×1), ``x60`` / ``60`` (×60), ``max`` or ``step``."""

    pace: Pace
    factor: float = 1.0

    @classmethod
    def parse(cls, text: str) -> ReplaySpeed:
        word = text.strip().lower()
        if word in ("step", "stepped"):
            return cls(Pace.STEPPED)
        if word in ("max", "fast"):
            return cls(Pace.MAX)
        if word in ("realtime", "real-time", "1"):
            return cls(Pace.TIMED, 1.0)
        number = word.removeprefix("x").removesuffix("x")
        try:
            factor = float(number)
        except ValueError:
            factor = -1.0
        if not 0 < factor < float("inf"):
            raise ConfigError(
                f"speed {text!r}: expected realtime, a factor such as x60, max, or step"
            )
        return cls(Pace.TIMED, factor)

    def __str__(self) -> str:
        if self.pace is Pace.TIMED:
            return "realtime" if self.factor == 1 else f"x{self.factor:g}"
        return self.pace.value
