"""Sizing: every method's quantity from equity, price, stop and instrument, rounded down to the
step; refusals name the instrument's minimum and the arithmetic that fell short."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pytest

from tradeplay.domain.errors import InputError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import OrderType
from tradeplay.engine.sizing import (
    Sized,
    SizeDecision,
    SizeRefused,
    SizingRule,
    kelly_estimate,
    max_notional,
    size_entry,
)
from tradeplay.play.risk import FixedNotional, Kelly, PercentEquity, RiskPercent, VolatilityTarget

D = Decimal
BTC = bybit_linear("BTCUSDT")
DAY = Timeframe.parse("1d")


def fixed(amount: str) -> FixedNotional:
    return FixedNotional(method="fixed_notional", amount=D(amount))


def percent(value: float) -> PercentEquity:
    return PercentEquity(method="percent_equity", percent=value)


def risk(value: float) -> RiskPercent:
    return RiskPercent(method="risk_percent", percent=value)


def vol(annual: float, lookback: int = 30) -> VolatilityTarget:
    return VolatilityTarget(method="volatility_target", annual_vol=annual, lookback=lookback)


def kelly(**fields: Any) -> Kelly:
    return Kelly(method="kelly", **fields)


def size(
    rule: SizingRule,
    equity: str,
    price: str,
    *,
    stop: str | None = None,
    symbol: str = "BTCUSDT",
    leverage: str = "1",
    **extra: Any,
) -> SizeDecision:
    return size_entry(
        rule,
        equity=D(equity),
        price=D(price),
        stop_price=None if stop is None else D(stop),
        instrument=bybit_linear(symbol),
        leverage=D(leverage),
        **extra,
    )


class Case(NamedTuple):
    """One row of a scenario table: the rule, the account and market, what comes out."""

    rule: SizingRule
    equity: str
    price: str
    stop: str | None
    symbol: str
    leverage: str
    expected: str

    def run(self) -> SizeDecision:
        return size(
            self.rule,
            self.equity,
            self.price,
            stop=self.stop,
            symbol=self.symbol,
            leverage=self.leverage,
        )


def qty_of(decision: SizeDecision) -> Decimal:
    assert isinstance(decision, Sized), decision
    return decision.qty


# ------------------------------------------------------------------- quantities, by method


@pytest.mark.parametrize(
    "case",
    [
        # fixed notional: amount / price, down to the step
        Case(fixed("500"), "1000", "60000", None, "BTCUSDT", "1", "0.008"),
        Case(fixed("100"), "1000", "0.52", None, "XRPUSDT", "1", "192"),
        # ... capped by leverage × equity: 100 USDT at 1× is 0.001666 BTC
        Case(fixed("500"), "100", "60000", None, "BTCUSDT", "1", "0.001"),
        Case(fixed("500"), "100", "60000", None, "BTCUSDT", "10", "0.008"),
        # percent of equity is position value, not margin: 10 % of 1000 is 100 USDT notional
        Case(percent(10), "1000", "60000", None, "BTCUSDT", "1", "0.001"),
        Case(percent(10), "1000", "60000", None, "BTCUSDT", "20", "0.001"),
        Case(percent(50), "1000", "2000", None, "ETHUSDT", "1", "0.25"),
        # above 100 % the position uses leverage, and the leverage caps it
        Case(percent(250), "1000", "50000", None, "BTCUSDT", "3", "0.05"),
        Case(percent(250), "1000", "50000", None, "BTCUSDT", "2", "0.04"),
        # risk percent: equity × % / |price − stop|, the same for a long and a short stop
        Case(risk(1), "10000", "60000", "58800", "BTCUSDT", "1", "0.083"),
        Case(risk(1), "10000", "60000", "61200", "BTCUSDT", "1", "0.083"),
        Case(risk(2), "5000", "150", "145", "SOLUSDT", "5", "20"),
        # ... a tight stop wants 1.667 BTC = 100000 USDT; 3× leverage allows 30000 USDT
        Case(risk(1), "10000", "60000", "59940", "BTCUSDT", "3", "0.5"),
    ],
)
def test_each_method_sizes_to_the_step(case: Case) -> None:
    decision = case.run()
    assert qty_of(decision) == D(case.expected)
    assert isinstance(decision, Sized)
    assert decision.notional == decision.qty * D(case.price)


def test_the_explanation_shows_the_arithmetic_and_the_caps() -> None:
    decision = size(risk(1), "10000", "60000", stop="59940", leverage="3")
    assert isinstance(decision, Sized)
    assert decision.explanation == (
        "risk 1 % of 10000 USDT equity with a 0.1 % stop (59940 from 60000) gives 1.667 BTC; "
        "capped at 3× leverage: 30000 USDT notional; "
        "0.5 BTC on the step 0.001 (30000 USDT notional)"
    )


# ------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "case",
    [
        Case(
            risk(1),
            "30",
            "60000",
            "58800",
            "BTCUSDT",
            "1",
            "BTCUSDT: quantity 0.00025 is below the minimum order quantity 0.001 — risk 1 % of "
            "30 USDT equity with a 2 % stop (58800 from 60000) gives 0.00025 BTC",
        ),
        Case(
            percent(10),
            "30",
            "3000",
            None,
            "ETHUSDT",
            "1",
            "ETHUSDT: quantity 0.001 is below the minimum order quantity 0.01 — 10 % of 30 USDT "
            "equity = 3 USDT notional at 3000 gives 0.001 ETH",
        ),
        Case(
            fixed("4"),
            "1000",
            "0.1",
            None,
            "DOGEUSDT",
            "1",
            "DOGEUSDT: order value 4 USDT (qty 40 × price 0.1) is below the minimum order value "
            "5 USDT — fixed 4 USDT notional at 0.1 gives 40 DOGE",
        ),
        Case(
            risk(1),
            "1000",
            "60000",
            None,
            "BTCUSDT",
            "1",
            "risk_percent sizes against the stop, and no stop price is known",
        ),
        Case(
            risk(1),
            "1000",
            "60000",
            "60000",
            "BTCUSDT",
            "1",
            "stop 60000 equals the entry price: the risk per BTC is zero",
        ),
        Case(fixed("100"), "0", "60000", None, "BTCUSDT", "1", "equity is 0 USDT: nothing to size"),
        Case(
            fixed("100"), "-5", "60000", None, "BTCUSDT", "1", "equity is -5 USDT: nothing to size"
        ),
    ],
)
def test_a_size_that_cannot_be_traded_is_refused_with_the_reason(case: Case) -> None:
    assert case.run() == SizeRefused(case.expected)


def test_a_quantity_is_never_rounded_up_to_reach_the_minimum() -> None:
    """0.00099 BTC rounds down to 0, not up to 0.001: that would risk more than asked."""
    decision = size(fixed("59.4"), "1000", "60000")
    assert isinstance(decision, SizeRefused)
    assert decision.reason.startswith("BTCUSDT: quantity 0.00099 is below the minimum order")


def test_bad_arguments_raise() -> None:
    with pytest.raises(InputError, match=r"sizing price 0 must be > 0"):
        size(fixed("100"), "1000", "0")
    with pytest.raises(InputError, match=r"leverage 0\.5 is below 1"):
        size(fixed("100"), "1000", "100", leverage="0.5")


# ------------------------------------------------------------ leverage tiers and order size


@pytest.mark.parametrize(
    ("equity", "leverage", "expected"),
    [
        ("1000", "10", "10000"),  # far inside the first tier: equity × leverage
        ("100000", "100", "5000000"),  # 100× would be 10M: tier 2 (≤ 10M) allows 50×
        ("1000000", "100", "20000000"),  # tier 3 (≤ 20M) at 20× is the best
        ("1000000", "200", "20000000"),  # never above the instrument's own maximum
        ("0", "10", "0"),
    ],
)
def test_max_notional_follows_the_margin_tiers(equity: str, leverage: str, expected: str) -> None:
    assert max_notional(D(equity), D(leverage), BTC) == D(expected)


def test_a_large_position_never_exceeds_the_leverage_of_its_tier() -> None:
    """100× equity is asked; a position of 20M USDT sits in the 20× tier."""
    decision = size(
        percent(10_000), "1000000", "100000", leverage="100", order_type=OrderType.LIMIT
    )
    assert qty_of(decision) == D("200")
    assert BTC.max_leverage_for(D("200") * 100000) * D(1000000) >= D("200") * 100000


def test_a_market_order_is_capped_at_the_largest_market_order() -> None:
    decision = size(percent(10_000), "1000000", "100000", leverage="100")
    assert isinstance(decision, Sized)
    assert decision.qty == D("119")
    assert "capped at the largest market order 119" in decision.explanation


# ----------------------------------------------------------------------- volatility target

# 30 daily returns of ±1 %: sample std 1 % × √(30/29), a year of 365 days → 19.43 % a year.
SWINGS = np.array([0.01, -0.01] * 15)


@pytest.mark.parametrize(
    ("annual_vol", "leverage", "qty"),
    [
        (20, "5", "0.171"),  # 20 / 19.43 = 102.9 % of 10000 USDT = 10292 USDT at 60000
        (10, "5", "0.085"),  # half the target, half the position
        (100, "2", "0.333"),  # 514.6 % of equity wanted; 2× leverage caps it at 20000 USDT
    ],
)
def test_volatility_target_scales_the_notional_to_the_target(
    annual_vol: float, leverage: str, qty: str
) -> None:
    decision = size(
        vol(annual_vol),
        "10000",
        "60000",
        leverage=leverage,
        recent_returns=SWINGS,
        timeframe=DAY,
    )
    assert qty_of(decision) == D(qty)


def test_volatility_target_reads_only_the_last_lookback_returns() -> None:
    calm_then_swinging = np.concatenate([np.full(100, 0.05), SWINGS])
    decision = size(vol(20), "10000", "60000", recent_returns=calm_then_swinging, timeframe=DAY)
    assert decision == size(vol(20), "10000", "60000", recent_returns=SWINGS, timeframe=DAY)


def test_volatility_target_annualises_by_the_timeframe() -> None:
    """Hourly bars: a year has 24× more of them, so the same returns are √24× as volatile."""
    hourly = size(vol(20), "10000", "60000", recent_returns=SWINGS, timeframe=Timeframe.parse("1h"))
    assert qty_of(hourly) == D("0.035")  # 10292 / √24 = 2101 USDT


@pytest.mark.parametrize(
    ("returns", "reason"),
    [
        (None, "volatility target needs 30 bar returns, 0 are known yet"),
        (SWINGS[:29], "volatility target needs 30 bar returns, 29 are known yet"),
        (
            np.concatenate([SWINGS[:29], [np.nan]]),
            "the last 30 bar returns hold a missing or infinite value",
        ),
        (np.full(30, 0.002), "prices did not move over the last 30 bars: volatility is zero"),
    ],
)
def test_volatility_target_refuses_to_size_blind(returns: Any, reason: str) -> None:
    decision = size(vol(20), "10000", "60000", recent_returns=returns, timeframe=DAY)
    assert decision == SizeRefused(reason)


def test_volatility_target_needs_the_timeframe() -> None:
    with pytest.raises(InputError, match="needs the trading timeframe"):
        size(vol(20), "10000", "60000", recent_returns=SWINGS)


# ----------------------------------------------------------------------------------- Kelly

WIN_TWO_LOSE_ONE = [0.02, -0.01] * 25  # win rate 50 %, payoff 2: full Kelly 0.25


@pytest.mark.parametrize(
    ("rule", "trades", "qty"),
    [
        (kelly(), WIN_TWO_LOSE_ONE, "0.020"),  # 0.5 × 0.25 = 12.5 % → 1250 USDT at 60000
        (kelly(fraction=1), WIN_TWO_LOSE_ONE, "0.033"),  # 25 % capped at 20 % → 2000 USDT
        (kelly(fraction=1, cap=30), WIN_TWO_LOSE_ONE, "0.041"),  # 25 % → 2500 USDT
        (kelly(), [0.01] * 50, "0.033"),  # no loss: Kelly = win rate = 1, capped at 20 %
        (kelly(), WIN_TWO_LOSE_ONE[:49], "0.001"),  # too few trades: initial 1 % = 100 USDT
        (kelly(), None, "0.001"),
        (kelly(initial_percent=6), [], "0.010"),  # 600 USDT
        # only the last 50 trades count: 100 old losses are forgotten
        (kelly(), [-0.05] * 100 + WIN_TWO_LOSE_ONE, "0.020"),
    ],
)
def test_kelly_sizes_from_the_plays_own_trades(
    rule: Kelly, trades: list[float] | None, qty: str
) -> None:
    decision = size(rule, "10000", "60000", leverage="5", trade_returns=trades)
    assert qty_of(decision) == D(qty)


@pytest.mark.parametrize(
    ("trades", "reason"),
    [
        (
            [0.01, -0.02] * 25,
            "no edge over the last 50 trades: win rate 50 %, payoff 0.5, Kelly -0.5",
        ),
        ([-0.01] * 50, "no edge over the last 50 trades: no winning trade"),
        ([0.02, -0.02] * 25, "no edge over the last 50 trades: win rate 50 %, payoff 1, Kelly 0"),
    ],
)
def test_kelly_without_an_edge_refuses(trades: list[float], reason: str) -> None:
    assert size(kelly(), "10000", "60000", trade_returns=trades) == SizeRefused(reason)


def test_kelly_statistics() -> None:
    estimate = kelly_estimate([0.03, -0.01, 0.0, 0.01, -0.01], lookback=5)
    assert estimate is not None
    assert (estimate.trades, estimate.win_rate, estimate.payoff) == (5, 0.4, 2.0)
    assert estimate.kelly == pytest.approx(0.4 - 0.6 / 2)
    assert kelly_estimate([0.03, -0.01], lookback=5) is None


def test_kelly_refuses_a_history_with_holes() -> None:
    with pytest.raises(InputError, match="missing or infinite return"):
        size(kelly(), "10000", "60000", trade_returns=[0.01, float("nan")] * 25)
