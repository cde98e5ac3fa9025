"""Risk-check invariants for any order, position and limits: a halted or killed account opens no
risk, an order is never enlarged, and the part that closes a position always passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import Side
from tradeplay.engine.exposure import Exposure, SymbolExposure
from tradeplay.engine.risk import (
    Allow,
    Block,
    IntendedOrder,
    Reduce,
    RiskLimits,
    RiskState,
    check_entry,
)

BTC = bybit_linear("BTCUSDT")
START = datetime(2024, 5, 1, tzinfo=UTC)

steps = st.integers(min_value=1, max_value=5000).map(lambda n: n * BTC.qty_step)
prices = st.decimals(min_value="1000", max_value="100000", places=1)
optional_limit = st.none() | st.decimals(min_value="0.5", max_value="50", places=1)

limits = st.builds(
    RiskLimits,
    max_trade_risk_percent=optional_limit,
    max_symbol_exposure=optional_limit,
    max_total_exposure=optional_limit,
    max_leverage=st.none() | st.decimals(min_value="1", max_value="100", places=0),
    max_daily_loss_percent=optional_limit,
    max_drawdown_percent=optional_limit,
    kill_switch=st.booleans(),
)


@st.composite
def orders(draw: st.DrawFn) -> tuple[IntendedOrder, Exposure]:
    price = draw(prices)
    side = draw(st.sampled_from(Side))
    stop_distance = draw(st.none() | st.decimals(min_value="0.001", max_value="0.5", places=3))
    stop = None if stop_distance is None else price * (1 - side.sign * stop_distance)
    held = draw(st.integers(min_value=-3000, max_value=3000)) * BTC.qty_step
    intended = IntendedOrder(
        instrument=BTC,
        side=side,
        qty=draw(steps),
        price=price,
        time=START + timedelta(minutes=draw(st.integers(0, 3000))),
        stop_price=stop,
        leverage=Decimal(draw(st.integers(1, 100))),
        reduce_only=draw(st.booleans()),
    )
    positions = (SymbolExposure(symbol="BTCUSDT", size=held, mark_price=price),) if held else ()
    return intended, Exposure(positions)


def _closing(order: IntendedOrder, exposure: Exposure) -> Decimal:
    held = exposure.size("BTCUSDT")
    return min(order.qty, abs(held)) if held * order.side.sign < 0 else Decimal(0)


@settings(max_examples=400, deadline=None)
@given(case=orders(), risk_limits=limits, equity=st.integers(100, 1_000_000).map(Decimal))
def test_a_halted_state_never_opens_risk(
    case: tuple[IntendedOrder, Exposure], risk_limits: RiskLimits, equity: Decimal
) -> None:
    order, exposure = case
    state = RiskState.start(equity, START)
    state = RiskState(
        equity=state.equity,
        equity_peak=state.equity_peak,
        day=state.day,
        day_start_equity=state.day_start_equity,
        as_of=state.as_of,
        halted=True,
        halt_reason="trading halted: test",
    )
    verdict = check_entry(order, exposure, state, risk_limits)
    closing = _closing(order, exposure)
    if order.reduce_only or closing == order.qty:
        assert verdict == Allow(order.qty)
    elif closing:
        assert isinstance(verdict, Reduce)
        assert verdict.qty == closing
    else:
        assert isinstance(verdict, Block)
    if not risk_limits.kill_switch and not isinstance(verdict, Allow):
        assert verdict.reason.startswith("blocked: trading halted: test")


@settings(max_examples=400, deadline=None)
@given(
    case=orders(),
    risk_limits=limits,
    equity=st.integers(100, 1_000_000).map(Decimal),
    moves=st.lists(st.integers(-30, 30), max_size=5),
)
def test_an_order_is_never_enlarged_and_its_closing_part_always_passes(
    case: tuple[IntendedOrder, Exposure],
    risk_limits: RiskLimits,
    equity: Decimal,
    moves: list[int],
) -> None:
    order, exposure = case
    state = RiskState.start(equity, START)
    for hour, move in enumerate(moves, start=1):  # equity moves by a few percent an hour
        state = state.update(
            state.equity * (100 + move) / 100, START + timedelta(hours=hour), risk_limits
        )
    verdict = check_entry(order, exposure, state, risk_limits)
    closing = _closing(order, exposure)
    if isinstance(verdict, Block):
        assert closing == 0
        assert not order.reduce_only
        assert verdict.reason.startswith("blocked: ")
        return
    assert closing <= verdict.qty <= order.qty
    assert verdict.qty % BTC.qty_step == 0
    if isinstance(verdict, Reduce):
        assert verdict.qty < order.qty
        assert verdict.reason
    if state.halted or risk_limits.kill_switch:
        assert verdict.qty == closing or order.reduce_only
