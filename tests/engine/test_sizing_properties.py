"""Sizing invariants for any rule, account and instrument: a sized order is tradeable as it is and
never uses more leverage than the account and the margin tier allow."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tradeplay.domain.instruments_bybit import bybit_linear, bybit_linear_symbols
from tradeplay.domain.timeframe import Timeframe
from tradeplay.engine.sizing import Sized, SizeRefused, SizingRule, max_notional, size_entry
from tradeplay.play.risk import FixedNotional, Kelly, PercentEquity, RiskPercent, VolatilityTarget

money = st.decimals(min_value="0.01", max_value="5000000", places=2)
percent = st.floats(min_value=0.01, max_value=100, allow_nan=False)

rules: st.SearchStrategy[SizingRule] = st.one_of(
    money.map(lambda amount: FixedNotional(method="fixed_notional", amount=amount)),
    st.floats(min_value=0.01, max_value=10_000).map(
        lambda value: PercentEquity(method="percent_equity", percent=value)
    ),
    percent.map(lambda value: RiskPercent(method="risk_percent", percent=value)),
    st.floats(min_value=1, max_value=1000).map(
        lambda value: VolatilityTarget(method="volatility_target", annual_vol=value, lookback=20)
    ),
    st.floats(min_value=0.01, max_value=1).map(
        lambda value: Kelly(method="kelly", fraction=value, lookback=10)
    ),
)


@settings(max_examples=400, deadline=None)
@given(
    rule=rules,
    symbol=st.sampled_from(bybit_linear_symbols()),
    equity=money,
    price=st.decimals(min_value="0.0001", max_value="200000", places=4),
    stop_fraction=st.decimals(min_value="0.001", max_value="0.5", places=3),
    leverage=st.integers(min_value=1, max_value=100).map(Decimal),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_a_sized_order_is_on_the_step_above_the_minimums_and_within_leverage(
    *,
    rule: SizingRule,
    symbol: str,
    equity: Decimal,
    price: Decimal,
    stop_fraction: Decimal,
    leverage: Decimal,
    seed: int,
) -> None:
    instrument = bybit_linear(symbol)
    rng = np.random.default_rng(seed)
    decision = size_entry(
        rule,
        equity=equity,
        price=price,
        stop_price=price * (1 - stop_fraction),
        instrument=instrument,
        leverage=leverage,
        recent_returns=rng.normal(0, 0.02, 40),
        trade_returns=rng.normal(0.002, 0.02, 15),
        timeframe=Timeframe.parse("1h"),
    )
    event(type(decision).__name__)
    if isinstance(decision, SizeRefused):
        assert decision.reason
        return
    assert isinstance(decision, Sized)
    qty = decision.qty
    assert qty % instrument.qty_step == 0
    assert qty >= instrument.min_qty
    assert qty <= instrument.max_market_qty
    assert decision.notional == qty * price >= instrument.min_notional
    assert decision.notional <= leverage * equity
    assert decision.notional <= max_notional(equity, leverage, instrument)
    assert decision.notional <= equity * instrument.max_leverage_for(decision.notional)
