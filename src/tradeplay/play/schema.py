"""The play file's schema (version 1): every field, its type and its documented default.

Checks that need one field only live here (types, ranges, known symbols); checks across fields
and against the feature registry live in :mod:`tradeplay.play.compiler`, which reports all of
them at once with file and line.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from tradeplay.domain.errors import InputError
from tradeplay.domain.instruments_bybit import bybit_linear, bybit_linear_symbols
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import MarginMode
from tradeplay.play.errors import did_you_mean
from tradeplay.play.risk import (
    DEFAULT_SIZING,
    Off,
    Sizing,
    StopLoss,
    TakeProfit,
    TrailingStop,
)
from tradeplay.play.sections import Money, Section, Text, TimeframeField, custom, shown

SCHEMA_VERSION: Final = 1
MAX_RULES: Final = 16
"""Rules in one list (they are joined with ``and``)."""


class Environment(StrEnum):
    """Rungs of the ladder a play may be deployed to."""

    BACKTEST = "backtest"
    SHADOW = "shadow"
    PAPER = "paper"
    DEMO = "demo"
    TESTNET = "testnet"
    LIVE = "live"


FeeTier = Literal[
    "base", "vip1", "vip2", "vip3", "vip4", "vip5", "pro1", "pro2", "pro3", "pro4", "pro5", "pro6"
]


def _rules(value: Any) -> tuple[str, ...]:
    """One rule, or a list of rules that must all hold."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        if len(value) > MAX_RULES:
            raise custom("rule_count", f"at most {MAX_RULES} rules in a list, got {len(value)}")
        return tuple(value)
    raise custom(
        "rule_type",
        f"expected a rule (text) or a list of rules that must all hold, got {shown(value)}",
    )


def _present(value: Any) -> Any:
    """An empty section is almost always a mistake: refuse it rather than ignore it."""
    if value is None:
        raise custom("empty", "is empty; write the rules or remove the section")
    return value


Rules = Annotated[tuple[str, ...], BeforeValidator(_rules)]


class SideRules(Section):
    """Entry and exit rules of one side (``long`` or ``short``)."""

    entry: Rules | None = Field(
        default=None,
        description="Condition that opens a position on the bar's close; none = never.",
    )
    exit: Rules | None = Field(
        default=None,
        description="Condition that closes the position; none = only stops/targets/holding.",
    )


class FeatureDecl(Section):
    """A feature: ``fast: {kind: ema, period: 12}``; parameters are written inline."""

    kind: Text = Field(description="Feature kind, e.g. ema, rsi, bbands. Required.")
    timeframe: TimeframeField | None = Field(
        default=None,
        description="Timeframe it is computed on; the trading timeframe when left out.",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Every other key: the kind's parameters."
    )

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        """Keys other than ``kind`` and ``timeframe`` are parameters, checked by the compiler."""
        if not isinstance(data, dict):
            return data
        own = {key: data[key] for key in ("kind", "timeframe") if key in data}
        params = {key: value for key, value in data.items() if key not in own}
        return {**own, "params": params}


class Account(Section):
    """The money a deployment trades with."""

    capital: Money = Field(
        default=Decimal(10_000), gt=0, description="Starting equity, USDT; 10000."
    )
    leverage: Money = Field(
        default=Decimal(1),
        ge=1,
        le=200,
        description="Leverage set on the venue; 1 (no more than the instrument allows).",
    )
    margin_mode: MarginMode = Field(
        default=MarginMode.ISOLATED, description="isolated or cross; isolated."
    )
    fee_tier: FeeTier = Field(default="base", description="Bybit fee tier; base (non-VIP).")


def _symbol(value: Any) -> str:
    if not isinstance(value, str):
        raise custom("symbol", f"expected a symbol such as BTCUSDT, got {shown(value)}")
    try:
        return bybit_linear(value).symbol
    except InputError:
        known = bybit_linear_symbols()
        hint = did_you_mean(value.strip().upper(), known)
        raise custom(
            "symbol", f"unknown Bybit linear symbol {value!r}{hint}; known: {', '.join(known)}"
        ) from None


def _holding(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str):
        try:
            Timeframe.parse(value)
        except InputError:
            pass
        else:
            return value.strip()
    raise custom(
        "holding",
        f"expected a number of bars ≥ 1 or a duration such as 12h or 3d, got {shown(value)}",
    )


Symbol = Annotated[str, BeforeValidator(_symbol)]
Holding = Annotated[int | str, BeforeValidator(_holding)]


class Play(Section):
    """A strategy file. See ``plays/README.md`` for the reference with examples."""

    schema_version: Literal[1] = Field(description="Version of this format; 1. Required.")
    name: Text = Field(
        min_length=1, max_length=120, description="Display name; the file name when left out."
    )
    description: Text = Field(default="", description="Free text for people.")
    symbol: Symbol | None = Field(default=None, description="The instrument, e.g. BTCUSDT.")
    symbols: tuple[Symbol, ...] | None = Field(
        default=None,
        min_length=1,
        description="Several instruments, each traded alone (or `symbol`).",
    )
    timeframe: TimeframeField = Field(description="Trading timeframe: rules run at its closes.")
    timeframes: tuple[TimeframeField, ...] = Field(
        default=(),
        description="Larger timeframes also loaded, whole multiples of `timeframe`; none.",
    )
    features: dict[str, FeatureDecl] = Field(default_factory=dict, description="By name.")
    long: Annotated[SideRules | None, BeforeValidator(_present)] = Field(
        default=None, description="Rules of long positions; none = never long."
    )
    short: Annotated[SideRules | None, BeforeValidator(_present)] = Field(
        default=None, description="Rules of short positions; none = never short."
    )
    sizing: Sizing = Field(default=DEFAULT_SIZING, description="Position size; percent_equity 10.")
    stop_loss: StopLoss = Field(default=Off(), description="Protective stop; none.")
    take_profit: TakeProfit = Field(default=Off(), description="Profit target; none.")
    trailing_stop: TrailingStop = Field(default=Off(), description="Trailing stop; none.")
    max_holding: Holding | None = Field(
        default=None, description="Close after this many bars, or this long (e.g. 3d); no limit."
    )
    account: Account = Field(default=Account(), description="Capital and leverage.")
    environments: tuple[Environment, ...] = Field(
        default=(Environment.BACKTEST,),
        min_length=1,
        description="Where it may be deployed; backtest.",
    )

    @field_validator("environments")
    @classmethod
    def _distinct(cls, value: tuple[Environment, ...]) -> tuple[Environment, ...]:
        repeated = sorted({env for env in value if value.count(env) > 1})
        if repeated:
            raise custom("repeated", f"{', '.join(repeated)} is listed more than once")
        return value

    @property
    def instruments(self) -> tuple[str, ...]:
        """The symbols traded, from ``symbol`` or ``symbols``."""
        if self.symbols:
            return self.symbols
        return (self.symbol,) if self.symbol else ()

    @property
    def loaded_timeframes(self) -> tuple[Timeframe, ...]:
        """The trading timeframe first, then the larger ones."""
        return (self.timeframe, *self.timeframes)
