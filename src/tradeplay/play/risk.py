"""How big a position is and how it is protected: sizing, stop loss, take profit, trailing stop.

Each is a small section chosen by its ``method`` field. Percentages are written in percent
(``percent: 2`` means 2 %). ATR distances name an ``atr`` feature of the play, or give a
``period`` and the compiler adds the ATR feature itself (period 14 when neither is given).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, Field, field_validator

from tradeplay.play.sections import Money, Number, Section, Text, Whole, custom

DEFAULT_ATR_PERIOD: Final = 14

# ---------------------------------------------------------------------------------- sizing


class FixedNotional(Section):
    """Every entry has the same notional value."""

    method: Literal["fixed_notional"]
    amount: Money = Field(gt=0, description="Notional value of each entry, in USDT. Required.")

    def describe(self) -> str:
        return f"{self.amount} USDT notional per entry"


class PercentEquity(Section):
    """Notional value as a share of the account's equity at entry."""

    method: Literal["percent_equity"]
    percent: Number = Field(
        gt=0,
        le=10_000,
        description="Notional as % of equity; above 100 uses leverage (at most 100 × leverage).",
    )

    def describe(self) -> str:
        return f"notional {self.percent:g} % of equity"


class RiskPercent(Section):
    """The position loses ``percent`` of equity if the stop loss is hit (needs a stop loss)."""

    method: Literal["risk_percent"]
    percent: Number = Field(gt=0, le=100, description="% of equity lost at the stop. Required.")

    def describe(self) -> str:
        return f"{self.percent:g} % of equity at risk to the stop"


class VolatilityTarget(Section):
    """Size so that the position's annualised volatility is ``annual_vol`` % of equity."""

    method: Literal["volatility_target"]
    annual_vol: Number = Field(
        ge=1,
        le=1000,
        description="Target annualised volatility in percent (20 = 20 % a year). Required.",
    )
    lookback: Whole = Field(
        default=30, ge=2, le=100_000, description="Trading-timeframe bars of returns measured; 30."
    )

    @field_validator("annual_vol", mode="before")
    @classmethod
    def _in_percent(cls, value: Any) -> Any:
        """0.2 almost certainly meant 20 %, not 0.2 %: refuse it rather than size tiny."""
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1:
            raise custom(
                "percent",
                f"annual_vol is in percent (20 means 20 % a year), got {value:g}; "
                f"did you mean {value * 100:g}?",
            )
        return value

    def describe(self) -> str:
        return f"volatility target {self.annual_vol:g} % a year over {self.lookback} bars"


class Kelly(Section):
    """A fraction of the Kelly bet estimated from the play's own closed trades."""

    method: Literal["kelly"]
    fraction: Number = Field(
        default=0.5, gt=0, le=1, description="Share of the full Kelly bet; 0.5."
    )
    cap: Number = Field(default=20, gt=0, le=100, description="Largest notional, % of equity; 20.")
    lookback: Whole = Field(
        default=50, ge=10, le=10_000, description="Closed trades estimated; 50."
    )
    initial_percent: Number = Field(
        default=1,
        gt=0,
        le=100,
        description="Notional % of equity until `lookback` trades exist; 1.",
    )

    def describe(self) -> str:
        return (
            f"{self.fraction:g} Kelly over the last {self.lookback} trades, "
            f"capped at {self.cap:g} % of equity"
        )


Sizing = Annotated[
    FixedNotional | PercentEquity | RiskPercent | VolatilityTarget | Kelly,
    Field(discriminator="method"),
]

# --------------------------------------------------------------------------- protections


class Off(Section):
    """No stop loss / take profit / trailing stop (write ``none``)."""

    method: Literal["none"] = "none"

    def describe(self) -> str:
        return "none"


class AtrDistance(Section):
    """A distance of ``multiple`` × ATR."""

    multiple: Number = Field(gt=0, le=100, description="ATR multiples. Required.")
    atr: Text | None = Field(default=None, description="Name of an `atr` feature of the play.")
    period: Whole | None = Field(
        default=None, ge=1, le=10_000, description="ATR period when no `atr` feature is named; 14."
    )

    @property
    def atr_period(self) -> int:
        return DEFAULT_ATR_PERIOD if self.period is None else self.period

    def describe(self) -> str:
        source = self.atr if self.atr is not None else f"ATR {self.atr_period}"
        return f"{self.multiple:g} × {source}"


class PercentStop(Section):
    method: Literal["percent"]
    percent: Number = Field(gt=0, lt=100, description="Distance from entry, %. Required.")

    def describe(self) -> str:
        return f"{self.percent:g} % from entry"


class AtrStop(AtrDistance):
    method: Literal["atr"]


class StructureStop(Section):
    """Beyond a market-structure level, e.g. ``below: swing.last_low``."""

    method: Literal["structure"]
    below: Text | None = Field(
        default=None, description="Column under which longs stop; needed by longs."
    )
    above: Text | None = Field(
        default=None, description="Column over which shorts stop; needed by shorts."
    )
    buffer_percent: Number = Field(
        default=0, ge=0, lt=50, description="Extra distance beyond, %; 0."
    )

    def describe(self) -> str:
        sides = [
            f"below {self.below}" if self.below else "",
            f"above {self.above}" if self.above else "",
        ]
        buffer = f" with {self.buffer_percent:g} % buffer" if self.buffer_percent else ""
        return " / ".join(side for side in sides if side) + buffer


class PercentTarget(Section):
    method: Literal["percent"]
    percent: Number = Field(gt=0, le=10_000, description="Distance from entry, %. Required.")

    def describe(self) -> str:
        return f"{self.percent:g} % from entry"


class AtrTarget(AtrDistance):
    method: Literal["atr"]


class RiskRewardTarget(Section):
    """``multiple`` times the distance to the stop loss (needs a stop loss)."""

    method: Literal["risk_reward"]
    multiple: Number = Field(gt=0, le=100, description="Reward per unit of risk. Required.")

    def describe(self) -> str:
        return f"{self.multiple:g} × the stop distance"


class PercentTrailing(Section):
    method: Literal["percent"]
    percent: Number = Field(gt=0, lt=100, description="Distance behind the best price, %.")
    activation_percent: Number = Field(
        default=0, ge=0, le=10_000, description="Profit, %, before trailing starts; 0 = at once."
    )

    def describe(self) -> str:
        return f"{self.percent:g} % behind the best price{_activation(self.activation_percent)}"


class AtrTrailing(AtrDistance):
    method: Literal["atr"]
    activation_percent: Number = Field(
        default=0, ge=0, le=10_000, description="Profit, %, before trailing starts; 0 = at once."
    )

    def describe(self) -> str:
        return f"{AtrDistance.describe(self)} behind the best price" + _activation(
            self.activation_percent
        )


def _activation(percent: float) -> str:
    return f", from {percent:g} % profit" if percent else ""


def _off_shorthand(value: Any) -> Any:
    """``stop_loss: none`` (or an empty value) means ``{method: none}``."""
    return {"method": "none"} if value is None or value == "none" else value


StopLoss = Annotated[
    Off | PercentStop | AtrStop | StructureStop,
    Field(discriminator="method"),
    BeforeValidator(_off_shorthand),
]
TakeProfit = Annotated[
    Off | PercentTarget | AtrTarget | RiskRewardTarget,
    Field(discriminator="method"),
    BeforeValidator(_off_shorthand),
]
TrailingStop = Annotated[
    Off | PercentTrailing | AtrTrailing,
    Field(discriminator="method"),
    BeforeValidator(_off_shorthand),
]

METHODS: Final = {
    "sizing": ("fixed_notional", "percent_equity", "risk_percent", "volatility_target", "kelly"),
    "stop_loss": ("none", "percent", "atr", "structure"),
    "take_profit": ("none", "percent", "atr", "risk_reward"),
    "trailing_stop": ("none", "percent", "atr"),
}
"""The ``method`` values of each section, for messages."""

DEFAULT_SIZING: Final = PercentEquity(method="percent_equity", percent=10)
